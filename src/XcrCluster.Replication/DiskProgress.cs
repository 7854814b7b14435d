using XcrCluster.Domain.Vm;

namespace XcrCluster.Replication;

/// <summary>The progress of one disk's export to its targets, reported as the run's own <see cref="RunProgress"/> samples
/// (<paramref name="run"/> stamped with the disk, the SR, the bytes and the time): one <see cref="Lane"/> per target SR,
/// each reporting at most every <see cref="Interval"/> (and always when it reaches the total).</summary>
public sealed class DiskProgress(IProgress<RunProgress> sink, RunProgress run, string disk, string diskName,
    IReadOnlyList<(string Uuid, string Name)> srs,
    TimeProvider? time = null)
{
    /// <summary>At most 4 reports a second per disk and target.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly TimeProvider clock = time ?? TimeProvider.System;

    /// <summary>Once the export's BAT is read the total is known: every lane reports 0 of it, and gets its meter.</summary>
    public Lane[] Start(long total)
    {
        var lanes = new Lane[srs.Count];
        for (var i = 0; i < lanes.Length; i++)
        {
            lanes[i] = new Lane(this, srs[i], total);
            Report(srs[i], 0, total);
        }

        return lanes;
    }

    private void Report((string Uuid, string Name) sr, long bytes, long total)
        => sink.Report(run with { Disk = disk, DiskName = diskName, Sr = sr.Uuid, SrName = sr.Name, Bytes = bytes, Total = total,
            Phase = RunPhase.Export,
            At = clock.GetUtcNow() });

    /// <summary>Counts one target's blocks. Called from that target's stream stage only (one thread at a time), so
    /// it needs no lock; per block it adds and reads the clock, nothing more.</summary>
    public sealed class Lane
    {
        private readonly DiskProgress owner;
        private readonly (string Uuid, string Name) sr;
        private readonly long total;
        private long bytes;
        private long last;

        internal Lane(DiskProgress owner, (string Uuid, string Name) sr, long total)
        {
            this.owner = owner;
            this.sr = sr;
            this.total = total;
            last = owner.clock.GetTimestamp();
        }

        public void Add(int size)
        {
            bytes += size;
            var now = owner.clock.GetTimestamp();
            if (bytes >= total || owner.clock.GetElapsedTime(last, now) >= Interval)
            {
                last = now;
                owner.Report(sr, bytes, total);
            }
        }
    }
}
