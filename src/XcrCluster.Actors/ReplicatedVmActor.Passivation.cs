using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;

namespace XcrCluster.Actors;

/// <summary>An idle entity stops itself (through its shard, which buffers what arrives meanwhile and starts it again on the next
/// message). Akka's own <c>passivate-idle-entity-after</c> is always off with remember-entities, which the region needs to
/// record interrupted runs; an entity with no run going, queued or held has nothing to record, and passivating is what
/// removes it from the remembered set, so a restarted shard starts only the entities that have work.</summary>
public sealed partial class ReplicatedVmActor
{
    /// <summary>Stopped idle: the VM is still this node's (its RPO gauge stays, <see cref="StateGauges"/>).</summary>
    private bool passivated;

    /// <summary>The setting (hocon/base.hocon); absent or zero: entities never stop themselves.</summary>
    public const string PassivateIdleAfterPath = "xcr.replicated-vm.passivate-idle-after";

    public static TimeSpan PassivateIdleAfter(Config config)
        => config.HasPath(PassivateIdleAfterPath)
            ? config.GetTimeSpan(PassivateIdleAfterPath, TimeSpan.Zero, allowInfinite: true) : TimeSpan.Zero;

    private void PassivationCommands()
    {
        var idle = PassivateIdleAfter(Context.System.Settings.Config);
        if (idle <= TimeSpan.Zero || idle == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        Context.SetReceiveTimeout(idle);
        Command<ReceiveTimeout>(_ =>
        {
            if (state.Current is null && state.Queue.IsEmpty)
            {
                Context.Parent.Tell(new Passivate(StopIdle.Instance));
            }
        });
        // A command, so never handled while an event is being persisted (a PoisonPill could stop the entity mid-persist).
        Command<StopIdle>(_ =>
        {
            passivated = true;
            Context.Stop(Self);
        });
    }

    /// <summary>Internal: the shard's go-ahead to stop (sent back from <see cref="Passivate"/>).</summary>
    public sealed class StopIdle
    {
        public static readonly StopIdle Instance = new();
    }
}
