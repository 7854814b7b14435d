using System.Collections.Immutable;
using System.Globalization;
using Akka.Hosting;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>
/// `xcr failover start --job`: every replica of a job (its VMs with a known chain of this job) started in the source VMs'
/// boot order — by <c>order</c>, then name — one after another, each followed by its <c>start_delay</c> before the next, as
/// XAPI starts a VM appliance. Each VM is first checked with a dry run of its step (which also answers its order, delay and
/// restore point: the plan); a dry run of the command stops there. One failing VM does not stop the others: each VM's
/// outcome is in the record, whose status is partial when some started.
/// </summary>
internal static class JobFailover
{
    /// <summary>The longest wait after a VM before the next one starts, whatever its start_delay says.</summary>
    public static readonly TimeSpan MaxStartDelay = TimeSpan.FromMinutes(30);

    public static async Task<IResult> StartAsync(RecoveryApi.FailoverRequest request, ActorRegistry registry, CancellationToken ct)
    {
        if (request.RestorePoint is not null)
        {
            return Results.BadRequest(new { error = "restorePoint: a restore point is one VM's; a job's failover uses each VM's newest" });
        }

        var job = await JobAsync(registry, request.Job!);
        if (job is null)
        {
            return Results.NotFound(new { error = $"job: no job {request.Job}" });
        }

        var chains = new List<(string Vm, ReplicaChain Chain)>();
        foreach (var (vm, state) in await VmStatesAsync(registry, job.Id))
        {
            var ofJob = state with { Chains = state.Chains.Where(c => c.Key.JobId.Value == job.Id).ToImmutableList() };
            if (Recoveries.ChainOf(ofJob, vm, request.Sr, null).Chain is { } chain)
            {
                chains.Add((vm, chain));
            }
        }

        if (chains.Count == 0)
        {
            var onSr = request.Sr is null ? "" : " on SR " + request.Sr;
            return Results.NotFound(new { error = $"no VM of job {job.Id} has a known restore point{onSr} (xcr replica list)" });
        }

        var started = DateTimeOffset.UtcNow;
        var force = request.Mode == "force";
        StartReplica Step(string vm, ReplicaChain chain, bool dryRun) => new(vm, chain.Key.SrUuid.Value, force, null, job.Id)
        {
            DryRun = dryRun, Networks = job.Settings.NetworkMapping, Newest = chain.RestorePoints.LastOrDefault()?.Uuid,
        };

        // The plan: every VM checked (nothing changes), then sorted by boot order.
        var plan = new List<(ReplicaChain Chain, RecoveryVmOutcome Checked)>();
        foreach (var (vm, chain) in chains)
        {
            plan.Add((chain, await Recoveries.StepAsync(registry, chain.Pool, Step(vm, chain, dryRun: true), ct)));
        }

        plan = [.. plan.OrderBy(p => p.Checked.Status == RunStatus.Success ? 0 : 1).ThenBy(p => Number(p.Checked, "order"))
            .ThenBy(p => p.Checked.Details.GetValueOrDefault("name") ?? p.Checked.Vm, StringComparer.Ordinal)];
        var kind = force ? RecoveryKind.FailoverForce : RecoveryKind.FailoverCopy;
        if (request.DryRun)
        {
            var planned = plan.Select((p, i) => Planned(p.Checked, i + 1)).ToList();
            return Results.Json(Recoveries.Body(new RecoveryRecord(Recoveries.NewId(started), kind, job.Id, started, DateTimeOffset.UtcNow,
                planned)));
        }

        var startable = plan.Count(p => p.Checked.Status == RunStatus.Success); // sorted first
        if (startable == 0)
        {
            // Nothing can start, nothing changed: a refusal, as for one VM, with each VM's reason.
            var reasons = string.Join("; ", plan.Select(p => $"VM {p.Checked.Vm}: {p.Checked.Error}"));
            return Results.Conflict(new
            {
                error = $"no VM of job {job.Id} can be failed over: {reasons}",
                vms = plan.Select(p => new { vm = p.Checked.Vm, error = p.Checked.Error, log = p.Checked.Log }),
            });
        }

        // From the first start on, the command goes to its end and is recorded even if the client goes away: what it
        // started must show in the record.
        var outcomes = new List<RecoveryVmOutcome>();
        foreach (var (chain, @checked) in plan)
        {
            if (@checked.Status != RunStatus.Success)
            {
                outcomes.Add(@checked); // refused or unreachable: reported, the others go on
                continue;
            }

            var step = Step(@checked.Vm, chain, dryRun: false);
            var outcome = await Recoveries.StepAsync(registry, chain.Pool, step, CancellationToken.None);
            var delay = TimeSpan.FromSeconds(Math.Clamp(Number(outcome, "startDelay"), 0, (long)MaxStartDelay.TotalSeconds));
            var last = outcomes.Count == startable - 1;
            if (outcome.Status == RunStatus.Success && delay > TimeSpan.Zero && !last)
            {
                var from = DateTimeOffset.UtcNow;
                await Task.Delay(delay, CancellationToken.None); // the VM's start_delay: its services come up before the next VM starts
                outcome = outcome with
                {
                    Log = [.. outcome.Log, new LogLine($"wait {delay.TotalSeconds:F0} s (start delay) before the next VM", "success", from,
                        DateTimeOffset.UtcNow)],
                };
            }

            outcomes.Add(outcome);
        }

        return await Recoveries.RecordAsync(registry, new RecoveryRecord(Recoveries.NewId(started), kind, job.Id, started,
            DateTimeOffset.UtcNow, outcomes));
    }

    /// <summary>A VM's place in the plan, as `xcr failover start --job --dry-run` prints it.</summary>
    private static RecoveryVmOutcome Planned(RecoveryVmOutcome vm, int position)
    {
        if (vm.Status != RunStatus.Success)
        {
            return vm;
        }

        var d = vm.Details;
        var what = vm.Log.LastOrDefault(l => l.Name.StartsWith("would start", StringComparison.Ordinal))?.Name ?? "would start";
        var moves = vm.Log.Count(l => l.Name.StartsWith("would move", StringComparison.Ordinal));
        var plan = $"#{position}: order {Number(vm, "order")}, start delay {Number(vm, "startDelay")} s, restore point "
            + $"{d.GetValueOrDefault("restorePoint")} ({d.GetValueOrDefault("restorePointTime")}): {what}"
            + (moves > 0 ? $", would move {moves} VIF(s) to the job's mapped networks" : "");
        return vm with { Details = new Dictionary<string, string>(d) { ["position"] = $"{position}", ["plan"] = plan } };
    }

    private static long Number(RecoveryVmOutcome vm, string key)
        => long.TryParse(vm.Details.GetValueOrDefault(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
