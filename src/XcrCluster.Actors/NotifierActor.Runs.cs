using Akka.Actor;
using Akka.Event;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>
/// The notifier's runs: a run has ended when every VM of it (as recorded with the control plane) has, which the VMs'
/// entities say (<see cref="RunOutcomes"/>). A VM's <see cref="RunEnded"/> on the run-progress topic asks for a check of its
/// run once as many VMs ended as the run has; a sweep every <see cref="NotifierOptions.Sweep"/> checks the runs not yet
/// reported (launched within <see cref="NotifierOptions.MaxOpen"/>, at most <see cref="NotifierOptions.SweepBudget"/> VM
/// states, newest runs first), so a run whose ends were missed (lost message, notifier moving) is still reported. The runs
/// reported are kept in the ledger (each is reported once); runs that ended before the ledger began are not reported.
/// </summary>
public sealed partial class NotifierActor
{
    private const int RunsWatched = 1000;
    private const int Rechecks = 10;
    private static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(1);

    private readonly Func<Task<IActorRef>> region;
    private readonly Func<Task<IActorRef>> poolAgents;
    private DateTimeOffset since;
    private readonly Dictionary<string, (HashSet<string> Ended, int Size, int Checks)> watched = [];
    private readonly Queue<string> watchOrder = new();
    private readonly HashSet<string> reported = [];
    private readonly Queue<string> reportOrder = new();
    private readonly HashSet<string> dueRuns = [];
    private bool checking;
    private bool dueSweep;

    private void Runs()
    {
        Receive<RunProgress>(_ => { }); // samples: only the ends matter here
        Receive<RunEnded>(e =>
        {
            if (reported.Contains(e.RunId))
            {
                return;
            }

            var run = Watch(e.RunId);
            run.Ended.Add(e.VmUuid);
            if (run.Size == 0 || run.Ended.Count >= run.Size)
            {
                Check([e.RunId]);
            }
        });
        Receive<Sweep>(_ => Check(null));
        Receive<Recheck>(r => Check([r.RunId]));
        Receive<RunsChecked>(Checked);
    }

    private (HashSet<string> Ended, int Size, int Checks) Watch(string runId)
    {
        if (!watched.TryGetValue(runId, out var run))
        {
            watched[runId] = run = ([], 0, 0);
            watchOrder.Enqueue(runId);
            while (watchOrder.Count > RunsWatched)
            {
                watched.Remove(watchOrder.Dequeue());
            }
        }

        return run;
    }

    /// <summary>Checks the runs named (or sweeps, <paramref name="only"/> null); one check at a time, the others after it.</summary>
    private void Check(IReadOnlyCollection<string>? only)
    {
        if (checking)
        {
            dueSweep |= only is null;
            dueRuns.UnionWith(only ?? []);
            return;
        }

        checking = true;
        CheckAsync(only, [.. reported], DateTimeOffset.UtcNow)
            .PipeTo(Self, failure: e => new RunsChecked([], only ?? [], e.Message));
    }

    private void Checked(RunsChecked c)
    {
        checking = false;
        if (c.Error is { } error)
        {
            log.Warning("notifier: runs not checked: {0}", error);
        }

        foreach (var run in c.Runs)
        {
            var (ended, _, checks) = Watch(run.RunId);
            if (run.Notice is { } notice)
            {
                Reported(run.RunId);
                if (notice.At >= since)
                {
                    NoticeTopic.Publish(Context.System, notice); // heard back on the topic (and by anyone else listening)
                }
            }
            else
            {
                watched[run.RunId] = (ended, run.Size, checks + 1);
                if (c.Asked.Contains(run.RunId) && ended.Count >= run.Size && checks < Rechecks)
                {
                    // Every VM said it ended, but an entity had not yet persisted its result.
                    Timers.StartSingleTimer($"recheck-{run.RunId}", new Recheck(run.RunId), RecheckAfter);
                }
            }
        }

        if (dueSweep || dueRuns.Count > 0)
        {
            var only = dueSweep ? null : dueRuns.ToList();
            dueSweep = false;
            dueRuns.Clear();
            Check(only);
        }
    }

    private void Reported(string runId, bool persist = true)
    {
        watched.Remove(runId);
        if (reported.Add(runId))
        {
            if (persist)
            {
                ledger.Tell(new RunReported(runId));
            }

            reportOrder.Enqueue(runId);
            while (reportOrder.Count > NotifyLedgerState.ReportedKept)
            {
                reported.Remove(reportOrder.Dequeue());
            }
        }
    }

    private async Task<RunsChecked> CheckAsync(IReadOnlyCollection<string>? only, HashSet<string> skip, DateTimeOffset now)
    {
        var wait = TimeSpan.FromSeconds(30);
        var known = await ControlPlaneClient.AskAsync<Known>(controlPlane, new GetKnown(), wait).ConfigureAwait(false);
        var jobs = (await ControlPlaneClient.AskAsync<JobList>(controlPlane, new GetJobs(), wait).ConfigureAwait(false)).Jobs;
        var entities = await region().ConfigureAwait(false);
        var budget = options.SweepBudget;
        var checkedRuns = new List<RunChecked>();
        foreach (var run in Enumerable.Reverse(known.Runs).TakeWhile(r => now - r.At < options.MaxOpen))
        {
            if (skip.Contains(run.RunId) || only is not null && !only.Contains(run.RunId)
                || only is null && (budget -= run.Vms.Count) < 0)
            {
                continue;
            }

            try
            {
                var states = await Task.WhenAll(run.Vms.Select(vm => known.Vms.Contains(vm)
                    ? entities.Ask<ReplicatedVmState?>(new GetVmStatus(vm), wait)
                    : Task.FromResult<ReplicatedVmState?>(null))).ConfigureAwait(false);
                var job = jobs.FirstOrDefault(j => j.Id == run.JobId);
                var notice = RunOutcomes.Ended(run, job?.Name ?? run.JobId, states, new Dictionary<string, string>(), now,
                    options.RefusedAfter);
                if (notice is not null && job is not null)
                {
                    notice = RunOutcomes.Ended(run, job.Name, states, await NamesAsync(job.SourcePool).ConfigureAwait(false), now,
                        options.RefusedAfter);
                }

                checkedRuns.Add(new RunChecked(run.RunId, run.Vms.Count, notice));
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
                log.Warning("notifier: run {0} not checked: {1}", run.RunId, e.Message);
            }
        }

        return new RunsChecked(checkedRuns, only ?? [], null);
    }

    /// <summary>The VMs' names from the source pool's inventory (its agent reads it); uuids only when it cannot be read.</summary>
    private async Task<IReadOnlyDictionary<string, string>> NamesAsync(string pool)
    {
        try
        {
            var agents = await poolAgents().ConfigureAwait(false);
            var reply = await agents.Ask<IPoolAgentMessage>(new GetInventory(pool), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            return reply is PoolInventory i
                ? i.Vms.GroupBy(v => v.Uuid).ToDictionary(g => g.Key, g => g.First().Name)
                : new Dictionary<string, string>();
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            return new Dictionary<string, string>();
        }
    }

    private sealed record RunChecked(string RunId, int Size, RunEndedNotice? Notice);

    private sealed record RunsChecked(IReadOnlyList<RunChecked> Runs, IReadOnlyCollection<string> Asked, string? Error);

    private sealed record Recheck(string RunId);
}
