using Akka.Actor;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Starts a run of a job: one request per VM to its ReplicatedVm entity (which refuses a second run of the
/// same job with "the job is already running"), by hand or by the scheduler.</summary>
public static class JobRunner
{
    public sealed record VmStart(string Vm, bool Accepted, string? Reason);

    public static async Task<(string RunId, IReadOnlyList<VmStart> Vms)> StartAsync(IActorRef region, JobDefinition job, string trigger)
    {
        var runId = Guid.NewGuid().ToString();
        var vms = new List<VmStart>();
        foreach (var vm in job.Vms)
        {
            var request = new ReplicateVm(vm, runId, job.SourcePool, new JobRef(job.Id, job.Name, job.ScheduleId, trigger), job.Targets, job.Settings);
            var reply = await region.Ask<IReplicatedVmMessage>(request, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            vms.Add(reply is RunRejected rejected ? new VmStart(vm, false, rejected.Reason) : new VmStart(vm, true, null));
        }

        return (runId, vms);
    }
}
