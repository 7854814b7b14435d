using Akka.Actor;
using Akka.Streams;
using XcrCluster.DataChannel;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Actors.Tests;

/// <summary>The content-key fallback through a target on another node: the lookup goes to the target pool's agent
/// (FindTargetBasesByContent, answered with BasesFound) and the run continues the other job's chain there as it does locally.</summary>
public sealed class RemoteContentKeyTests() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING")
{
    [Fact]
    public async Task A_remote_target_continues_another_jobs_chain_by_content_key()
    {
        await using var alpha = await SimHost.StartAsync();
        await using var beta = await SimHost.StartAsync();
        await using var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log);
        await receiver.StartAsync(new TcpChannelTransport(Sys), "127.0.0.1", 0);
        var registry = new StaticPoolRegistry(new Dictionary<string, XapiEndpoint>
        {
            ["beta"] = XapiEndpoint.Parse($"http://root:password@{beta.Url.Authority}"),
        });
        var agents = Sys.ActorOf(Props.Create(() => new Sessions(new AgentServices(registry, () => Task.FromResult(receiver)))));
        await using var sourceClient = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{alpha.Url.Authority}"));
        await using var targetClient = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{beta.Url.Authority}"));
        var (source, target) = (new Pool(sourceClient), new Pool(targetClient) { Name = "beta" });
        var vm = await alpha.UuidAsync("VM", "tiny01");
        var sr = await beta.UuidAsync("SR", "Local storage");

        var other = new JobRef("9a41-xo-job", "xo nightly", "9a41-xo-schedule", "daily");
        var theirs = await new VmReplication(source, [new TargetSpec(target, sr)], other, new ReplicationSettings(), Sys.Materializer())
            .RunAsync(vm);
        Assert.True(theirs.Status == RunStatus.Success, theirs.Error);
        GuestWorkload.Write(alpha.Pool, vm, 0, 2, 5);

        var remote = new AgentTargetSpec("beta", sr, agents, OpenGate.Instance, new TcpChannelTransport(Sys), TimeSpan.FromSeconds(60));
        var ours = await new VmReplication(source, [remote], new JobRef("job-1", "nightly", "s-1", "hourly"), new ReplicationSettings(),
            Sys.Materializer()).RunAsync(vm);
        Assert.True(ours.Status == RunStatus.Success, ours.Error);
        Assert.False(ours.Full);
        Assert.Equal(BaseOrigin.ContentKey, Assert.Single(ours.Bases).Origin);
        Assert.Equal(theirs.Targets[0].TargetVmUuid, ours.Targets[0].TargetVmUuid);
        Assert.Equal(await ChecksumAsync(source, alpha, ours.SourceSnapshotUuid!),
            await ChecksumAsync(target, beta, ours.Targets[0].RestorePointUuid!));
    }

    private static async Task<string> ChecksumAsync(Pool pool, SimHost sim, string vmUuid)
        => GuestWorkload.Checksum(sim.Pool, (await pool.DisksAsync(await pool.VmAsync(await pool.VmRefAsync(vmUuid)))).Single().Vdi.Uuid);

    /// <summary>The pool agents as a run sees them: one target session actor per session, as the agent makes them.</summary>
    private sealed class Sessions : ReceiveActor
    {
        public Sessions(AgentServices services)
            => Receive<ITargetMessage>(m =>
            {
                var name = m.Session.Replace('/', '_');
                var child = Context.Child(name);
                if (child.IsNobody())
                {
                    child = Context.ActorOf(TargetSessionActor.Props(m.Pool, m.Session, services), name);
                }

                child.Forward(m);
            });
    }
}
