using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace XcrCluster.Actors.Tests;

/// <summary>The shipped hocon/ files reach a node's actor system, and a node's own configuration overrides them.</summary>
public sealed class HoconTests
{
    [Fact]
    public async Task The_shipped_defaults_apply_and_a_nodes_config_file_wins()
    {
        using var host = new HostBuilder().ConfigureServices(services => services.AddAkka("xcr", builder => builder
            .AddHocon("akka.cluster.split-brain-resolver.stable-after = 7s\nxcr.pool-slots.max-wait = 5m", HoconAddMode.Prepend)
            .WithXcrClusterDefaults()
            .WithSqlPersistence("SQLite.MS", "Data Source=:memory:"))).Build();
        await host.StartAsync();
        var config = host.Services.GetRequiredService<ActorSystem>().Settings.Config;
        Assert.Equal(TimeSpan.FromSeconds(10), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal("keep-oldest", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(7), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        // The oldest node's crash downs it alone, not every survivor (tests/XcrCluster.Failover.Tests kill it).
        Assert.True(config.GetBoolean("akka.cluster.split-brain-resolver.keep-oldest.down-if-alone"));
        Assert.Equal("", config.GetString("akka.cluster.split-brain-resolver.keep-oldest.role", ""));
        Assert.Equal(TimeSpan.FromSeconds(45), config.GetTimeSpan("akka.coordinated-shutdown.phases.before-cluster-shutdown.timeout"));
        Assert.Equal("SQLite.MS", config.GetString("akka.persistence.journal.sql.provider-name"));
        Assert.Equal(SingletonBackoff.Default, SingletonBackoff.FromConfig(config));
        var limits = ReplicationHosting.PoolLimitsFrom(config);
        Assert.Equal((TimeSpan.FromHours(24), TimeSpan.FromMinutes(5)), (limits.MaxHold, limits.MaxWait));
        Assert.Equal(TimeSpan.FromMinutes(2), ReplicatedVmActor.PassivateIdleAfter(config));
        await host.StopAsync();
    }
}
