using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;
using Plan = XcrCluster.Node.PlannedFailoverApi.Plan;

namespace XcrCluster.Node;

/// <summary>One VM's planned failover once its checks passed: clean shutdown of the source (its pool's agent), a final run
/// of the job for this VM through the product's own run path (the VM's entity, as `xcr job run` does), the replica holding
/// that run's restore point started (<see cref="StartReplica"/> with Force), then the source left halted with its start
/// blocked by a message naming the replica. Zero data loss: the final run's snapshot is of the halted source. When the run
/// or the start fails, the source is started again if it was running, and the failure is the VM's outcome.</summary>
internal static class PlannedFailovers
{
    /// <summary>How often the final run's end is looked for.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(300);

    public static RecoveryVmOutcome DryRun(Plan plan)
    {
        var now = DateTimeOffset.UtcNow;
        var line = new LogLine($"would shut down VM {plan.Vm}, run job {plan.Job.Id} for it, start replica {plan.Chain.ReplicaVmUuid} "
            + $"on pool {plan.Chain.Pool} and block the source's start", "success", now, now);
        return new RecoveryVmOutcome(plan.Vm, RunStatus.Success, null, [.. plan.Checks, line]) { ResultVmUuid = plan.Chain.ReplicaVmUuid };
    }

    public static async Task<RecoveryVmOutcome> RunAsync(ActorRegistry registry, Plan plan, string recordId)
    {
        var log = new List<LogLine>(plan.Checks);
        var shutdown = await Recoveries.StepAsync(registry, plan.Job.SourcePool,
            new SourcePower(plan.Vm, SourcePowerAction.CleanShutdown));
        log.AddRange(shutdown.Log);
        if (shutdown.Status != RunStatus.Success)
        {
            // The shutdown is XAPI's one call: failed, the VM still runs (or was halted already).
            return RecoveryVmOutcome.Failed(plan.Vm, $"clean shutdown: {shutdown.Error}", log);
        }

        var wasRunning = shutdown.Details.GetValueOrDefault("shutdown") == "true";
        var (run, runError) = await FinalRunAsync(registry, plan, log);
        RecoveryVmOutcome? started = null;
        if (run is not null)
        {
            var target = run.Result.Targets.First(t => t.SrUuid == plan.Chain.Key.SrUuid.Value);
            started = await Recoveries.StepAsync(registry, plan.Chain.Pool,
                new StartReplica(plan.Vm, plan.Chain.Key.SrUuid.Value, true, target.RestorePointUuid, plan.Job.Id)
                {
                    Newest = target.RestorePointUuid, // the final run's: the newest, even within the second of the one before
                });
            log.AddRange(started.Log);
            runError = started.Status == RunStatus.Success ? null : $"start of the replica: {started.Error}";
        }

        if (runError is not null)
        {
            return await UndoAsync(registry, plan, wasRunning, runError, log);
        }

        var replica = started!.ResultVmUuid!;
        var message = $"VM failed over to replica {replica} on pool {plan.Chain.Pool} (failover-planned {recordId}): "
            + $"fail back with `xcr failback {plan.Vm}` before starting it";
        var block = await Recoveries.StepAsync(registry, plan.Job.SourcePool,
            new BlockSourceStart(plan.Vm, true, message, replica, plan.Chain.Pool, recordId));
        log.AddRange(block.Log);
        var details = new Dictionary<string, string>(started.Details)
        {
            ["replica"] = replica, ["replicaPool"] = plan.Chain.Pool, ["finalRun"] = run!.RunId,
            ["full"] = run.Result.Full ? "true" : "false",
            ["sourceSnapshot"] = run.Result.SourceSnapshotUuid ?? "",
        };

        // The replica runs in the source's place either way; a source left unblocked is said, not undone.
        return block.Status == RunStatus.Success
            ? new RecoveryVmOutcome(plan.Vm, RunStatus.Success, null, log) { ResultVmUuid = replica, Details = details }
            : new RecoveryVmOutcome(plan.Vm, RunStatus.Failed, $"replica {replica} runs, but the source's start could not be blocked: "
                + $"{block.Error} (do not start VM {plan.Vm})", log) { ResultVmUuid = replica, Details = details };
    }

    /// <summary>The job's run for this VM only, waited for; the run, or why it cannot stand for the final state.</summary>
    private static async Task<(RunRecord? Run, string? Error)> FinalRunAsync(ActorRegistry registry, Plan plan, List<LogLine> log)
    {
        var start = DateTimeOffset.UtcNow;
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        var actors = new JobRunner.Targets(region, await registry.GetAsync<ControlPlane>(), await registry.GetAsync<PoolAgents>());
        string? error;
        RunRecord? run = null;
        try
        {
            var (runId, vms) = await JobRunner.StartAsync(actors, plan.Job, plan.Schedule, "failover-planned", [plan.Vm]);
            error = vms.Single().Accepted ? null : $"final run refused: {vms.Single().Reason}";
            using var bound = new CancellationTokenSource(AgentRecovery.Timeout);
            while (error is null && run is null)
            {
                var state = await VmStateAsync(region, plan.Vm);
                run = state.History.LastOrDefault(h => h.RunId == runId);
                if (run is null)
                {
                    await Task.Delay(Poll, bound.Token);
                }
            }

            error ??= run!.Result.Status != RunStatus.Success ? $"final run {runId}: {run.Result.Status.Name()}: {run.Result.Error}"
                : run.Result.Targets.FirstOrDefault(t => t.SrUuid == plan.Chain.Key.SrUuid.Value) is not { Succeeded: true }
                    ? $"final run {runId} did not reach SR {plan.Chain.Key.SrUuid.Value}" : null;
        }
        catch (Exception e) when (e is OperationCanceledException or Akka.Actor.AskTimeoutException or PartTimeoutException)
        {
            error = $"final run: {e.Message}";
        }

        var name = $"final run of job {plan.Job.Id}" + (run is null ? "" : $" ({run.RunId}, {(run.Result.Full ? "full" : "delta")})");
        log.Add(new LogLine(name, error is null ? "success" : "failure", start, DateTimeOffset.UtcNow,
            run?.Result.Targets.Sum(t => t.BytesSent), error));
        return (error is null ? run : null, error);
    }

    /// <summary>Nothing was lost: the source is started again if it was running, and the failure is the outcome.</summary>
    private static async Task<RecoveryVmOutcome> UndoAsync(ActorRegistry registry, Plan plan, bool wasRunning, string error,
        List<LogLine> log)
    {
        if (!wasRunning)
        {
            return RecoveryVmOutcome.Failed(plan.Vm, $"{error}; the source VM stays halted as it was", log);
        }

        var restart = await Recoveries.StepAsync(registry, plan.Job.SourcePool, new SourcePower(plan.Vm, SourcePowerAction.Start));
        log.AddRange(restart.Log);
        return RecoveryVmOutcome.Failed(plan.Vm, restart.Status == RunStatus.Success ? $"{error}; the source VM was started again"
            : $"{error}; the source VM could not be started again: {restart.Error}", log);
    }
}
