using Akka.Actor;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Starts a run of a job's schedule: one request per VM to its ReplicatedVm entity (which refuses a second
/// run of the same job with "the job is already running"), by hand or by the scheduler, and records the run with the
/// control plane so it can be found by id.</summary>
public static class JobRunner
{
    public sealed record VmStart(string Vm, bool Accepted, string? Reason);

    public static async Task<(string RunId, IReadOnlyList<VmStart> Vms)> StartAsync(IActorRef region, IActorRef control, JobDefinition job, JobSchedule schedule, string trigger)
    {
        var runId = Guid.NewGuid().ToString();
        var settings = schedule.Apply(job.Settings);
        var jobRef = new JobRef(job.Id, job.Name, schedule.Id, schedule.Name.Length > 0 ? schedule.Name : trigger);
        await control.Ask<IControlMessage>(new RecordRun(new RunLaunch(runId, job.Id, schedule.Id, job.Vms, trigger, DateTimeOffset.UtcNow)), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var vms = new List<VmStart>();
        foreach (var vm in job.Vms)
        {
            var request = new ReplicateVm(vm, runId, job.SourcePool, jobRef, job.Targets, settings);
            var reply = await region.Ask<IReplicatedVmMessage>(request, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            vms.Add(reply is RunRejected rejected ? new VmStart(vm, false, rejected.Reason) : new VmStart(vm, true, null));
        }

        return (runId, vms);
    }
}
