using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Node;

/// <summary>What every recovery command shares: its steps sent to the agents of the pools involved, its record kept with
/// the control plane (found by `xcr run show` like a run), and its answer.</summary>
internal static class Recoveries
{
    /// <summary>One VM's step on a pool's agent (logged in with <paramref name="login"/> when given, else the registered
    /// login); no answer (the agent's node gone) is a failed outcome naming the pool.</summary>
    public static async Task<RecoveryVmOutcome> StepAsync(ActorRegistry registry, string pool, IRecoveryStep step,
        CancellationToken ct = default, PoolRegistration? login = null)
    {
        var agents = await registry.GetAsync<PoolAgents>();
        var wait = AgentRecovery.Timeout + TimeSpan.FromSeconds(30);
        try
        {
            return (await agents.Ask<RecoveryStepDone>(new RunRecoveryStep(pool, step) { Login = login }, wait, ct)).Outcome;
        }
        catch (AskTimeoutException)
        {
            return RecoveryVmOutcome.Failed(step.Vm, $"pool {pool}'s agent did not answer within {wait.TotalHours:F0} h");
        }
    }

    /// <summary>Whether the step refused before changing anything (its reason is the command's answer, nothing is recorded).</summary>
    public static bool Refused(RecoveryVmOutcome outcome) => outcome.Details.GetValueOrDefault("refused") == "true";

    /// <summary>A new recovery id: "recovery-" and a sortable time, unique within the cluster.</summary>
    public static string NewId(DateTimeOffset at) => $"recovery-{at:yyyyMMddTHHmmss}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Keeps the record with the control plane and answers it: 200 when every VM succeeded or the command went on
    /// past a failing VM (each VM's status in the body), else 502 with the first reason.</summary>
    public static async Task<IResult> RecordAsync(ActorRegistry registry, RecoveryRecord record)
    {
        await ControlApi.ControlAsync<Done>(registry, new RecordRecovery(record));
        var body = Body(record);
        return record.Status == "failure" && record.Vms.Count == 1
            ? Results.Json(
                new { error = $"VM {record.Vms[0].Vm}: {record.Vms[0].Error} ({record.Kind.Name()} {record.Id})", record = body },
                statusCode: StatusCodes.Status502BadGateway)
            : Results.Json(body);
    }

    /// <summary>A refused single-VM command: 409 with the step's reason; nothing changed, nothing recorded.</summary>
    public static IResult Refusal(RecoveryVmOutcome outcome)
        => Results.Conflict(new { error = $"VM {outcome.Vm}: {outcome.Error}", vm = outcome.Vm, log = outcome.Log });

    /// <summary>A record as the API shows it, in the shape of a run (`xcr run show` prints both).</summary>
    public static object Body(RecoveryRecord r) => new
    {
        runId = r.Id, id = r.Id, kind = r.Kind, jobId = r.JobId, status = r.Status, started = r.Started, finished = r.Finished,
        vms = r.Vms.Select(v => new
        {
            vm = v.Vm, status = v.Status, error = v.Error, result = v.ResultVmUuid, details = v.Details, log = v.Log, tasks = r.Tasks(v),
        }),
    };

    /// <summary>The chain a command on one VM acts on: the one holding <paramref name="restorePoint"/>, else the one on
    /// <paramref name="sr"/>, else the one with the newest restore point; null with the reason when there is none.</summary>
    public static (ReplicaChain? Chain, string? Error) ChainOf(ReplicatedVmState? state, string vm, string? sr, string? restorePoint)
    {
        var chains = state?.Chains.Where(c => c.RestorePoints.Count > 0 && (sr is null || c.Key.SrUuid.Value == sr)).ToList() ?? [];
        if (chains.Count == 0)
        {
            return (null, $"no restore point of VM {vm}{(sr is null ? "" : " on SR " + sr)} is known (xcr replica list)");
        }

        if (restorePoint is not null)
        {
            var holding = chains.FirstOrDefault(c => c.RestorePoints.Any(p => p.Uuid == restorePoint));
            return holding is null ? (null, $"restorePoint: {restorePoint} is not a known restore point of VM {vm}") : (holding, null);
        }

        return (chains.OrderByDescending(c => c.RestorePoints.Max(p => p.SnapshotTime)).First(), null);
    }
}
