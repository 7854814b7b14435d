using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// A failover test of one VM on its replica's pool: a fast clone of the newest restore point, marked by its creating call
/// (<see cref="FailoverTestMark"/>), made a VM of its own without the replication's metadata, its VIFs on an isolated network
/// or none, started and waited on until its guest answers (PV drivers detected, as Xen Orchestra's health check waits,
/// <see cref="HealthCheck"/>), then destroyed whatever happened. The replica and its restore points are never changed, so
/// the next run is a delta; a clone a dead node leaves is removed by the VM's next run once its time is over.
/// </summary>
public static class FailoverTest
{
    /// <summary>What a test may take beyond the guest's timeout (clone, VIFs, start, destroy) before its clone is an orphan.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromMinutes(30);

    public static async Task<RecoveryVmOutcome> RunAsync(Pool pool, TestReplica step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        var details = new Dictionary<string, string> { ["sr"] = step.SrUuid };
        try
        {
            var (point, network) = await log.StepAsync("check restore point and network",
                () => FailoverTestChecks.CheckAsync(pool, step, ct)).ConfigureAwait(false);
            details["restorePoint"] = point.Point.Uuid;
            details["restorePointTime"] = point.Datetime;
            details["network"] = network?.Uuid ?? "none";
            await TestAsync(pool, step, point, network, log, details, ct).ConfigureAwait(false);
            return log.Succeeded(null, Summed(details));
        }
        catch (Exception e)
        {
            var failed = log.Failed(e);
            return failed with { Details = new Dictionary<string, string>(failed.Details.Concat(Summed(details))) };
        }
    }

    /// <summary>What an operator reads first: "started, guest answered in 12.0 s, clone destroyed".</summary>
    private static Dictionary<string, string> Summed(Dictionary<string, string> details)
    {
        if (!details.ContainsKey("clone"))
        {
            return details;
        }

        var said = new List<string> { details.ContainsKey("started") ? "started" : "not started" };
        if (details.TryGetValue("guestSeconds", out var seconds))
        {
            said.Add($"guest answered in {seconds} s");
        }
        else if (details.ContainsKey("started"))
        {
            said.Add("guest did not answer");
        }

        said.Add(details.GetValueOrDefault("cloneDestroyed") == "true" ? "clone destroyed" : "clone NOT destroyed");
        details["summary"] = string.Join(", ", said);
        return details;
    }

    private static async Task TestAsync(Pool pool, TestReplica step, RestorePointOnSr point, NetworkRecord? network,
        RecoveryLog log, Dictionary<string, string> details, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(step.TimeoutSeconds);
        var until = DateTimeOffset.UtcNow + timeout + Slack;
        var name = FailoverTestMark.Name(point.Replica?.NameLabel ?? point.Point.NameLabel, step.Vm, until);
        var clone = await log.StepAsync($"clone restore point {point.Point.Uuid} as \"{name}\"",
            () => pool.CloneVmAsync(point.Point.Ref, name)).ConfigureAwait(false);
        try
        {
            details["clone"] = (await pool.VmAsync(clone).ConfigureAwait(false)).Uuid;
            await log.StepAsync("make the clone a VM of its own", () => UnprotectAsync(pool, clone)).ConfigureAwait(false);
            var vifs = await log.StepAsync(network is null ? "remove the clone's VIFs" : $"put the clone's VIFs on network {network.Uuid}",
                () => ReplaceVifsAsync(pool, clone, point.Point, network)).ConfigureAwait(false);
            await log.StepAsync("start the clone", () => pool.StartVmAsync(clone, startPaused: false, force: false)).ConfigureAwait(false);
            details["started"] = "true";
            var started = DateTimeOffset.UtcNow;
            await log.StepAsync("wait for the guest", () => WaitForGuestAsync(pool, clone, timeout, ct)).ConfigureAwait(false);
            var seconds = (DateTimeOffset.UtcNow - started).TotalSeconds;
            details["guestSeconds"] = seconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
            details["vifs"] = await RunningVifsAsync(pool, clone).ConfigureAwait(false);
            var running = details["vifs"] is { Length: > 0 } v ? v : "none";
            log.Note($"guest answered in {details["guestSeconds"]} s",
                $"VIFs while running: {running}{(vifs > 0 ? "" : " (the restore point has none)")}");
        }
        catch (Exception failure)
        {
            // The clone goes whatever ended the test.
            await DestroyOrSayAsync(pool, clone, until, log, details, failure).ConfigureAwait(false);
            throw;
        }

        await DestroyOrSayAsync(pool, clone, until, log, details, null).ConfigureAwait(false);
    }

    /// <summary>Destroys the clone; if it cannot, the test fails saying so (after <paramref name="failure"/>, which ended it
    /// first) and that the VM's first run past the clone's time removes it.</summary>
    private static async Task DestroyOrSayAsync(Pool pool, string clone, DateTimeOffset until, RecoveryLog log,
        Dictionary<string, string> details, Exception? failure)
    {
        try
        {
            await log.StepAsync("destroy the clone", () => DestroyAsync(pool, clone)).ConfigureAwait(false);
            details["cloneDestroyed"] = "true";
        }
        catch (Exception e)
        {
            details["cloneDestroyed"] = "false";
            throw new InvalidOperationException((failure is null ? "" : ErrorText.Of(failure) + "; ")
                + $"the clone {details.GetValueOrDefault("clone", clone)} could not be destroyed ({ErrorText.Of(e)}): the VM's first run "
                + $"after {until:u} removes it", failure ?? e);
        }
    }

    /// <summary>A clone of a snapshot is a template carrying the restore point's replication metadata: it becomes a VM nothing
    /// takes for a replica or a restore point, and one Xen Orchestra's backups skip.</summary>
    private static async Task UnprotectAsync(Pool pool, string clone)
    {
        await pool.SetIsATemplateAsync(clone, false).ConfigureAwait(false);
        var record = await pool.VmAsync(clone).ConfigureAwait(false);
        var keys = record.OtherConfig.Keys.Where(k => k.StartsWith("xo:", StringComparison.Ordinal))
            .ToDictionary(k => k, string? (_) => null);
        foreach (var (_, vdi) in await pool.DisksAsync(record).ConfigureAwait(false))
        {
            foreach (var key in vdi.OtherConfig.Keys.Where(k => k.StartsWith("xo:", StringComparison.Ordinal)))
            {
                keys[key] = null;
            }
        }

        await pool.StampAsync(record, keys).ConfigureAwait(false);
        await pool.SetBlockedOperationsAsync(clone, new Dictionary<string, string?> { ["start"] = null, ["start_on"] = null })
            .ConfigureAwait(false);
        await pool.SetTagsAsync(clone, record.Tags.Where(t => t != XoMetadata.ReplicaTag).Append("xo:no-bak=Failover test"))
            .ConfigureAwait(false);
    }

    /// <summary>VM.clone gives the clone new MAC addresses (<c>ocaml/xapi/xapi_vm_clone.ml</c>); the guest's network setup is
    /// bound to the replica's, so the clone gets VIFs with the restore point's devices and MACs, on the isolated network, or
    /// none. Returns how many VIFs the restore point has.</summary>
    private static async Task<int> ReplaceVifsAsync(Pool pool, string clone, VmRecord point, NetworkRecord? network)
    {
        foreach (var vif in (await pool.VmAsync(clone).ConfigureAwait(false)).Vifs)
        {
            await pool.DestroyVifAsync(vif).ConfigureAwait(false);
        }

        foreach (var vifRef in point.Vifs)
        {
            var vif = await pool.VifAsync(vifRef).ConfigureAwait(false);
            if (network is not null)
            {
                await pool.CreateVifAsync(new Dictionary<string, object?>
                {
                    ["VM"] = clone, ["network"] = network.Ref, ["device"] = vif.Device, ["MAC"] = vif.Mac, ["MTU"] = vif.Mtu,
                    ["other_config"] = new Dictionary<string, object?>(), ["qos_algorithm_type"] = "",
                    ["qos_algorithm_params"] = new Dictionary<string, object?>(), ["locking_mode"] = vif.LockingMode,
                }).ConfigureAwait(false);
            }
        }

        return point.Vifs.Count;
    }

    /// <summary>Until the clone runs with PV drivers detected; a <see cref="TimeoutException"/> after
    /// <paramref name="timeout"/>.</summary>
    private static async Task WaitForGuestAsync(Pool pool, string clone, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        while (true)
        {
            var vm = await pool.VmAsync(clone).ConfigureAwait(false);
            if (vm.PowerState == "Running" && vm.GuestMetrics != XapiValue.NullRef
                && await pool.PvDriversDetectedAsync(vm.GuestMetrics).ConfigureAwait(false))
            {
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"the clone's guest did not answer (PV drivers detected) within {timeout.TotalSeconds:F0} s");
            }
        }
    }

    /// <summary>The running clone's VIFs as the pool has them: "device MAC on network-uuid", comma-separated.</summary>
    private static async Task<string> RunningVifsAsync(Pool pool, string clone)
    {
        var networks = (await pool.AllAsync<NetworkRecord>().ConfigureAwait(false)).ToDictionary(n => n.Ref);
        var vifs = new List<string>();
        foreach (var vifRef in (await pool.VmAsync(clone).ConfigureAwait(false)).Vifs)
        {
            var vif = await pool.VifAsync(vifRef).ConfigureAwait(false);
            vifs.Add($"{vif.Device} {vif.Mac} on {(networks.TryGetValue(vif.Network, out var n) ? n.Uuid : vif.Network)}");
        }

        return string.Join(", ", vifs.Order(StringComparer.Ordinal));
    }

    /// <summary>The clone is this test's own: halted if it runs, then destroyed with its disks (never the restore point's).</summary>
    private static async Task DestroyAsync(Pool pool, string clone)
    {
        var record = await pool.VmAsync(clone).ConfigureAwait(false);
        if (record.PowerState != "Halted")
        {
            await pool.HardShutdownVmAsync(clone).ConfigureAwait(false);
            record = await pool.VmAsync(clone).ConfigureAwait(false);
        }

        await pool.DestroyVmAsync(record).ConfigureAwait(false);
    }

}
