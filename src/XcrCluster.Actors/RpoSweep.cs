using Akka.Actor;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>VMs of a job the RPO planner found due, to start through the schedule carrying the target.</summary>
public sealed record RpoStart(JobDefinition Job, JobSchedule Schedule, IReadOnlyList<string> Vms);

/// <summary>One look at every VM of every job: its lag row (for `/api/rpo`, the gauges and the notices) and, for jobs with an
/// RPO target, the VMs to start now. A job's VMs: those it names, those its smart selection picks now and those of its
/// recorded runs (a smart job's past VMs stay visible). Only VMs the control plane knows are asked about (asking any other
/// would start an entity for it): a VM never run has no restore point. A VM whose entity does not answer is left out of
/// this look (neither late nor due) rather than taken for one without restore points.</summary>
public static class RpoSweep
{
    private const int AsksInFlight = 32;

    /// <summary>The cluster parts asked; <see cref="Wait"/> bounds each ask (the node's --ask-timeout for /api/rpo: a
    /// control plane that does not answer is its 503 in that time).</summary>
    public sealed record Parts(IActorRef ControlPlane, IActorRef Region, IActorRef PoolAgents)
    {
        public TimeSpan Wait { get; init; } = TimeSpan.FromSeconds(10);
    }

    public sealed record Result(IReadOnlyList<RpoLag> Rows, IReadOnlyList<RpoStart> Due, bool AnyRpo);

    public static async Task<Result> RunAsync(Parts parts, RpoInventories inventories, DateTimeOffset now, bool plan)
    {
        var jobs = (await parts.ControlPlane.Ask<JobList>(new GetJobs(), parts.Wait).ConfigureAwait(false)).Jobs;
        var known = await parts.ControlPlane.Ask<Known>(new GetKnown(), parts.Wait).ConfigureAwait(false);
        var knownVms = known.Vms.ToHashSet(StringComparer.Ordinal);
        var views = new List<(JobDefinition Job, IReadOnlyList<string> Chosen, IReadOnlyList<string> All, PoolInventory? Inventory)>();
        foreach (var job in jobs)
        {
            var inventory = await inventories.GetAsync(parts.PoolAgents, job.SourcePool).ConfigureAwait(false);
            var selected = job.Smart is { } smart && inventory is not null ? smart.Select(inventory.Vms, job.Id).Select(v => v.Uuid) : [];
            var chosen = job.Vms.Concat(selected).Distinct(StringComparer.Ordinal).ToList();
            var ran = job.Smart is null ? [] : known.Runs.Where(r => r.JobId == job.Id).SelectMany(r => r.Vms);
            views.Add((job, chosen, [.. chosen.Concat(ran).Distinct(StringComparer.Ordinal)], inventory));
        }

        var asked = views.SelectMany(v => v.All).Where(knownVms.Contains).Distinct();
        var states = await StatesAsync(parts.Region, asked, parts.Wait).ConfigureAwait(false);
        var rows = new List<RpoLag>();
        var due = new List<RpoStart>();
        var starting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (job, chosen, all, inventory) in views)
        {
            var present = all.Where(vm => !knownVms.Contains(vm) || states.ContainsKey(vm)).ToList();
            rows.AddRange(present.Select(vm => RpoLag.Of(job, vm, inventory?.Vms.FirstOrDefault(v => v.Uuid == vm)?.Name,
                states.GetValueOrDefault(vm), now)));
            if (plan && RpoRules.Target(job, now) is { From: RpoRules.FromRpo, Schedule: { } schedule } target)
            {
                // A VM due for two jobs at once starts for the first only: the next look sees it busy.
                var facts = chosen.Where(vm => (!knownVms.Contains(vm) || states.ContainsKey(vm)) && !starting.Contains(vm))
                    .Select(vm => states.GetValueOrDefault(vm)?.RpoFacts(job.Id) ?? new RpoVm(vm, null, false, []));
                var vms = RpoPlanner.Due(target.Target, facts, now);
                starting.UnionWith(vms);
                if (vms.Count > 0)
                {
                    due.Add(new RpoStart(job, schedule, vms));
                }
            }
        }

        return new Result(RpoLag.Sorted(rows), due, jobs.Any(j => RpoRules.Target(j, now)?.From == RpoRules.FromRpo));
    }

    private static async Task<Dictionary<string, ReplicatedVmState>> StatesAsync(IActorRef region, IEnumerable<string> vms,
        TimeSpan wait)
    {
        var states = new System.Collections.Concurrent.ConcurrentDictionary<string, ReplicatedVmState>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(vms, new ParallelOptions { MaxDegreeOfParallelism = AsksInFlight }, async (vm, ct) =>
        {
            try
            {
                states[vm] = await region.Ask<ReplicatedVmState>(new GetVmStatus(vm), wait, ct).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                // Left out of this look: see the class comment.
            }
        }).ConfigureAwait(false);
        return new(states, StringComparer.Ordinal);
    }
}

/// <summary>The source pools' inventories as the sweep reads them (VM names, smart selections): each pool asked again once its
/// last attempt is older than <paramref name="maxAge"/>, so a pool that cannot be read (it keeps its last inventory, or has
/// none) does not slow every sweep. Safe to share: two sweeps at once may both read a pool.</summary>
public sealed class RpoInventories(TimeSpan maxAge)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (PoolInventory? Inventory, DateTimeOffset Tried)> read =
        new(StringComparer.Ordinal);

    public async Task<PoolInventory?> GetAsync(IActorRef poolAgents, string pool)
    {
        var known = read.GetValueOrDefault(pool);
        if (DateTimeOffset.UtcNow - known.Tried < maxAge || poolAgents.IsNobody())
        {
            return known.Inventory;
        }

        read[pool] = known with { Tried = DateTimeOffset.UtcNow };
        try
        {
            if (await poolAgents.Ask<IPoolAgentMessage>(new GetInventory(pool), TimeSpan.FromSeconds(10)).ConfigureAwait(false)
                is PoolInventory inventory)
            {
                read[pool] = (inventory, DateTimeOffset.UtcNow);
                return inventory;
            }
        }
        catch (AskTimeoutException)
        {
        }

        return known.Inventory;
    }
}
