using Akka.Actor;
using Akka.Event;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;

namespace XcrCluster.Actors;

/// <summary>How the scheduler keeps RPO targets: how often it looks (every <see cref="Every"/> while a job has an RPO target,
/// every <see cref="IdleEvery"/> for the lag report and notices only), and its clock (tests move it).</summary>
public sealed record RpoOptions
{
    public static readonly RpoOptions Default = new();

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public TimeSpan Every { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan IdleEvery { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// The RPO side of the scheduler: at its ticks, one evaluation at a time off the actor's thread (<see cref="RpoSweep"/>), which
/// starts the VMs due through the schedule carrying the target (<see cref="JobRunner.StartAsync"/> with only those VMs, so the
/// entities' one-run-at-a-time rule and the pools' slots apply as to any run) before the next evaluation may begin, so a
/// started VM is seen busy by the next one. Each evaluation publishes <see cref="RpoViolated"/> and <see cref="RpoRecovered"/>
/// on changes and feeds <see cref="RpoGauges"/>. The edges are held in memory: after the singleton moves to another node, a
/// violation still true is published again by the new one (at most once per move, as the notices topic documents).
/// </summary>
public sealed partial class SchedulerActor
{
    private readonly RpoInventories inventories = new(TimeSpan.FromSeconds(30));
    private RpoEdges edges = new();
    private bool evaluating;
    private DateTimeOffset nextEvaluation = DateTimeOffset.MinValue;

    private void RpoCommands(RpoOptions options, Func<Task<JobRunner.Targets>> actors)
    {
        Command<RpoEvaluated>(done =>
        {
            evaluating = false;
            nextEvaluation = done.At + (done.AnyRpo ? options.Every : options.IdleEvery);
            (edges, var notices) = edges.Step(done.Rows, done.At);
            foreach (var notice in notices)
            {
                NoticeTopic.Publish(Context.System, notice);
            }

            RpoGauges.Report(done.Rows);
            foreach (var refused in done.Refused)
            {
                log.Warning("scheduler: rpo: {0}", refused);
            }
        });
        Command<RpoFailed>(failed =>
        {
            evaluating = false;
            nextEvaluation = options.Clock.GetUtcNow() + options.Every;
            log.Warning("scheduler: the RPO evaluation failed: {0}", failed.Reason);
        });
        Command<RpoTick>(_ =>
        {
            var now = options.Clock.GetUtcNow();
            if (evaluating || now < nextEvaluation)
            {
                return;
            }

            evaluating = true;
            EvaluateAsync(actors, inventories, now).PipeTo(Self, failure: e => new RpoFailed(e.Message));
        });
    }

    private static async Task<RpoEvaluated> EvaluateAsync(Func<Task<JobRunner.Targets>> actors, RpoInventories inventories,
        DateTimeOffset now)
    {
        var targets = await actors().ConfigureAwait(false);
        var result = await RpoSweep.RunAsync(new RpoSweep.Parts(targets.ControlPlane, targets.Region, targets.PoolAgents), inventories,
            now, plan: true).ConfigureAwait(false);
        var refused = new List<string>();
        foreach (var start in result.Due)
        {
            try
            {
                var (runId, vms) = await JobRunner.StartAsync(targets, start.Job, start.Schedule, "rpo", start.Vms).ConfigureAwait(false);
                refused.AddRange(vms.Where(v => !v.Accepted)
                    .Select(v => $"job {start.Job.Name} ({start.Job.Id}), run {runId} refused for VM {v.Vm}: {v.Reason}"));
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException or InvalidOperationException)
            {
                refused.Add($"job {start.Job.Name} ({start.Job.Id}): VMs {string.Join(", ", start.Vms)} could not be started: {e.Message}");
            }
        }

        return new RpoEvaluated(result.Rows, result.AnyRpo, refused, now);
    }

    private sealed class RpoTick
    {
        public static readonly RpoTick Instance = new();
    }

    private sealed record RpoEvaluated(IReadOnlyList<RpoLag> Rows, bool AnyRpo, IReadOnlyList<string> Refused, DateTimeOffset At);

    private sealed record RpoFailed(string Reason);
}
