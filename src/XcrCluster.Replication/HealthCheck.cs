using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Replication;

/// <summary>
/// Xen Orchestra's health check (docs/xen-orchestra.md §12): a copy of the restore point on the SR, tagged never to
/// be backed up, started without VIFs; healthy once it runs with PV drivers detected. The copy carries the run's
/// marker from VM.copy itself (inherited from the restore point, marked for the length of the call) and is
/// destroyed whatever happens.
/// </summary>
public static class HealthCheck
{
    public static async Task<string> RunAsync(RunScope scope, string restorePointUuid, string srUuid, string sourceVmName, TimeSpan timeout,
        CancellationToken ct)
    {
        var pool = scope.Pool;
        var c = pool.Client;
        var point = await pool.VmRefAsync(restorePointUuid).ConfigureAwait(false);
        var sr = await c.GetRefByUuidAsync<SrRecord>(srUuid, ct).ConfigureAwait(false);
        string copy;
        await pool.SetOtherConfigAsync("VM", point, new Dictionary<string, string?> { [RunScope.ImportingKey] = scope.Marker })
            .ConfigureAwait(false);
        try
        {
            copy = scope.CreatedVm(
                (string)(await c.CallAsync("VM.copy", point, $"Health Check - {sourceVmName}", sr).ConfigureAwait(false))!);
        }
        finally
        {
            await pool.SetOtherConfigAsync("VM", point, new Dictionary<string, string?> { [RunScope.ImportingKey] = null })
                .ConfigureAwait(false);
        }

        try
        {
            await c.CallAsync("VM.set_is_a_template", copy, false).ConfigureAwait(false);
            await c.CallAsync("VM.add_tags", copy, "xo:no-bak=Health Check").ConfigureAwait(false);
            foreach (var vif in (await pool.VmAsync(copy).ConfigureAwait(false)).Vifs)
            {
                await c.CallAsync("VIF.destroy", vif)
                    .ConfigureAwait(false); // isolated: the copy must not meet the network as the source VM
            }

            var started = DateTimeOffset.UtcNow;
            await c.CallAsync("VM.start", copy, false, true).ConfigureAwait(false);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            while (true)
            {
                var vm = await pool.VmAsync(copy).ConfigureAwait(false);
                if (vm.PowerState == "Running" && vm.GuestMetrics != XapiValue.NullRef
                    && await c.CallAsync("VM_guest_metrics.get_PV_drivers_detected", vm.GuestMetrics).ConfigureAwait(false) is true)
                {
                    return $"the copy on SR {srUuid} started and its "
                        + $"guest answered in {(DateTimeOffset.UtcNow - started).TotalSeconds:F1} s";
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), limit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"the copy's guest did not answer within {timeout.TotalMinutes:F0} min");
                }
            }
        }
        finally
        {
            await scope.DestroyVmAsync(await pool.VmAsync(copy).ConfigureAwait(false), DestroyReason.CreatedByThisRun)
                .ConfigureAwait(false);
        }
    }
}
