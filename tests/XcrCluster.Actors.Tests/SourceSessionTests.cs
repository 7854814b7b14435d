using Akka.Actor;
using Akka.Cluster;
using Akka.Streams;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;

namespace XcrCluster.Actors.Tests;

/// <summary>An attempt of a run sent to the source pool's agent (<see cref="AgentSources"/>, <see cref="SourceSessionActor"/>):
/// it runs there and comes back with its result and progress; cancelled, orphaned or cut off, it leaves the pools as
/// they were, and the orchestrator always hears how it ended.</summary>
public sealed class SourceSessionTests() : Akka.TestKit.Xunit2.TestKit(SingleNodeCluster.Config), IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private SimHost alpha = null!;
    private SimHost beta = null!;
    private IActorRef agents = null!;
    private DataChannel.ChannelReceiver receiver = null!;
    private ReplicateVm request = null!;

    /// <summary>The agent's export rate limits, on a clock that never moves: a limited export waits for ever (until cancelled).</summary>
    private readonly Replication.RunThrottles throttles = new(new FrozenTime());

    public async Task InitializeAsync()
    {
        alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha" });
        beta = await SimHost.StartAsync(o => o with { PoolName = "beta" });
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == MemberStatus.Up, Timeout);
        var registry = new StaticPoolRegistry(new Dictionary<string, XapiEndpoint>
        {
            ["alpha"] = XapiEndpoint.Parse($"http://root:password@{alpha.Url.Authority}"),
            ["beta"] = XapiEndpoint.Parse($"http://root:password@{beta.Url.Authority}"),
        });
        var control = Sys.ActorOf(ControlPlaneActor.Props());
        // Every target is treated as on another node: its steps go to a target session, its blocks over the data channel.
        receiver = new DataChannel.ChannelReceiver(Sys.Materializer(), Sys.Log);
        await receiver.StartAsync(new DataChannel.TcpChannelTransport(Sys), "127.0.0.1", 0);
        var services = new AgentServices(registry, () => Task.FromResult(receiver))
        {
            Throttles = throttles,
            Remote = new AgentTargets(() => Task.FromResult(agents), () => "akka.tcp://elsewhere@127.0.0.1:1",
                Replication.OpenGate.Instance,
                new DataChannel.TcpChannelTransport(Sys)),
        };
        agents = Sys.ActorOf(PoolAgentsActor.Props(() => Task.FromResult(control), targets: services), "pool-agents");
        request = new ReplicateVm(await alpha.UuidAsync("VM", "tiny01"), "run-1", "alpha",
            new JobRef("job-1", "near", "schedule-1", "by hand"),
            [new TargetRef("beta", await beta.UuidAsync("SR", "Local storage"))], new ReplicationSettings());
    }

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        await alpha.DisposeAsync();
        await beta.DisposeAsync();
    }

    private const string Sessions = "/user/pool-agents/agent-alpha/agent/source-*";

    private AgentSources Sources => new(() => Task.FromResult(agents), () => Sys);

    [Fact]
    public async Task An_attempt_runs_on_the_source_pools_agent_and_comes_back_with_its_result_and_progress_in_order()
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<IRunProgressMessage>();
        var result = await Sources.RunAsync(request, seen.Enqueue, default).WaitAsync(Timeout);
        Assert.True(result.Status == RunStatus.Success, result.Error);
        Assert.True(result.Full);
        var phases = seen.OfType<RunProgress>().Select(p => p.Phase).Distinct().ToList();
        Assert.Equal([RunPhase.Snapshot, RunPhase.Export, RunPhase.Commit, RunPhase.Done], phases);
    }

    [Fact]
    public async Task The_vms_of_one_run_export_under_the_runs_one_throttle_on_the_agent_released_when_the_last_ends()
    {
        // maxExportRate is the run's (Xen Orchestra: one Throttle per job run): both VMs' sessions take the run's throttle.
        var limited = request with { RunId = "run-rate", Settings = request.Settings with { MaxExportRate = 1 } };
        var exporting = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        void Seen(IRunProgressMessage m)
        {
            if (m is RunProgress { Phase: RunPhase.Export } p)
            {
                exporting[p.VmUuid] = true;
            }
        }

        using var cancel = new CancellationTokenSource();
        var runs = new[]
        {
            Sources.RunAsync(limited, Seen, cancel.Token),
            Sources.RunAsync(limited with { VmUuid = await alpha.UuidAsync("VM", "web01") }, Seen, cancel.Token),
        };
        await Poll.UntilAsync(() => exporting.Count == 2, "both VMs to export");
        Assert.Equal(1, throttles.Count);
        await cancel.CancelAsync();
        foreach (var run in runs)
        {
            Assert.Equal(RunStatus.Failed, (await run.WaitAsync(Timeout)).Status);
        }

        Assert.Equal(0, throttles.Count);
    }

    [Fact]
    public void A_retry_sent_as_soon_as_the_last_attempt_ended_is_taken()
    {
        // The executor retries the moment an attempt's result arrives: the agent must already know that attempt ended.
        var orchestrator = CreateTestProbe();
        var settings = request.Settings with { MaxUncoalescedVdis = 99 };
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            agents.Tell(new RunSource("alpha", $"s-{attempt}", request with { RunId = $"run-{attempt}", Settings = settings }), orchestrator);
            orchestrator.ExpectMsg<SourceStarted>(Timeout);
            var result = ((SourceFinished)orchestrator.FishForMessage(m => m is SourceFinished, Timeout)).Result;
            Assert.DoesNotContain("still ending", result.Error ?? "");
        }
    }

    [Fact]
    public void An_attempt_sent_again_while_it_runs_is_taken_once()
    {
        // The orchestrator sends an attempt again until a session says it started (a message to an agent handing over
        // is lost): the agent must not take a resend for a second attempt of the VM, nor refuse it as one.
        var orchestrator = CreateTestProbe();
        var run = new RunSource("alpha", "s-resent", request with { Settings = request.Settings with { MaxUncoalescedVdis = 99 } });
        agents.Tell(run, orchestrator);
        orchestrator.ExpectMsg<SourceStarted>(Timeout);
        agents.Tell(run, orchestrator);
        var result = ((SourceFinished)orchestrator.FishForMessage(m => m is SourceFinished, Timeout)).Result;
        Assert.True(result.Status == RunStatus.Success, result.Error);
    }

    [Fact]
    public async Task A_replica_started_by_hand_is_left_as_it_is_and_the_log_says_so_from_a_target_session()
    {
        var first = await Sources.RunAsync(request, _ => { }, default).WaitAsync(Timeout);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        Assert.True(receiver.Received.Transfers > 0, "the blocks went over the data channel");
        using (var rpc = beta.Json())
        {
            await rpc.LoginAsync();
            var replica = await rpc.CallAsync("VM.get_by_uuid", first.Targets[0].TargetVmUuid!);
            await rpc.CallAsync("VM.remove_from_blocked_operations", replica, "start");
            await rpc.CallAsync("VM.start", replica, false, false);
        }

        var next = await Sources.RunAsync(request with { RunId = "run-2" }, _ => { }, default).WaitAsync(Timeout);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.False(next.Full);
        Assert.NotEqual(first.Targets[0].TargetVmUuid, next.Targets[0].TargetVmUuid);
        Assert.Contains(next.Log, l => l.Name == "replica" && l.Message!.Contains("running", StringComparison.Ordinal));
    }

    /// <summary>Issue 15: a replica behind a target session is refreshed as a local one (the commit carries the record,
    /// VIFs and vTPMs): a new name, a VIF added and a vTPM reach it at the next delta run.</summary>
    [Fact]
    public async Task A_replica_behind_a_target_session_is_refreshed_from_the_source_at_a_delta_run()
    {
        var first = await Sources.RunAsync(request, _ => { }, default).WaitAsync(Timeout);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        using var rpc = alpha.Json();
        await rpc.LoginAsync();
        var vm = await rpc.CallAsync("VM.get_by_uuid", request.VmUuid);
        await rpc.CallAsync("VM.set_name_label", vm, "tiny01-renamed");
        var network = (await rpc.AllRecordsAsync("network")).First().Key;
        await rpc.CallAsync("VIF.create", new Dictionary<string, object?> { ["VM"] = vm, ["network"] = network, ["device"] = "1",
            ["MAC"] = "02:00:00:00:00:31" });
        lock (alpha.Pool.Db.Sync) // as if made while the VM was halted (VTPM.create needs that)
        {
            alpha.Pool.Db.Create(XapiSim.Model.Schemas.Vtpm, new Dictionary<string, object?> { ["VM"] = vm, ["contents"] = "dHBt" });
        }

        var next = await Sources.RunAsync(request with { RunId = "run-2" }, _ => { }, default).WaitAsync(Timeout);
        Assert.True(next.Status == RunStatus.Success && !next.Full, next.Error);
        using var target = beta.Json();
        await target.LoginAsync();
        var replica = await target.CallAsync("VM.get_by_uuid", next.Targets[0].TargetVmUuid!);
        Assert.EndsWith("tiny01-renamed", (string)(await target.CallAsync("VM.get_name_label", replica))!, StringComparison.Ordinal);
        Assert.Equal(2, ((List<object?>)(await target.CallAsync("VM.get_VIFs", replica))!).Count);
        var vtpm = Assert.Single((List<object?>)(await target.CallAsync("VM.get_VTPMs", replica))!);
        Assert.Equal("dHBt", await target.CallAsync("VTPM.get_contents", vtpm));
    }

    [Fact]
    public async Task A_cancelled_attempt_removes_what_it_made_and_says_so()
    {
        var before = await NamesAsync();
        alpha.Pool.Faults.ExportBytesPerSecond = 1 << 20;
        using var cancel = new CancellationTokenSource();
        var run = Sources.RunAsync(request, _ => { }, cancel.Token);
        await Poll.UntilAsync(() => beta.Pool.Stats.BytesImported("/import_raw_vdi") > 0, "the import to start");
        await cancel.CancelAsync();
        var result = await run.WaitAsync(Timeout);
        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains("cancelled", result.Error);
        Assert.Equal(before, await NamesAsync());
    }

    [Fact]
    public async Task An_attempt_whose_orchestrator_is_gone_is_cancelled_and_a_new_one_is_refused_until_it_has_cleaned_up()
    {
        var before = await NamesAsync();
        alpha.Pool.Faults.ExportBytesPerSecond = 1 << 20;
        var orchestrator = CreateTestProbe();
        agents.Tell(new RunSource("alpha", "s-1", request), orchestrator);
        orchestrator.ExpectMsg<SourceStarted>(Timeout);
        var session = orchestrator.LastSender;
        await Poll.UntilAsync(() => beta.Pool.Stats.BytesImported("/import_raw_vdi") > 0, "the import to start");

        var second = CreateTestProbe();
        agents.Tell(new RunSource("alpha", "s-2", request with { RunId = "run-2" }), second);
        Assert.Contains("still ending", second.ExpectMsg<SourceFinished>(Timeout).Result.Error);

        Sys.Stop(orchestrator.Ref);
        await PoolsAsBeforeAsync(before);
        Watch(session);
        ExpectTerminated(session, Timeout);
        alpha.Pool.Faults.Clear();
        var result = await Sources.RunAsync(request with { RunId = "run-3" }, _ => { }, default).WaitAsync(Timeout);
        Assert.True(result.Status == RunStatus.Success, result.Error);
    }

    [Fact]
    public async Task An_attempt_whose_session_stops_mid_run_fails_at_once_and_leaves_the_pools_as_they_were()
    {
        var before = await NamesAsync();
        alpha.Pool.Faults.ExportBytesPerSecond = 1 << 20;
        var run = Sources.RunAsync(request, _ => { }, default);
        await Poll.UntilAsync(() => beta.Pool.Stats.BytesImported("/import_raw_vdi") > 0, "the import to start");
        // What the agent's node leaving does to its sessions.
        Sys.ActorSelection(Sessions).Tell(PoisonPill.Instance);
        var result = await run.WaitAsync(Timeout);
        Assert.Contains("stopped during the run", result.Error);
        await PoolsAsBeforeAsync(before);
    }

    /// <summary>Waits for the pools to be as they were; if they do not get there, shows the difference.</summary>
    private async Task PoolsAsBeforeAsync(List<string> before)
    {
        try
        {
            await Poll.UntilAsync(async () => (await NamesAsync()).SequenceEqual(before), "the pools as they were", Timeout);
        }
        catch (TimeoutException)
        {
            Assert.Equal(before, await NamesAsync());
        }
    }

    /// <summary>Every VM and VDI of both pools by name (snapshots and imports included), but the base copies a destroyed
    /// snapshot leaves until the pool's garbage collector coalesces it (paused in tests).</summary>
    private async Task<List<string>> NamesAsync()
    {
        var names = new List<string>();
        foreach (var sim in new[] { alpha, beta })
        {
            using var rpc = sim.Json();
            await rpc.LoginAsync();
            foreach (var cls in new[] { "VM", "VDI" })
            {
                names.AddRange((await rpc.AllRecordsAsync(cls)).Values.Select(r => (string)r["name_label"]!).Where(n => n != "base copy")
                    .Select(n => $"{sim.Pool.Options.PoolName}/{cls}/{n}"));
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
