using System.Collections.Concurrent;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>A run's progress reports: phases in order, and per disk and target SR bytes that reach the export's
/// total, at most 4 reports a second however many blocks go by.</summary>
public sealed class ProgressTests
{
    private sealed class Recorder : IProgress<RunProgress>
    {
        public ConcurrentQueue<(RunProgress Sample, DateTimeOffset At)> Reports { get; } = new();

        public void Report(RunProgress value) => Reports.Enqueue((value, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Each_disk_reports_up_to_its_total_to_every_target_and_is_throttled()
    {
        // Disks full of data, so each export has many blocks, sent slowly enough for several reports per disk.
        var fixture = SimHost.SmallFixture with
        {
            Vms = [new FixtureVm("big01", Disks: [new FixtureDisk(128L << 20, Fill: new DiskFill("random", 7, 1)), new FixtureDisk(64L << 20, Fill: new DiskFill("random", 8, 1))])],
        };
        await using var pools = await TwoPools.StartAsync(o => o with { Fixture = fixture });
        var vm = await pools.SourceVmAsync("big01");
        pools.SourceSim.Pool.Faults.ExportBytesPerSecond = 64L << 20; // 1 s and 0.5 s
        var recorder = new Recorder();
        var targets = new[] { await pools.TargetAsync("Local storage"), await pools.TargetAsync("Second storage") };
        var replication = new VmReplication(pools.Source, targets, TwoPools.Job, new ReplicationSettings(), pools.Materializer)
        {
            Progress = recorder, RunId = "run-1",
        };
        var report = await replication.RunAsync(vm.Uuid).WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(report.Status == RunStatus.Success, report.Error);

        var reports = recorder.Reports.ToList();
        var phases = reports.Select(r => r.Sample.Phase).Distinct().ToList();
        Assert.Equal([RunPhase.Snapshot, RunPhase.Export, RunPhase.Commit, RunPhase.Done], phases);
        Assert.Equal(RunPhase.Done, reports[^1].Sample.Phase);

        // The run's own samples (one model to the API), and the snapshot milestone names what the run made on the source.
        Assert.All(reports, r => Assert.Equal(("run-1", TwoPools.Job.JobId, vm.Uuid), (r.Sample.RunId, r.Sample.JobId, r.Sample.VmUuid)));
        Assert.Equal(report.SourceSnapshotUuid, Assert.Single(reports, r => r.Sample.Snapshot is not null).Sample.Snapshot);
        Assert.Equal(targets.Select(t => t.SrUuid).Order(), reports.Where(r => r.Sample.Phase == RunPhase.Commit).Select(r => r.Sample.Sr!).Order());

        // Names for people beside the uuids: the VM's on every sample (each comes after the source VM is read), the SR's on
        // every sample of one SR.
        Assert.All(reports, r => Assert.Equal("big01", r.Sample.VmName));
        var srNames = new Dictionary<string, string> { [targets[0].SrUuid] = "Local storage", [targets[1].SrUuid] = "Second storage" };
        Assert.All(reports.Where(r => r.Sample.Sr is not null), r => Assert.Equal(srNames[r.Sample.Sr!], r.Sample.SrName));
        Assert.Contains(reports, r => r.Sample is { Phase: RunPhase.Commit, SrName: "Second storage" });

        var live = (await pools.Source.DisksAsync(vm)).Select(d => d.Vdi.Uuid).Order().ToList();
        var lanes = reports.Where(r => r.Sample.Phase == RunPhase.Export).GroupBy(r => (r.Sample.Disk, r.Sample.Sr)).ToList();
        Assert.Equal(live.Count * targets.Length, lanes.Count);
        Assert.Equal(live, lanes.Select(l => l.Key.Disk!).Distinct().Order());
        foreach (var lane in lanes)
        {
            var samples = lane.ToList();
            var total = samples[0].Sample.Total;
            Assert.True(total > 0);
            Assert.Equal(0, samples[0].Sample.Bytes);
            Assert.Equal(total, samples[^1].Sample.Bytes);
            Assert.All(samples, s => Assert.Equal(total, s.Sample.Total));
            Assert.Equal(samples.Select(s => s.Sample.Bytes).Order(), samples.Select(s => s.Sample.Bytes)); // never backwards
            Assert.True(samples.Count >= 3, $"{samples.Count} reports for {lane.Key} (total {total}, {(samples[^1].At - samples[0].At).TotalSeconds:F2} s: {string.Join(",", samples.Select(s => s.Sample.Bytes))}): the export was meant to take half a second or more");

            // Throttled: far fewer reports than blocks, and at most 4 a second (the first and last come on top).
            var blocks = total / ((2 << 20) + 512);
            Assert.True(samples.Count <= blocks / 3, $"{samples.Count} reports for {blocks} blocks");
            var seconds = (samples[^1].At - samples[0].At).TotalSeconds;
            Assert.True(samples.Count <= 2 + (4 * Math.Ceiling(seconds)) + 1, $"{samples.Count} reports in {seconds:F2} s");
        }

        // The totals are the blocks each target received: its VHD streams less their headers, BATs and footers.
        foreach (var (target, outcome) in targets.Zip(report.Targets))
        {
            Assert.InRange(outcome.BytesSent - lanes.Where(l => l.Key.Sr == target.SrUuid).Sum(l => l.Last().Sample.Total), 1, live.Count * (1L << 20));
        }
    }
}
