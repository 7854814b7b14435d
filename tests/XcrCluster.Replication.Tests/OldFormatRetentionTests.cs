using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Testing;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Tests;

/// <summary>Replica VMs left by Xen Orchestra 5.96 … 6.2 (one halted VM per run, docs/xen-orchestra.md §3) count in the
/// retention list with the restore points of newer runs, as in XO's listReplicatedVms (issue 15).</summary>
[Collection("processes")]
public sealed class OldFormatRetentionTests
{
    /// <summary>A replica VM as XO 6.1–6.2 left it: a copy of the source snapshot's disks, named after the run, start
    /// blocked, and the job keys on the VM and its disks (each disk a copy of the snapshot disk with its userdevice).</summary>
    private static async Task<VmRecord> OldReplicaAsync(TwoPools pools, VmRecord source, VmRecord snapshot, SrRecord sr, string stamp,
        bool datetimeKey = true, bool keys = true)
    {
        var (target, job) = (pools.Target.Client, TwoPools.Job);
        var uuid = await Seeds.BuildAsync(pools.Source.Client, target, snapshot, sr);
        var vm = await pools.Target.VmAsync(await pools.Target.VmRefAsync(uuid));
        var suffix = stamp.Replace(":", "", StringComparison.Ordinal);
        await target.CallAsync("VM.set_name_label", vm.Ref, $"{source.NameLabel} - {job.JobName} - ({suffix})");
        if (!keys)
        {
            return await pools.Target.VmAsync(vm.Ref);
        }

        var common = new Dictionary<string, string>
        {
            [XoMetadata.Sr] = sr.Uuid, [XoMetadata.Job] = job.JobId, [XoMetadata.Schedule] = job.ScheduleId, [XoMetadata.Vm] = source.Uuid,
        };
        if (datetimeKey)
        {
            common[XoMetadata.Datetime] = stamp;
        }

        foreach (var (key, value) in common.Append(KeyValuePair.Create(XoMetadata.CopyOf, snapshot.Uuid)))
        {
            await target.CallAsync("VM.add_to_other_config", vm.Ref, key, value);
        }

        var copied = await Seeds.DisksAsync(pools.Source.Client, snapshot);
        foreach (var (userdevice, disk) in await Seeds.DisksAsync(target, vm))
        {
            foreach (var (key, value) in common.Append(KeyValuePair.Create(XoMetadata.CopyOf, copied[userdevice].Uuid)))
            {
                await target.CallAsync("VDI.add_to_other_config", disk.Ref, key, value);
            }
        }

        foreach (var operation in new[] { "start", "start_on" })
        {
            await target.CallAsync("VM.add_to_blocked_operations", vm.Ref, operation, XoMetadata.StartBlocked);
        }

        await target.CallAsync("VM.add_tags", vm.Ref, XoMetadata.ReplicaTag);
        return await pools.Target.VmAsync(vm.Ref);
    }

    /// <summary>A job snapshot of the source VM as XO 5.96+ stamps it (VM and disks), exported.</summary>
    private static async Task<VmRecord> JobSnapshotAsync(TwoPools pools, VmRecord source, string datetime)
    {
        var client = pools.Source.Client;
        var snapshot = await pools.Source.VmAsync((string)(await client.CallTaskAsync("VM.snapshot", [source.Ref, "snapshot"]))!);
        await pools.Source.StampAsync(snapshot, new Dictionary<string, string?>
        {
            [XoMetadata.Job] = TwoPools.Job.JobId, [XoMetadata.Schedule] = TwoPools.Job.ScheduleId, [XoMetadata.Vm] = source.Uuid,
            [XoMetadata.Datetime] = datetime, [XoMetadata.Exported] = "true",
        });
        return await pools.Source.VmAsync(snapshot.Ref);
    }

    [Fact]
    public async Task Old_format_replica_vms_count_in_copy_retention_and_the_oldest_goes_but_never_a_started_or_unkeyed_vm()
    {
        await using var pools = await TwoPools.StartAsync();
        var source = await pools.SourceVmAsync("tiny01");
        var sr = (await pools.Target.Client.GetAllRecordsAsync<SrRecord>()).Single(s => s.NameLabel == "Local storage");

        // An older run: its replica (dated by its name only, XO's fallback) and a replica someone released and started.
        var older = await JobSnapshotAsync(pools, source, "20240501T12:00:00Z");
        var oldest = await OldReplicaAsync(pools, source, older, sr, "20240501T12:00:00Z", datetimeKey: false);
        var started = await OldReplicaAsync(pools, source, older, sr, "20240401T12:00:00Z");
        await pools.Target.Client.CallAsync("VM.remove_from_blocked_operations", started.Ref, "start");
        await pools.Target.Client.CallAsync("VM.start", started.Ref, false, false);
        var olderDisks = await pools.Source.DisksAsync(older);
        await pools.Source.Client.CallAsync("VM.destroy", older.Ref); // rotated away by XO
        foreach (var (_, vdi) in olderDisks)
        {
            await pools.Source.Client.CallAsync("VDI.destroy", vdi.Ref);
        }

        pools.CollectGarbage();

        // The last run XO made: its exported snapshot on the source and its replica; and a copy a person made, no keys.
        var last = await JobSnapshotAsync(pools, source, "20240601T12:00:00Z");
        var newest = await OldReplicaAsync(pools, source, last, sr, "20240601T12:00:00Z");
        var person = await OldReplicaAsync(pools, source, last, sr, "20240601T12:00:00Z", keys: false);
        var oldestDisks = (await pools.Target.DisksAsync(oldest)).Select(d => d.Vdi.Uuid).ToList();

        var run = await pools.Replication(new ReplicationSettings { CopyRetention = 2 }, new TargetSpec(pools.Target, sr.Uuid))
            .RunAsync(source.Uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        Assert.False(run.Full); // a delta onto a clone of the newest old replica's disk (XO's legacy fallback)

        // XO never updates an old replica in place: a new VM, whose restore point and the newest old replica are the two kept.
        Assert.NotEqual(newest.Uuid, run.Targets[0].TargetVmUuid);
        var vms = (await pools.Target.Client.GetAllRecordsAsync<VmRecord>()).ToDictionary(v => v.Uuid);
        Assert.DoesNotContain(oldest.Uuid, vms.Keys);
        var vdis = (await pools.Target.Client.GetAllRecordsAsync<VdiRecord>()).Where(v => v.Managed).Select(v => v.Uuid).ToHashSet();
        Assert.All(oldestDisks, d => Assert.DoesNotContain(d, vdis));
        Assert.Equal(newest.NameLabel, vms[newest.Uuid].NameLabel);
        Assert.Equal(newest.OtherConfig[XoMetadata.Datetime], vms[newest.Uuid].OtherConfig[XoMetadata.Datetime]);
        Assert.Equal("Running", vms[started.Uuid].PowerState);
        Assert.Contains(person.Uuid, vms.Keys);
        var points = vms.Values.Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Job) == TwoPools.Job.JobId);
        Assert.Equal(run.Targets[0].RestorePointUuid, Assert.Single(points).Uuid);
        Assert.Equal(await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, source.Uuid),
            await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, run.Targets[0].TargetVmUuid!));
    }
}
