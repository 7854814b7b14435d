using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace XcrCluster.Bench;

/// <summary>Where a run's time went, from the node's own books: per VM the wait between the run's launch and its start
/// (queued behind other VMs, slots), its execution, and each named line of its task log (start to end).</summary>
internal sealed record RunStages(TimeSpan Wall, int Vms, int Succeeded, int Full, IReadOnlyList<TimeSpan> Waits,
    IReadOnlyList<TimeSpan> Executions, IReadOnlyDictionary<string, IReadOnlyList<TimeSpan>> Lines, string? FirstError)
{
    /// <summary>VMs that did not accept the run (e.g. their entity did not answer in time), and the first reason.</summary>
    public int Refused { get; init; }

    public string? RefusedReason { get; init; }

    /// <summary>VMs running at once on average: the executions' sum over the wall time.</summary>
    public double Concurrency => Executions.Sum(e => e.TotalSeconds) / Wall.TotalSeconds;

    public static async Task<RunStages> ReadAsync(ControlNode api, string jobId, string runId, TimeSpan wall)
    {
        var run = await api.GetAsync($"/api/jobs/{jobId}/runs/{runId}");
        var launched = run["started"]!.GetValue<DateTimeOffset>();
        var vms = run["vms"]!.AsArray().Select(v => v!).ToList();
        var lines = new Dictionary<string, List<TimeSpan>>(StringComparer.Ordinal);
        foreach (var line in vms.SelectMany(v => v["log"]?.AsArray() ?? []).Select(l => l!))
        {
            // One stage per kind of line: "transfer gen-00042 disk 0" counts as "transfer gen-# disk #".
            var name = Regex.Replace(line["name"]!.GetValue<string>(), "[0-9]+", "#");
            var took = line["end"]!.GetValue<DateTimeOffset>() - line["start"]!.GetValue<DateTimeOffset>();
            (lines.TryGetValue(name, out var list) ? list : lines[name] = []).Add(took);
        }

        var records = (await api.GetAsync($"/api/runs?job={jobId}")).AsArray().Select(r => r!)
            .Where(r => r["id"]!.GetValue<string>() == runId).ToList();
        return new RunStages(wall, vms.Count,
            vms.Count(v => v["status"]!.GetValue<string>() == "success"),
            vms.Count(v => v["full"]?.GetValue<bool>() == true),
            [.. records.Select(r => r["started"]!.GetValue<DateTimeOffset>() - launched)],
            [.. records.Select(r => r["finished"]!.GetValue<DateTimeOffset>() - r["started"]!.GetValue<DateTimeOffset>())],
            lines.ToDictionary(p => p.Key, p => (IReadOnlyList<TimeSpan>)p.Value, StringComparer.Ordinal),
            vms.Select(v => v["error"]?.GetValue<string>()).FirstOrDefault(e => e is not null));
    }
}

/// <summary>One cluster size's measurement: the full run, the run with empty deltas, the simulators' calls during the
/// latter (calls, serving and waiting seconds per method, both pools, and their busy time), each node's peak RSS; or why
/// it could not be measured.</summary>
internal sealed record ControlResult(int Nodes, int Vms, RunStages? FullRun, RunStages? EmptyRun,
    SimCalls Sim, IReadOnlyList<(string Node, long PeakRss)> PeakRss, string? Error)
{
    public static ControlResult Failed(int nodes, int vms, string error) => new(nodes, vms, null, null, SimCalls.None, [], error);

    public IReadOnlyDictionary<string, MethodCalls> Calls => Sim.Methods;

    /// <summary>The simulators' own time for the run with empty deltas: their busy time (calls served at once by one
    /// simulator counted once, long polls' waits not at all).</summary>
    public double SimulatorSeconds => Sim.BusySeconds;

    public double WallMsPerVm => EmptyRun!.Wall.TotalMilliseconds / Vms;

    public double SimulatorMsPerVm => SimulatorSeconds * 1000 / Vms;

    public double OverheadMsPerVm => WallMsPerVm - SimulatorMsPerVm;

    /// <summary>CPU time every node used during the run with empty deltas.</summary>
    public TimeSpan NodeCpu { get; init; }

    /// <summary>CPU time both simulators used during the run with empty deltas.</summary>
    public TimeSpan SimulatorCpu { get; init; }

    /// <summary>The one-VM-at-a-time sample, where the goal's overhead is measured without overlapping calls.</summary>
    public SerialResult? Serial { get; init; }
}

/// <summary>The sample run with concurrency 1 and empty deltas: its wall time, the simulators' busy time (the run's calls
/// come one at a time; a mirror's event.from beside one counts once, its wait for a change not at all), and the nodes'
/// CPU time.</summary>
internal sealed record SerialResult(int Vms, RunStages Run, SimCalls Sim, TimeSpan NodeCpu)
{
    public double SimulatorSeconds => Sim.BusySeconds;

    /// <summary>The calls' serving times added up (waits left out): above the busy time by what calls served at once share.</summary>
    public double ServingMsPerVm => Sim.Methods.Values.Sum(c => c.Seconds) * 1000 / Vms;

    public double WallMsPerVm => Run.Wall.TotalMilliseconds / Vms;

    public double SimulatorMsPerVm => SimulatorSeconds * 1000 / Vms;

    public double OverheadMsPerVm => WallMsPerVm - SimulatorMsPerVm;
}
