using Akka.Actor;
using Akka.Configuration;
using Akka.Pattern;

namespace XcrCluster.Actors;

/// <summary>
/// How a persistent singleton (control plane, scheduler) comes back after its journal failed. Akka.Persistence stops
/// a persistent actor whose write or recovery fails; inside the singleton a backoff supervisor starts it again after
/// <see cref="Min"/>, doubling up to <see cref="Max"/> with <see cref="RandomFactor"/> jitter, for as long as it takes,
/// so the API and the schedules work again once the database is back, without a restart. An exception in the actor
/// stops it too and takes the same backoff.
/// </summary>
public sealed record SingletonBackoff(TimeSpan Min, TimeSpan Max, double RandomFactor = 0.2)
{
    public static SingletonBackoff Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

    /// <summary><c>xcr.singleton-backoff { min, max, random-factor }</c> (hocon/base.hocon), else <see cref="Default"/>.</summary>
    public static SingletonBackoff FromConfig(Config config) => new(
        config.GetTimeSpan("xcr.singleton-backoff.min", Default.Min, allowInfinite: false),
        config.GetTimeSpan("xcr.singleton-backoff.max", Default.Max, allowInfinite: false),
        config.GetDouble("xcr.singleton-backoff.random-factor", Default.RandomFactor));

    /// <summary>The supervisor's props: the singleton, forwarding messages to <paramref name="child"/> (dropped to
    /// dead letters while it is stopped: askers retry, see <see cref="ControlPlaneClient"/>).</summary>
    public Props Supervise(Props child, string childName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Min, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(Max, Min);
        return BackoffSupervisor.Props(Backoff.OnStop(child, childName, Min, Max, RandomFactor, -1)
            .WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Stop)));
    }
}
