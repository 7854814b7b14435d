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
        var point = await pool.VmRefAsync(restorePointUuid).ConfigureAwait(false);
        var sr = await pool.SrRefAsync(srUuid, ct).ConfigureAwait(false);
        string copy;
        await pool.SetVmOtherConfigAsync(point, new Dictionary<string, string?> { [RunScope.ImportingKey] = scope.Marker })
            .ConfigureAwait(false);
        try
        {
            copy = scope.CreatedVm(await pool.CopyVmAsync(point, $"Health Check - {sourceVmName}", sr).ConfigureAwait(false));
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
