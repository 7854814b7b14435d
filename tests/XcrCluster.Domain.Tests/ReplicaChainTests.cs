using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>The VM entity's chains: advanced by runs, reconciled with what the pools hold, each difference named.</summary>
public sealed class ReplicaChainTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly ChainKey Key = new(new JobId("job"), new ScheduleId("job-schedule"), new SrId("sr-1"));

    private static ReplicateVm Request(string run, int retention = 2)
        => new("vm", run, "a", new JobRef("job", "job name", "job-schedule", "hourly"), [new TargetRef("b", "sr-1")],
            new ReplicationSettings { CopyRetention = retention });

    private static RunResult Success(string run, string point, bool full = false, string snapshot = "snap")
        => new(run, RunStatus.Success, null, full, snapshot, [new TargetResult("sr-1", true, null, "replica", point, 100)],
            [new LogLine("snapshot", "success", T0, T0, null, null, null)]);

    private static ReplicatedVmState Apply(ReplicatedVmState state, IEnumerable<IReplicatedVmEvent> events)
        => events.Aggregate(state, (s, e) => s.Apply(e));

    /// <summary>Runs a request to its end with the given result; returns the state and the events of its end.</summary>
    private static (ReplicatedVmState State, IReadOnlyList<IReplicatedVmEvent> Events) Run(ReplicatedVmState state, ReplicateVm request,
        RunResult result, DateTimeOffset at)
    {
        state = Apply(state, state.Process(request, at).Events);
        var events = state.Finish(result, at);
        return (Apply(state, events), events);
    }

    private static ReplicatedVmState ThreeRuns(int retention = 3)
    {
        var state = new ReplicatedVmState { VmUuid = "vm" };
        state = Run(state, Request("r1", retention), Success("r1", "rp-1", full: true, snapshot: "snap-1"), T0).State;
        state = Run(state, Request("r2", retention), Success("r2", "rp-2", snapshot: "snap-2"), T0.AddHours(1)).State;
        return Run(state, Request("r3", retention), Success("r3", "rp-3", snapshot: "snap-3"), T0.AddHours(2)).State;
    }

    private static ObservedRestorePoint Seen(string uuid, string copyOf, int hour, string? replica = "replica", string job = "job")
        => new(uuid, job, job + "-schedule", T0.AddHours(hour), 50, copyOf, replica);

    [Fact]
    public void A_run_commits_advances_the_chain_and_prunes_by_the_schedule_s_retention()
    {
        var state = new ReplicatedVmState { VmUuid = "vm" };
        (state, var first) = Run(state, Request("r1"), Success("r1", "rp-1", full: true, snapshot: "snap-1"), T0);
        Assert.Equal(["TargetCommitted", "ChainAdvanced", "RunFinished"], first.Select(e => e.GetType().Name));
        state = Run(state, Request("r2"), Success("r2", "rp-2", snapshot: "snap-2"), T0.AddHours(1)).State;
        (state, var third) = Run(state, Request("r3"), Success("r3", "rp-3", snapshot: "snap-3"), T0.AddHours(2));

        Assert.Equal(["rp-1"], Assert.Single(third.OfType<RestorePointsPruned>()).RestorePointUuids);
        var chain = Assert.Single(state.Chains);
        Assert.Equal(Key, chain.Key);
        Assert.Equal(("b", "replica", "snap-3", 2), (chain.Pool, chain.ReplicaVmUuid, chain.BaseSnapshotUuid, chain.DeltaChainLength));
        Assert.Equal(["rp-2", "rp-3"], chain.RestorePoints.Select(p => p.Uuid));
        Assert.Equal((T0.AddHours(2), 100L), (chain.RestorePoints[^1].SnapshotTime, chain.RestorePoints[^1].Size));
    }

    [Fact]
    public void What_delete_first_removed_leaves_the_chain_even_when_the_run_then_fails_and_is_no_difference_next()
    {
        var state = ThreeRuns();
        var failed = new RunResult("r4", RunStatus.Failed, "export cut short", false, null, [], [])
        {
            Pruned = [new RemovedRestorePoint("sr-1", "rp-1"), new RemovedRestorePoint("sr-1", "rp-2")],
        };
        (state, var events) = Run(state, Request("r4", 3), failed, T0.AddHours(3));
        Assert.Equal(["rp-1", "rp-2"], Assert.Single(events.OfType<RestorePointsPruned>()).RestorePointUuids);
        Assert.Equal(["rp-3"], Assert.Single(state.Chains).RestorePoints.Select(p => p.Uuid));

        // The pools show what the run left: the next run finds nothing to report.
        state = Apply(state, state.Process(Request("r5", 3), T0.AddHours(4)).Events);
        var observed = new SrObservation("b", "sr-1", [Seen("rp-3", "snap-3", 2)], ["replica"]);
        Assert.Empty(state.Reconcile("r5", [observed], [], T0.AddHours(4)));
    }

    [Fact]
    public void A_failed_run_leaves_the_chain_and_a_full_resets_its_length()
    {
        var state = ThreeRuns();
        var failed = new RunResult("r4", RunStatus.Failed, "boom", false, null,
            [new TargetResult("sr-1", false, "boom", null, null, 0)], []);
        (state, var events) = Run(state, Request("r4", 3), failed, T0.AddHours(3));
        Assert.IsType<RunFinished>(Assert.Single(events));
        Assert.Equal(["rp-1", "rp-2", "rp-3"], state.Chains[0].RestorePoints.Select(p => p.Uuid));

        state = Run(state, Request("r5", 3), Success("r5", "rp-5", full: true, snapshot: "snap-5"), T0.AddHours(4)).State;
        Assert.Equal(0, state.Chains[0].DeltaChainLength);
        Assert.Equal(["rp-2", "rp-3", "rp-5"], state.Chains[0].RestorePoints.Select(p => p.Uuid));
    }

    [Fact]
    public void Restore_points_of_one_second_keep_the_order_they_were_committed_in()
    {
        // xo:backup:datetime has a resolution of one second: two runs within it must not swap "newest" (retention and
        // failover read it from this order), whatever their uuids.
        var known = new ReplicaChain(Key, "b", "replica", [new RestorePoint("rp-z", T0, 50), new RestorePoint("rp-a", T0, 50)],
            "snap-a", 1);
        var seen = new SrObservation("b", "sr-1", [Seen("rp-a", "snap-a", 0), Seen("rp-z", "snap-z", 0), Seen("rp-new", "snap-n", 0)],
            ["replica"]);
        var (chains, _) = ChainReconciliation.Reconcile([known], seen);
        Assert.Equal(["rp-z", "rp-a", "rp-new"], Assert.Single(chains).RestorePoints.Select(p => p.Uuid));
    }

    [Fact]
    public void Pools_that_agree_with_the_model_cause_no_event()
    {
        var state = ThreeRuns();
        state = Apply(state, state.Process(Request("r4", 3), T0.AddHours(3)).Events);
        var seen = new SrObservation("b", "sr-1", [Seen("rp-1", "snap-1", 0), Seen("rp-2", "snap-2", 1), Seen("rp-3", "snap-3", 2)],
            ["replica"]);
        Assert.Empty(state.Reconcile("r4", [seen], [], T0.AddHours(3)));
    }

    [Fact]
    public void Every_change_behind_the_model_s_back_is_a_difference_an_event_and_a_warning_of_the_run()
    {
        var state = ThreeRuns();
        state = Apply(state, state.Process(Request("r4", 3), T0.AddHours(3)).Events);

        // rp-3 (the last exported snapshot's) deleted by hand, the replica deleted (its restore points' snapshot_of is
        // dangling), and one made by Xen Orchestra for another job.
        var seen = new SrObservation("b", "sr-1",
            [
                Seen("rp-1", "snap-1", 0, replica: null), Seen("rp-2", "snap-2", 1, replica: null),
                Seen("xo-1", "xo-snap", 2, null, job: "xo"),
            ],
            []);
        var events = state.Reconcile("r4", [seen], [new SrReadFailure("c", "sr-9", "timed out")], T0.AddHours(3));
        var reconciled = Assert.IsType<ChainsReconciled>(Assert.Single(events));
        Assert.Equal(
            [
                (ChainDifferenceKind.RestorePointDeleted, "rp-3"), (ChainDifferenceKind.ReplicaDeleted, "replica"),
                (ChainDifferenceKind.ChainBroken, "snap-3"), (ChainDifferenceKind.RestorePointAdded, "xo-1"),
            ],
            reconciled.Differences.Select(d => (d.Kind, d.Subject)));

        state = state.Apply(reconciled);
        var ours = state.Chains.Single(c => c.Key == Key);
        Assert.Equal((null, "snap-2", (int?)null), (ours.ReplicaVmUuid, ours.BaseSnapshotUuid, ours.DeltaChainLength));
        Assert.Equal(["rp-1", "rp-2"], ours.RestorePoints.Select(p => p.Uuid));
        Assert.Equal(["xo-1"], state.Chains.Single(c => c.Key.JobId == new JobId("xo")).RestorePoints.Select(p => p.Uuid));

        // The warnings open the run's log, the failed read first.
        var end = state.Finish(Success("r4", "rp-4", snapshot: "snap-4"), T0.AddHours(4));
        var log = end.OfType<RunFinished>().Single().Result.Log;
        Assert.Equal(5, log.Count(l => l is { Status: "warning", Name: ReplicatedVmState.ReconcileLogName }));
        Assert.Contains("sr-9", log[0].Message);
        Assert.Contains("rp-3", log[1].Message);
        Assert.Equal("snapshot", log[^1].Name);

        // The run then builds a new replica: the chain follows it.
        state = Apply(state, end);
        ours = state.Chains.Single(c => c.Key == Key);
        Assert.Equal(("replica", "snap-4"), (ours.ReplicaVmUuid, ours.BaseSnapshotUuid));
        Assert.Equal(["rp-1", "rp-2", "rp-4"], ours.RestorePoints.Select(p => p.Uuid));
        Assert.Empty(state.CurrentWarnings);
    }

    [Fact]
    public void A_chain_with_nothing_left_on_the_pool_is_dropped_and_reconciliation_of_another_run_is_ignored()
    {
        var state = ThreeRuns();
        Assert.Empty(state.Reconcile("r1", [new SrObservation("b", "sr-1", [], [])], [], T0)); // no run going
        state = Apply(state, state.Process(Request("r4", 3), T0.AddHours(3)).Events);
        var events = state.Reconcile("r4", [new SrObservation("b", "sr-1", [], [])], [], T0.AddHours(3));
        Assert.Equal(5, Assert.IsType<ChainsReconciled>(Assert.Single(events)).Differences.Count); // 3 points, replica, chain
        Assert.Empty(state.Apply(events[0]).Chains);
    }

    [Fact]
    public void The_run_status_keeps_the_names_the_api_shows()
    {
        Assert.Equal("\"failure\"", System.Text.Json.JsonSerializer.Serialize(RunStatus.Failed));
        Assert.Equal(RunStatus.Interrupted, System.Text.Json.JsonSerializer.Deserialize<RunStatus>("\"interrupted\""));
        Assert.Equal(["success", "failure", "skipped", "interrupted"], Enum.GetValues<RunStatus>().Select(s => s.Name()));
    }

    [Fact]
    public void An_interrupted_run_keeps_the_warnings_found_at_its_start()
    {
        var state = ThreeRuns();
        state = Apply(state, state.Process(Request("r4", 3), T0.AddHours(3)).Events);
        state = Apply(state, state.Reconcile("r4", [], [new SrReadFailure("b", "sr-1", "refused")], T0.AddHours(3)));
        state = Apply(state, state.Recovered(T0.AddHours(4)));
        var last = state.History[^1].Result;
        Assert.Equal(RunStatus.Interrupted, last.Status);
        Assert.Contains("refused", Assert.Single(last.Log).Message);
    }

    [Fact]
    public void An_entity_from_before_the_chains_adopts_its_own_jobs_restore_points_and_still_names_foreign_ones()
    {
        // Its journal has runs but no chain event: what its jobs made is adopted quietly, Xen Orchestra's is not.
        var old = new ReplicatedVmState { VmUuid = "vm" };
        old = Apply(old, old.Process(Request("r1"), T0).Events);
        old = old.Apply(new RunFinished("vm", "job", Success("r1", "rp-1"), T0));
        Assert.False(old.ChainsTracked);
        old = Apply(old, old.Process(Request("r2"), T0.AddHours(1)).Events);
        var seen = new SrObservation("b", "sr-1", [Seen("rp-1", "snap-1", 0), Seen("xo-1", "xo-snap", 1, job: "xo")], ["replica"]);
        var reconciled = Assert.IsType<ChainsReconciled>(Assert.Single(old.Reconcile("r2", [seen], [], T0.AddHours(1))));
        Assert.Equal(["xo-1"], reconciled.Differences.Select(d => d.Subject));
        var state = old.Apply(reconciled);
        Assert.True(state.ChainsTracked);
        var ours = state.Chains.Single(c => c.Key == Key);
        Assert.Equal(("replica", "snap-1"), (ours.ReplicaVmUuid, ours.BaseSnapshotUuid));
    }
}
