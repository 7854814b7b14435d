namespace XcrCluster.Domain.Vm;

/// <summary>Rate and time left per transfer lane (run, VM, disk, SR) from the samples a listener has seen: bytes
/// over the last few seconds (a window, so a stall shows soon), time left at that rate. Pure; one per listener.</summary>
public sealed class ProgressRates
{
    /// <summary>The rate is measured over at least this long once the lane has been seen that long.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    private readonly Dictionary<(string Run, string Vm, string? Disk, string? Sr), (Sample Anchor, Sample Last)> lanes = [];

    private readonly record struct Sample(long Bytes, DateTimeOffset At);

    /// <summary>Bytes per second and seconds left for this sample's lane; null until two samples apart in time.
    /// A lane that reached its total is forgotten.</summary>
    public (double? BytesPerSecond, double? EtaSeconds) Observe(RunProgress p)
    {
        var key = (p.RunId, p.VmUuid, p.Disk, p.Sr);
        var now = new Sample(p.Bytes, p.At);
        if (!lanes.TryGetValue(key, out var lane) || p.Bytes < lane.Last.Bytes)
        {
            lane = (now, now); // first sample, or the disk started over
        }
        else if (now.At - lane.Anchor.At > Window)
        {
            lane.Anchor = lane.Last;
        }

        lane.Last = now;
        if (p.Total > 0 && p.Bytes >= p.Total)
        {
            lanes.Remove(key);
        }
        else
        {
            lanes[key] = lane;
        }

        var seconds = (now.At - lane.Anchor.At).TotalSeconds;
        if (seconds <= 0)
        {
            return (null, null);
        }

        var rate = (now.Bytes - lane.Anchor.Bytes) / seconds;
        return (rate, rate > 0 ? Math.Max(0, p.Total - p.Bytes) / rate : null);
    }

    /// <summary>The VM's part of the run ended: its lanes are dropped (a failed disk never reaches its total).</summary>
    public void Forget(string runId, string vmUuid)
    {
        foreach (var key in lanes.Keys.Where(k => k.Run == runId && k.Vm == vmUuid).ToList())
        {
            lanes.Remove(key);
        }
    }
}

/// <summary>Which VMs of a run are still going, as a tail of the run follows it: the statuses in the books to
/// start with (<see cref="ReplicatedVmState.StatusOf"/>), then <see cref="RunEnded"/> messages or later reads of
/// the books, whichever tells first. Pure.</summary>
public sealed class RunTail
{
    private readonly Dictionary<string, string?> vms;

    /// <param name="statuses">Each VM of the run with its status: running or queued while it goes.</param>
    public RunTail(string runId, IEnumerable<KeyValuePair<string, string>> statuses)
    {
        RunId = runId;
        vms = statuses.ToDictionary(s => s.Key, s => IsGoing(s.Value) ? null : s.Value, StringComparer.Ordinal);
    }

    public string RunId { get; }

    public IEnumerable<string> Going => vms.Where(v => v.Value is null).Select(v => v.Key);

    /// <summary>Every VM of the run with its final status, in no particular order (only the ended ones).</summary>
    public IEnumerable<KeyValuePair<string, string>> Ended => vms.Where(v => v.Value is not null).Select(v => KeyValuePair.Create(v.Key, v.Value!));

    public bool IsOver => vms.Values.All(s => s is not null);

    /// <summary>Records how a VM ended; false when it was not going (already known, or not part of the run).</summary>
    public bool End(string vmUuid, string status)
    {
        if (IsGoing(status) || !vms.TryGetValue(vmUuid, out var known) || known is not null)
        {
            return false;
        }

        vms[vmUuid] = status;
        return true;
    }

    private static bool IsGoing(string status) => status is "running" or "queued";
}
