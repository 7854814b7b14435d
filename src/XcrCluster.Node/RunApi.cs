using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>Runs and what they left: runs with their task trees, restore points, RPO, a VM's replication status.</summary>
public static class RunApi
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/api/runs", async (string? job, ActorRegistry registry) =>
        {
            var runs = new List<(RunRecord Run, string Vm)>();
            foreach (var (vm, state) in await VmStatesAsync(registry, job))
            {
                runs.AddRange(state.History.Where(h => job is null || h.JobId == job).Select(h => (h, vm)));
            }

            return Results.Json(runs.OrderByDescending(r => r.Run.Started).Select(r => new
            {
                id = r.Run.RunId, jobId = r.Run.JobId, vm = r.Vm, status = r.Run.Result.Status, full = r.Run.Result.Full,
                started = r.Run.Started, finished = r.Run.Finished,
                bytes = r.Run.Result.Targets.Sum(t => t.BytesSent), error = r.Run.Result.Error,
            }));
        });
        app.MapGet("/api/replicas", async (string? vm, ActorRegistry registry) =>
        {
            var jobs = (await ControlAsync<JobList>(registry, new GetJobs())).Jobs;
            var known = await ControlAsync<Known>(registry, new GetKnown());
            if (vm is not null && !known.Vms.Contains(vm))
            {
                return Results.NotFound(new { error = $"no job covers or covered VM {vm}" });
            }

            var region = await registry.GetAsync<ReplicatedVmRegion>();
            var states = new List<(string Vm, ReplicatedVmState State)>();
            foreach (var v in vm is null ? known.Vms : [vm])
            {
                states.Add((v, await VmStateAsync(region, v)));
            }

            return Results.Json(states.SelectMany(s => s.State.BySr().Select(p =>
            {
                var covering = JobCoverage.Covering(jobs, known.Runs, s.Vm, p.SrUuid).Select(j => j.Id).ToList();
                return new
                {
                    vm = s.Vm, sr = p.SrUuid, restorePoints = RestorePointUuids(p.Chains),
                    replicas = p.Chains.Select(c => c.ReplicaVmUuid).OfType<string>().Distinct().ToList(),
                    chains = p.Chains.Select(Chain), jobs = covering, orphan = covering.Count == 0,
                };
            })));
        });
        app.MapDelete("/api/replicas/{vm}", async (string vm, string? sr, ActorRegistry registry) =>
        {
            var jobs = (await ControlAsync<JobList>(registry, new GetJobs())).Jobs;
            var state = await KnownVmStateAsync(registry, vm);
            var known = state?.BySr().Select(p => p.SrUuid).ToList() ?? [];
            var srs = sr is null ? known : [sr];
            if (state is null || srs.Count == 0 || sr is not null && !known.Contains(sr))
            {
                return Results.NotFound(new { error = $"no restore point of VM {vm}{(sr is null ? "" : " on SR " + sr)} is known" });
            }

            var runs = (await ControlAsync<Known>(registry, new GetKnown())).Runs;
            if (srs.SelectMany(s => JobCoverage.Covering(jobs, runs, vm, s)).FirstOrDefault() is { } covering)
            {
                return Results.BadRequest(new { error = $"vm: still replicated by job {covering.Id} ({covering.Name}): "
                    + $"remove it from the job first (xcr job set {covering.Id} vms=...)" });
            }

            var purged = await Purge.ReplicasAsync(registry, vm,
                [.. srs.Select(s => new TargetRef(state.Chains.First(c => c.Key.SrUuid.Value == s).Pool, s))]);
            if (sr is null || known.Count == 1)
            {
                await ControlAsync<IControlReply>(registry, new ForgetVm(vm));
            }

            return Results.Json(new { vm, srs, restorePoints = purged.RestorePoints, replicas = purged.Replicas });
        });
        app.MapGet("/api/jobs/{id}/runs/{runId}", async (string id, string runId, ActorRegistry registry) =>
            await RunAsync(registry, runId, id));
        app.MapGet("/api/runs/{runId}", async (string runId, ActorRegistry registry) => await RunAsync(registry, runId, null));
        app.MapGet("/api/vms/{uuid}", async (string uuid, ActorRegistry registry) =>
        {
            var state = await KnownVmStateAsync(registry, uuid);
            return state is null || state.History.IsEmpty && state.Current is null
                ? Results.NotFound(new { error = $"VM {uuid} was never replicated" })
                : Results.Json(new
                {
                    id = uuid,
                    running = state.Current?.RunId,
                    lastSuccess = state.LastSuccess,
                    rpoLagSeconds = state.RpoLag(DateTimeOffset.UtcNow)?.TotalSeconds,
                    restorePoints = state.BySr().ToDictionary(p => p.SrUuid, p => RestorePointUuids(p.Chains)),
                    chains = state.Chains.Select(Chain),
                    runs = state.History.Select(h =>
                        new { id = h.RunId, jobId = h.JobId, h.Started, h.Finished, status = h.Result.Status, full = h.Result.Full,
                        error = h.Result.Error }),
                });
        });
    }

    /// <summary>The restore points of an SR's chains, oldest first.</summary>
    private static List<string> RestorePointUuids(IEnumerable<ReplicaChain> chains)
        => [.. chains.SelectMany(c => c.RestorePoints).OrderBy(p => p.SnapshotTime).Select(p => p.Uuid)];

    private static object Chain(ReplicaChain c) => new
    {
        jobId = c.Key.JobId, scheduleId = c.Key.ScheduleId, sr = c.Key.SrUuid, pool = c.Pool, replica = c.ReplicaVmUuid,
        baseSnapshot = c.BaseSnapshotUuid, deltaChainLength = c.DeltaChainLength,
        restorePoints = c.RestorePoints.Select(p => new { uuid = p.Uuid, time = p.SnapshotTime, size = p.Size }),
    };

    /// <summary>A run as every VM of it saw it: status, full or delta, targets, log and task tree.</summary>
    private static async Task<IResult> RunAsync(ActorRegistry registry, string runId, string? jobId)
    {
        var known = await ControlAsync<Known>(registry, new GetKnown());
        var run = known.Runs.LastOrDefault(r => r.RunId == runId && (jobId is null || r.JobId == jobId));
        if (run is null && jobId is null && (await ControlAsync<RecoveryReply>(registry, new GetRecovery(runId))).Record is { } recovery)
        {
            return Results.Json(Recoveries.Body(recovery));
        }

        if (run is null)
        {
            return Results.NotFound(
                new { error = jobId is not null && await JobAsync(registry, jobId) is null ? $"no job {jobId}" : $"no run {runId}" });
        }

        var region = await registry.GetAsync<ReplicatedVmRegion>();
        var vms = new List<object>();
        foreach (var vm in run.Vms)
        {
            // A VM of the run no job covers any more whose replicas were purged is forgotten: its entity is not asked.
            var state = known.Vms.Contains(vm) ? await VmStateAsync(region, vm) : null;
            var done = state?.History.LastOrDefault(h => h.RunId == runId);
            var status = state is null ? "forgotten" : state.StatusOf(runId) ?? "refused"; // refused: never accepted by its entity
            vms.Add(new { vm, status, full = done?.Result.Full, error = done?.Result.Error,
                sourceSnapshot = done?.Result.SourceSnapshotUuid, targets = done?.Result.Targets, log = done?.Result.Log,
                tasks = done is null ? null : TaskTree.Build(vm, done.Result) });
        }

        return Results.Json(new { runId, jobId = run.JobId, scheduleId = run.ScheduleId, trigger = run.Trigger, started = run.At, vms });
    }
}
