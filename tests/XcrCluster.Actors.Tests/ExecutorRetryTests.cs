using Akka.Actor;
using Akka.Streams;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;
using XcrCluster.Xapi;
using RunStatus = XcrCluster.Domain.Vm.RunStatus;

namespace XcrCluster.Actors.Tests;

/// <summary>A run that ends early is undone and tried again per the job's `retries` (Xen Orchestra's
/// nRetriesVmBackupFailures), whatever ended it.</summary>
public sealed class ExecutorRetryTests
{
    [Theory]
    [InlineData("malformed reply")]
    [InlineData("snapshot fails")]
    [InlineData("target disk refused")]
    public async Task A_run_cut_short_is_undone_and_tried_again_per_retries(string fault)
    {
        await using var alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha" });
        await using var beta = await SimHost.StartAsync(o => o with { PoolName = "beta" });
        using var system = ActorSystem.Create("retry-test", "akka.loglevel = WARNING");
        var registry = new StaticPoolRegistry(new Dictionary<string, XapiEndpoint>
        {
            ["alpha"] = XapiEndpoint.Parse($"http://root:password@{alpha.Url.Authority}"),
            ["beta"] = XapiEndpoint.Parse($"http://root:password@{beta.Url.Authority}"),
        });
        var executor = new XapiRunExecutor(registry);
        var vm = await alpha.UuidAsync("VM", "db01");
        var targets = new[] { new TargetRef("beta", await beta.UuidAsync("SR", "Local storage")) };
        var job = new JobRef("retry-job", "retry", "retry-schedule", "by hand");

        // Each fault fires once: the first attempt meets it, a retry meets a healthy pool. The pools' collectors are paused
        // in tests, so the chain tolerance makes room for the base copies the failed attempts' snapshots leave.
        void Once()
        {
            switch (fault)
            {
                case "malformed reply": beta.Pool.Faults.MalformedReplyTo("VDI.get_record", 2); break;
                case "snapshot fails": alpha.Pool.Faults.FailCall("VM.snapshot"); break;
                default: beta.Pool.Faults.FailCall("VDI.create", 1, "SR_BACKEND_FAILURE_44"); break;
            }
        }

        Once();
        var withoutRetry = await executor.ExecuteAsync(
            new ReplicateVm(vm, "run-1", "alpha", job, targets, new ReplicationSettings { MaxUncoalescedVdis = 4 }),
            system.Materializer(), CancellationToken.None);
        Assert.Equal(RunStatus.Failed, withoutRetry.Status);
        Assert.DoesNotContain(withoutRetry.Log, l => l.Name == "Retry the VM backup due to an error");

        Once();
        var retried = await executor.ExecuteAsync(
            new ReplicateVm(vm, "run-2", "alpha", job, targets, new ReplicationSettings { Retries = 1, MaxUncoalescedVdis = 4 }),
            system.Materializer(), CancellationToken.None);
        Assert.True(retried.Status == RunStatus.Success, retried.Error);
        Assert.Contains(retried.Log, l => l.Name == "Retry the VM backup due to an error");
        Assert.True(retried.Full); // the failed attempts left no base behind them: nothing half-made is taken for one
    }
}
