using XcrCluster.Domain.Vm;
using Xunit.Abstractions;
using XcrCluster.Domain;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>
/// Each simulator fault at each phase of a run (snapshot, export, import, commit step, retention). After every
/// trial: nothing half-visible or unexplained on either pool, the source VM's blocked operations as before; then
/// the next run is a delta whose restore point equals its source snapshot. docs/reliability.md lists the matrix.
/// </summary>
public sealed class FaultMatrixTests(ITestOutputHelper output)
{
    private static async Task<(TwoPools Pools, string Vm, TargetSpec Target, Dictionary<string, string> Blocked)> StartAsync()
    {
        var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("db01");
        var target = await pools.TargetAsync();
        var first = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        return (pools, vm.Uuid, target, new Dictionary<string, string>(vm.BlockedOperations));
    }

    public static TheoryData<string> EarlyEnds => ["clean close", "reset", "http 500", "task fails", "task cancelled", "malformed reply",
        "snapshot fails", "sr full", "import reset"];

    [Theory]
    [MemberData(nameof(EarlyEnds))]
    public async Task Every_early_end_of_a_run_undoes_it_and_the_next_run_is_an_exact_delta(string fault)
    {
        var (pools, vm, target, blocked) = await StartAsync();
        await using var _ = pools;
        GuestWorkload.Write(pools.SourceSim.Pool, vm, 0, 4, 3);
        Apply(fault, pools.SourceSim.Pool.Faults, pools.TargetSim.Pool.Faults);
        var failed = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm);
        Assert.Equal(RunStatus.Failed, failed.Status);
        output.WriteLine($"{fault}: {failed.Error}");
        pools.SourceSim.Pool.Faults.Clear();
        pools.TargetSim.Pool.Faults.Clear();
        await PoolInvariants.AssertCleanAsync(pools, vm, blocked);
        await PoolInvariants.AssertNextRunIsExactDeltaAsync(pools, vm, target);
    }

    /// <summary>Exports end by closing the connection as XAPI's do (the simulator's default), so a body cut short ends
    /// cleanly: only the VHD itself tells it is short.</summary>
    private static void Apply(string fault, Faults source, Faults target)
    {
        switch (fault)
        {
            case "clean close": source.CloseExportAfterBytes = 3 << 20; break;
            case "reset": source.ResetExportAfterBytes = 3 << 20; break;
            case "http 500": source.ExportStatus500 = true; break;
            case "task fails": source.FailExportTask = true; break;
            case "task cancelled": source.CancelExportAfterBytes = 3 << 20; break;
            case "malformed reply": target.MalformedReplyTo("task.get_record"); break; // the first import's task, read back
            case "snapshot fails": source.FailCall("VM.snapshot"); break;
            case "sr full": target.SrFull = true; break;
            case "import reset": target.ResetImportAfterBytes = 3 << 20; break;
            default: throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    [Fact]
    public async Task A_delta_the_source_cannot_compute_falls_back_to_a_full_for_that_disk_with_the_reason()
    {
        var (pools, vm, target, blocked) = await StartAsync();
        await using var _ = pools;
        GuestWorkload.Write(pools.SourceSim.Pool, vm, 0, 2, 4);
        pools.SourceSim.Pool.Faults.FailDeltaExports = true;
        var run = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        Assert.True(run.Full);
        Assert.Equal(FullReason.DeltaNotComputable, Assert.Single(run.Bases).Reason);
        Assert.Contains(run.Log, l => l.Status == "warning" && l.Message!.Contains("can't compute delta", StringComparison.Ordinal));
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, run);
        pools.SourceSim.Pool.Faults.Clear();
        await PoolInvariants.AssertCleanAsync(pools, vm, blocked);
        await PoolInvariants.AssertNextRunIsExactDeltaAsync(pools, vm, target);
    }

    /// <summary>Every call that changes the target pool during a delta run — the disks' preparation, each step of the
    /// commit, retention — fails in turn (the simulator's "fail the Nth call of METHOD").</summary>
    [Fact]
    public async Task A_failure_at_any_target_step_leaves_the_previous_state_or_the_new_one()
    {
        var (pools, vm, target, blocked) = await StartAsync();
        await using var _ = pools;
        var steps = await TargetStepsAsync(pools, vm, target);
        Assert.Contains(steps, s => s.Method == "VM.snapshot");
        Assert.Contains(steps, s => s.Method == "VBD.create");
        var outcomes = new Dictionary<string, int>();
        foreach (var (method, nth) in steps)
        {
            GuestWorkload.Write(pools.SourceSim.Pool, vm, 0, 2, nth);
            pools.TargetSim.Pool.Faults.FailCall(method, nth);
            var run = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm);
            outcomes[run.Status.ToString()] = outcomes.GetValueOrDefault(run.Status.ToString()) + 1;
            pools.TargetSim.Pool.Faults.Clear();
            try
            {
                await PoolInvariants.AssertCleanAsync(pools, vm, blocked);
                await PoolInvariants.AssertNextRunIsExactDeltaAsync(pools, vm, target);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"call {nth} of {method} failing ({run.Status}: {run.Error}): {e.Message}");
            }
        }

        output.WriteLine($"{steps.Count} target steps failed in turn: {string.Join(", ", outcomes.Select(o => $"{o.Value} {o.Key}"))}");
    }

    /// <summary>The calls that change the target pool in one delta run, as (method, nth) pairs.</summary>
    private static async Task<List<(string Method, int Nth)>> TargetStepsAsync(TwoPools pools, string vm, TargetSpec target)
    {
        GuestWorkload.Write(pools.SourceSim.Pool, vm, 0, 2, 1);
        var before = pools.TargetSim.Pool.Stats.CallCounts();
        var run = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        var after = pools.TargetSim.Pool.Stats.CallCounts();
        return [.. after.Where(p => Changes(p.Key))
            .SelectMany(p => Enumerable.Range(1, (int)(p.Value - before.GetValueOrDefault(p.Key))).Select(n => (p.Key, n)))
            .OrderBy(s => s.Key, StringComparer.Ordinal).ThenBy(s => s.n)];
    }

    private static bool Changes(string method)
    {
        var name = method[(method.IndexOf('.') + 1)..];
        return !name.StartsWith("get_", StringComparison.Ordinal) && !method.StartsWith("event.", StringComparison.Ordinal)
            && !method.StartsWith("task.", StringComparison.Ordinal) && !method.StartsWith("session.", StringComparison.Ordinal);
    }
}
