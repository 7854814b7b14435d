using Akka.Actor;
using Akka.Cluster;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Whether a run has ended, from its VMs' entities: every VM's part final (success, failure, skipped, interrupted),
/// or never accepted by its entity (refused, forgotten) once the run is old enough that it will not be. Pure.</summary>
public static class RunOutcomes
{
    /// <summary>The run-ended notice, or null while a VM's part may still end; <paramref name="states"/>: each VM's state in
    /// the run's order, null for a VM the books no longer know; <paramref name="names"/>: VM names by uuid where known.</summary>
    public static RunEndedNotice? Ended(RunLaunch run, string jobName, IReadOnlyList<ReplicatedVmState?> states,
        IReadOnlyDictionary<string, string> names, DateTimeOffset now, TimeSpan refusedAfter)
    {
        var vms = new List<VmOutcome>();
        var last = run.At;
        for (var i = 0; i < run.Vms.Count; i++)
        {
            var vm = run.Vms[i];
            var state = states[i];
            var done = state?.History.LastOrDefault(h => h.RunId == run.RunId);
            var status = state is null ? "forgotten" : state.StatusOf(run.RunId) ?? "refused";
            if (status is "running" or "queued" || done is null && now - run.At < refusedAfter)
            {
                return null;
            }

            last = done is not null && done.Finished > last ? done.Finished : last;
            vms.Add(new VmOutcome(vm, names.GetValueOrDefault(vm, vm), status, done?.Result.Error ?? Why(status),
                done?.Result.Targets.Sum(t => t.BytesSent) ?? 0));
        }

        var failed = vms.Count(v => v.Status is not ("success" or "skipped"));
        var outcome = failed == 0 ? "success" : failed == vms.Count ? "failure" : "partial";
        return new RunEndedNotice(run.JobId, jobName, run.RunId, run.Trigger, outcome, run.At, vms, last);
    }

    private static string? Why(string status) => status switch
    {
        "refused" => "its entity did not accept the run (the job was already running on it, or it did not answer)",
        "forgotten" => "the VM's replicas were purged and no job covers it",
        _ => null,
    };
}

/// <summary>Node down and up from cluster member events: unreachable or removed (left when it was leaving) is down once,
/// reachable again or up (joined, or back after a restart) is up. Never about the node watching.</summary>
public sealed class NodeWatch(Address self)
{
    private readonly HashSet<Address> down = [];

    public INotice? On(ClusterEvent.IClusterDomainEvent e, DateTimeOffset now) => e switch
    {
        ClusterEvent.IMemberEvent m when m.Member.Address == self => null,
        ClusterEvent.UnreachableMember u when u.Member.Address == self => null,
        ClusterEvent.ReachableMember r when r.Member.Address == self => null,
        ClusterEvent.UnreachableMember u when down.Add(u.Member.Address) => Down(u.Member, "unreachable", now),
        ClusterEvent.MemberRemoved r when down.Add(r.Member.Address) =>
            Down(r.Member, r.PreviousStatus == MemberStatus.Exiting ? "left" : "removed", now),
        ClusterEvent.ReachableMember r when down.Remove(r.Member.Address) => Up(r.Member, now),
        ClusterEvent.MemberUp u => Seen(u.Member, now),
        _ => null,
    };

    private NodeUp Seen(Member member, DateTimeOffset now)
    {
        down.Remove(member.Address);
        return Up(member, now);
    }

    private static NodeDown Down(Member m, string reason, DateTimeOffset now) => new(m.Address.ToString(), [.. m.Roles], reason, now);

    private static NodeUp Up(Member m, DateTimeOffset now) => new(m.Address.ToString(), [.. m.Roles], now);
}
