using XcrCluster.Domain;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// One target SR of a run (docs/xen-orchestra.md §7, §10, §11) with one deliberate difference: every disk is
/// imported into a clone of the last restore point's disk (or a new VDI) and the replica is switched to those
/// disks only when all imports succeeded, so a failure leaves nothing new visible. What the run creates carries
/// the marker of its creating call (<see cref="RunScope"/>); the commit protocol is in <see cref="ReplicaCommit"/>,
/// the recovery of interrupted runs in <see cref="TargetLeftovers"/>, the choice of base and replica in
/// <see cref="TargetReplica"/>.
/// </summary>
public sealed class TargetSr(Pool pool, SrRecord sr, JobRef job, string sourceVmUuid, string sourceVmName) : ITargetSide
{
    /// <summary>Kept for readers of older code and tests: the marker key of objects a run creates.</summary>
    public const string ImportingKey = RunScope.ImportingKey;

    private readonly RunScope scope = new(pool, job, sourceVmUuid);
    private readonly TargetReplica replica = new(pool, sr, job, sourceVmUuid);

    public SrRecord Sr { get; } = sr;

    public string SrUuid => Sr.Uuid;

    public string SrName => Sr.NameLabel;

    public Pool Pool { get; } = pool;

    /// <summary>Why the replica found could not be continued in place (started, changed, deleted), if it could not.</summary>
    public string? ReplicaNote => replica.Note;

    public Task<int> RemoveLeftoversAsync(CancellationToken ct) => TargetLeftovers.RemoveAsync(scope, Sr, ct);

    public Task FindBasesAsync(IReadOnlyList<string> snapshotVdiUuids, CancellationToken ct) => replica.FindAsync(snapshotVdiUuids, ct);

    public Task FindBasesByContentAsync(IReadOnlyList<ContentSnapshotDisk> queries, CancellationToken ct)
        => replica.FindByContentAsync(queries, ct);

    public bool HasBase(string snapshotVdiUuid) => replica.Bases.ContainsKey(snapshotVdiUuid);

    public BlockFanOut.TargetSink ImportTo(string targetDisk, Action<long> imported, CancellationToken ct)
        => shape => Task.FromResult(ImportSink.Create(shape, async (writeBody, length, token) =>
        {
            await Pool.Client.ImportVdiAsync(targetDisk, writeBody, length, VdiFormat.Vhd, ct: token).ConfigureAwait(false);
            imported(length);
        }, ct));

    /// <summary>The disk this run imports into: a clone of the base (delta) or a new VDI (full), marked by the call
    /// that creates it — a clone inherits the marker its source carries for the length of the clone call.</summary>
    public async Task<string> PrepareDiskAsync(VdiRecord source, string? baseSnapshotVdiUuid)
    {
        string vdi;
        if (baseSnapshotVdiUuid is not null)
        {
            var baseVdi = replica.Bases[baseSnapshotVdiUuid];
            await Pool.SetVdiOtherConfigAsync(baseVdi.Ref, new Dictionary<string, string?> { [RunScope.ImportingKey] = scope.Marker })
                .ConfigureAwait(false);
            try
            {
                vdi = scope.CreatedVdi(await Pool.CloneVdiAsync(baseVdi.Ref).ConfigureAwait(false));
            }
            finally
            {
                await Pool.SetVdiOtherConfigAsync(baseVdi.Ref, new Dictionary<string, string?> { [RunScope.ImportingKey] = null })
                    .ConfigureAwait(false);
            }

            if (source.VirtualSize > baseVdi.VirtualSize)
            {
                await Pool.ResizeVdiAsync(vdi, source.VirtualSize).ConfigureAwait(false);
            }

            await Pool.SetVdiNameLabelAsync(vdi, $"[Importing] {source.NameLabel}").ConfigureAwait(false);
            await Pool.SetVdiOtherConfigAsync(vdi, new Dictionary<string, string?>
            {
                [XoMetadata.CopyOf] = source.Uuid, [XoMetadata.ContentKey] = source.Uuid, [XoMetadata.Datetime] = null,
                    [XoMetadata.Exported] = null,
            }).ConfigureAwait(false);
            return vdi;
        }

        return scope.CreatedVdi(await Pool.CreateVdiAsync(new Dictionary<string, object?>
        {
            ["name_label"] = $"[Importing] {source.NameLabel}", ["name_description"] = source.NameDescription, ["SR"] = Sr.Ref,
            ["virtual_size"] = source.VirtualSize, ["type"] = source.Type, ["sharable"] = source.Sharable, ["read_only"] = false,
            ["other_config"] = new Dictionary<string, object?>
            {
                [RunScope.ImportingKey] = scope.Marker, [XoMetadata.CopyOf] = source.Uuid, [XoMetadata.ContentKey] = source.Uuid,
            },
            ["tags"] = source.Tags.Select(t => (object?)t).ToList(), ["xenstore_data"] = new Dictionary<string, object?>(),
            ["sm_config"] = new Dictionary<string, object?>(),
        }).ConfigureAwait(false));
    }

    /// <summary>All disks arrived: the replica (made now if there is none to continue) gets them and a restore point;
    /// old restore points beyond the retention go last. Returns (replica VM uuid, restore point uuid).</summary>
    public async Task<(string TargetVm, string RestorePoint)> CommitAsync(TargetCommit commit)
    {
        var done = await new ReplicaCommit(scope, Sr, sourceVmName).RunAsync(commit, replica.LiveTarget).ConfigureAwait(false);
        await PruneAsync(commit.CopyRetention - 1, done.RestorePointRef).ConfigureAwait(false);
        return (done.Vm, done.RestorePoint);
    }

    /// <summary>Undoes what this run made on the SR (a replica interrupted half-way is put back as it was); earlier
    /// restore points stay as they were.</summary>
    public async Task RollBackAsync()
    {
        foreach (var (@ref, isVm) in scope.Owned)
        {
            try
            {
                var record = isVm ? await Pool.VmAsync(@ref).ConfigureAwait(false) : null;
                if (record is not null && scope.IsMarked(record.OtherConfig))
                {
                    continue; // a replica in its commit: recovered below, back or forward
                }

                if (record is not null)
                {
                    await scope.DestroyVmAsync(record, DestroyReason.CreatedByThisRun).ConfigureAwait(false);
                }
                else
                {
                    await scope.DestroyVdiAsync(await Pool.VdiAsync(@ref).ConfigureAwait(false), DestroyReason.CreatedByThisRun)
                        .ConfigureAwait(false);
                }
            }
            catch (XapiException e) when (e.Code == "HANDLE_INVALID")
            {
                // already gone
            }
        }

        // Whatever else carries this job and VM's marker now is this run's: the same recovery as an interrupted run's.
        await TargetLeftovers.RemoveAsync(scope, Sr, CancellationToken.None).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<string>> PruneAsync(int keep, CancellationToken ct) => PruneAsync(keep, null);

    /// <summary>Keeps the newest <paramref name="keep"/> restore points of this schedule, SR and VM (by datetime; runs
    /// within one second share it, so a new one is named and never left to the sort) besides <paramref name="except"/>.
    /// Replica VMs of an older XO (one per run) count with them, as in XO's listReplicatedVms.</summary>
    private async Task<IReadOnlyList<string>> PruneAsync(int keep, string? except)
    {
        var points = (await Pool.SetAsync<VmRecord>().ConfigureAwait(false)).Where(PoolIndex.OfSourceVm(scope.SourceVmUuid)).Where(v =>
        {
            var oc = v.OtherConfig;
            return v.Ref != except && !scope.IsMarked(oc) && (OldFormatReplica.IsEntry(v, scope.Job, Sr.Uuid, scope.SourceVmUuid)
                || (v.IsASnapshot && oc.GetValueOrDefault(XoMetadata.Schedule) == scope.Job.ScheduleId
                    && oc.GetValueOrDefault(XoMetadata.Sr) == Sr.Uuid
                    && oc.GetValueOrDefault(XoMetadata.Vm) == scope.SourceVmUuid && oc.ContainsKey(XoMetadata.Datetime)));
        }).ToList();

        // Runs within one second share a datetime and the sort is stable: a point holding this run's delta base goes
        // last among its equals, so it counts as the newer. The order records come in decides nothing (a pool mirror's
        // is not creation order, and deleteFirst removed a base now and then).
        var baseVbds = replica.Bases.Values.SelectMany(b => b.Vbds).ToHashSet(StringComparer.Ordinal);
        points = [.. points.OrderBy(v => v.Vbds.Any(baseVbds.Contains))];
        var old = Retention.OldEntries(keep, points, v => RestorePointOrder.Key(v.OtherConfig, v.NameLabel)!).ToList();
        foreach (var point in old)
        {
            await scope.DestroyVmAsync(point, DestroyReason.Retention).ConfigureAwait(false);
        }

        // Disks of restore points retention removed earlier whose destroy failed then: retention finishes them now.
        var orphans = (await Pool.SetAsync<VdiRecord>().ConfigureAwait(false)).Where(PoolIndex.OfSourceVm(scope.SourceVmUuid))
            .Where(v => v.Sr == Sr.Ref && v.IsASnapshot && v.Vbds.Count == 0
            && v.OtherConfig.GetValueOrDefault(XoMetadata.Schedule) == scope.Job.ScheduleId
            && v.OtherConfig.GetValueOrDefault(XoMetadata.Vm) == scope.SourceVmUuid).ToList();
        foreach (var orphan in orphans)
        {
            await scope.DestroyVdiAsync(orphan, DestroyReason.Retention).ConfigureAwait(false);
        }

        return [.. old.Select(p => p.Uuid)];
    }

    public Task<string> HealthCheckAsync(string restorePointUuid, string srUuid, TimeSpan timeout, CancellationToken ct)
        => HealthCheck.RunAsync(scope, restorePointUuid, srUuid, sourceVmName, timeout, ct);
}
