using XcrCluster.Domain.Vm;
using System.Net.Http.Json;
using XcrCluster.Domain;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>What must hold on both pools after any run, however it ended, and after the run that follows it.</summary>
public static class PoolInvariants
{
    /// <summary>Sets simulator faults as an operator would, over HTTP (POST /sim/faults, a partial JSON object).</summary>
    public static async Task SetFaultsAsync(this SimHost sim, object faults)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsJsonAsync(new Uri(sim.Url, "/sim/faults"), faults);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task ClearFaultsAsync(this SimHost sim)
    {
        using var http = new HttpClient();
        using var response = await http.DeleteAsync(new Uri(sim.Url, "/sim/faults"));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Nothing a run made is left unexplained: no marker of ours, no "[Importing" name, no disk of a replica
    /// that no VM uses; every replica is halted with start blocked and holds exactly its newest restore point; the
    /// source has no temporary or unexported job snapshot and its blocked operations are <paramref name="blockedBefore"/>.</summary>
    /// <remarks>Not <paramref name="strict"/> (right after a failed step): a restore point disk whose destroy failed may
    /// wait, explained by its job metadata, for the next run's retention.</remarks>
    public static async Task AssertCleanAsync(TwoPools pools, string sourceVm, IReadOnlyDictionary<string, string> blockedBefore,
        bool strict = false)
    {
        var vms = await pools.Target.Client.GetAllRecordsAsync<VmRecord>();
        var vdis = await pools.Target.Client.GetAllRecordsAsync<VdiRecord>();
        Assert.DoesNotContain(vms, v => v.OtherConfig.Keys.Any(k => k.StartsWith("xcr:", StringComparison.Ordinal)));
        Assert.DoesNotContain(vdis, v => v.OtherConfig.Keys.Any(k => k.StartsWith("xcr:", StringComparison.Ordinal)));
        Assert.DoesNotContain(vms, v => v.NameLabel.StartsWith("[Importing", StringComparison.Ordinal));
        Assert.DoesNotContain(vdis, v => v.NameLabel.StartsWith("[Importing", StringComparison.Ordinal));
        Assert.DoesNotContain(vdis, v => v.Managed && (strict || !v.IsASnapshot) && v.Vbds.Count == 0
            && v.OtherConfig.ContainsKey(XoMetadata.Sr));
        foreach (var replica in vms.Where(v => !v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) is not null
            && v.PowerState == "Halted"
            && v.BlockedOperations.GetValueOrDefault("start") == XoMetadata.StartBlocked))
        {
            // Runs within one second share a datetime: the replica holds one of its newest restore points.
            var points = vms.Where(p => p.IsASnapshot && p.SnapshotOf == replica.Ref).ToList();
            Assert.True(points.Count > 0, $"replica {replica.Uuid} ({replica.NameLabel}) has no restore point: "
                + string.Join("; ", vms.Where(v => v.OtherConfig.ContainsKey(XoMetadata.Sr))
                    .Select(v => $"{v.Uuid} {v.NameLabel} snapshot={v.IsASnapshot} of={v.SnapshotOf} "
                + string.Join(",", v.OtherConfig.Select(p => p.Key + "=" + p.Value)))));
            var newest = points.Select(p => p.OtherConfig.GetValueOrDefault(XoMetadata.Datetime) ?? "").Max(StringComparer.Ordinal);
            var held = await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, replica.Uuid);
            var matches = false;
            foreach (var point in points.Where(p => (p.OtherConfig.GetValueOrDefault(XoMetadata.Datetime) ?? "") == newest))
            {
                matches |= held.SequenceEqual(await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, point.Uuid));
            }

            Assert.True(matches,
                $"replica {replica.Uuid} ({replica.NameLabel}, {points.Count} restore points) does not hold its newest "
                    + $"restore point ({newest})");
        }

        var source = await pools.Source.VmAsync(await pools.Source.VmRefAsync(sourceVm));
        Assert.Equal(blockedBefore.OrderBy(p => p.Key), source.BlockedOperations.OrderBy(p => p.Key));
        foreach (var snapshotRef in source.Snapshots)
        {
            var snapshot = await pools.Source.VmAsync(snapshotRef);
            Assert.NotEqual(XoMetadata.TempSnapshotName, snapshot.NameLabel);
            if (snapshot.OtherConfig.ContainsKey(XoMetadata.Job))
            {
                Assert.Equal("true", snapshot.OtherConfig.GetValueOrDefault(XoMetadata.Exported));
            }
        }
    }

    /// <summary>The run after a trial: a delta whose restore point holds exactly its source snapshot.</summary>
    public static async Task AssertNextRunIsExactDeltaAsync(TwoPools pools, string sourceVm, TargetSpec target,
        ReplicationSettings? settings = null)
    {
        GuestWorkload.Write(pools.SourceSim.Pool, sourceVm, 0, 2, 77);
        pools.CollectGarbage(); // as the pools' collectors do between runs (paused in tests)
        var next = await pools.Replication(settings ?? new ReplicationSettings(), target).RunAsync(sourceVm);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.False(next.Full, string.Join(", ", next.Bases.Select(b => b.Describe())));
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, next);
        var source = await pools.Source.VmAsync(await pools.Source.VmRefAsync(sourceVm));
        await AssertCleanAsync(pools, sourceVm, source.BlockedOperations, strict: true);
    }
}
