using System.Globalization;
using XcrCluster.Domain;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Replication;

/// <summary>
/// Xen Orchestra's health check (docs/xen-orchestra.md §12, spec xo-cr-semantics.md §2.12): a clone of the restore point
/// when all its disks are already on the health-check SR (VM.clone: each disk VDI.clone'd, ocaml/xapi/xapi_vm_clone.ml
/// <c>clone_single_vdi</c>, so the clone's disks are new VDIs of their own on the restore point's chain), else a full copy
/// to that SR (VM.copy); tagged never to be backed up, started without VIFs; healthy once it runs with PV drivers
/// detected. The clone or copy carries the run's marker from the call itself (inherited from the restore point's
/// other_config, marked for the length of the call) and is destroyed whatever happens: VM.destroy takes the VM and its
/// VBDs, then only the disks no other VM uses go (the restore point's own VDIs keep their VBDs, so they are never
/// candidates).
/// </summary>
public static class HealthCheck
{
    /// <summary>Xen Orchestra's opt-out: a VM tagged <c>xo:no-health-check</c> (or <c>xo:no-health-check=reason</c>).</summary>
    public const string OptOutTag = "xo:no-health-check";

    /// <summary>Xen Orchestra's words when the schedule's tags leave the VM out.</summary>
    public const string NotMatchingTags = "This VM doesn't match the health check's tags for this schedule";

    /// <summary>Why this VM is not health-checked (log status and message), or null when it is; the SR is set.</summary>
    public static (string Status, string Message)? Skip(IReadOnlyList<string> vmTags, ReplicationSettings settings)
    {
        if (vmTags.FirstOrDefault(t => t == OptOutTag || t.StartsWith(OptOutTag + "=", StringComparison.Ordinal)) is { } optOut)
        {
            return ("skipped", $"the VM has the tag \"{optOut}\": no health check");
        }

        return settings.HealthCheckVmsWithTags is { Count: > 0 } wanted && !vmTags.Any(wanted.Contains) ? ("info", NotMatchingTags) : null;
    }

    public static async Task<string> RunAsync(RunScope scope, string restorePointUuid, string srUuid, string sourceVmName,
        TimeSpan timeout, CancellationToken ct)
    {
        var pool = scope.Pool;
        var point = await pool.VmRefAsync(restorePointUuid).ConfigureAwait(false);
        var sr = await pool.SrRefAsync(srUuid, ct).ConfigureAwait(false);
        var disks = await pool.DisksAsync(await pool.VmAsync(point).ConfigureAwait(false)).ConfigureAwait(false);
        var clone = disks.All(d => d.Vdi.Sr == sr);
        var what = clone ? "clone" : "copy";
        var name = $"Health Check - {sourceVmName}";
        string copy;
        await pool.SetVmOtherConfigAsync(point, new Dictionary<string, string?> { [RunScope.ImportingKey] = scope.Marker })
            .ConfigureAwait(false);
        try
        {
            copy = scope.CreatedVm(clone ? await pool.CloneVmAsync(point, name).ConfigureAwait(false)
                : await pool.CopyVmAsync(point, name, sr).ConfigureAwait(false));
        }
        finally
        {
            await pool.SetVmOtherConfigAsync(point, new Dictionary<string, string?> { [RunScope.ImportingKey] = null })
                .ConfigureAwait(false);
        }

        try
        {
            await pool.SetIsATemplateAsync(copy, false).ConfigureAwait(false);
            await pool.AddTagAsync(copy, "xo:no-bak=Health Check").ConfigureAwait(false);
            foreach (var vif in (await pool.VmAsync(copy).ConfigureAwait(false)).Vifs)
            {
                await pool.DestroyVifAsync(vif)
                    .ConfigureAwait(false); // isolated: the copy must not meet the network as the source VM
            }

            var started = DateTimeOffset.UtcNow;
            await pool.StartVmAsync(copy, startPaused: false, force: true).ConfigureAwait(false);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            while (true)
            {
                var vm = await pool.VmAsync(copy).ConfigureAwait(false);
                if (vm.PowerState == "Running" && vm.GuestMetrics != XapiValue.NullRef
                    && await pool.PvDriversDetectedAsync(vm.GuestMetrics).ConfigureAwait(false))
                {
                    return $"the {what} on SR {srUuid} started and its "
                        + $"guest answered in {(DateTimeOffset.UtcNow - started).TotalSeconds:F1} s"
                        + (clone ? " (VM.clone: the restore point's disks are on that SR)" : "");
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), limit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"the {what}'s guest did not answer within {Say(timeout)} (healthCheckTimeout)");
                }
            }
        }
        finally
        {
            await scope.DestroyVmAsync(await pool.VmAsync(copy).ConfigureAwait(false), DestroyReason.CreatedByThisRun)
                .ConfigureAwait(false);
        }
    }

    private static string Say(TimeSpan t) => t.TotalMinutes >= 1 && t.Seconds == 0
        ? $"{t.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)} min"
        : $"{t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";
}
