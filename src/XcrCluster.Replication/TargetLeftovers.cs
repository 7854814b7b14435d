using XcrCluster.Replication.Recovery;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// At the start of a run, what an interrupted run of the same job and VM left on the target pool, recognised by
/// its marker (<see cref="RunScope"/>): a replica caught in a commit is rolled back or forward
/// (<see cref="ReplicaRecovery"/>); a VM or disk the run created is destroyed; a marker left on a restore point
/// or one of its disks (marked for the length of a clone or copy call) is removed, the restore point kept; a failover-test
/// clone of the VM its test left behind (<see cref="FailoverTestMark"/>) is halted if running and destroyed with its disks.
/// </summary>
public static class TargetLeftovers
{
    /// <summary>Returns how many objects were removed or repaired.</summary>
    public static async Task<int> RemoveAsync(RunScope scope, SrRecord sr, CancellationToken ct)
    {
        var pool = scope.Pool;
        var removed = 0;
        var vms = await pool.SetAsync<VmRecord>(ct).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        foreach (var orphan in vms.Where(PoolIndex.FailoverTestsOf(scope.SourceVmUuid))
            .Where(v => !v.IsASnapshot && FailoverTestMark.IsOrphanOf(v.NameLabel, scope.SourceVmUuid, now)))
        {
            await scope.DestroyVmAsync(orphan, DestroyReason.FailoverTestOrphan).ConfigureAwait(false);
            removed++;
        }

        foreach (var vm in vms.Where(PoolIndex.Marked(scope.Marker)).Where(v => !v.IsASnapshot && scope.IsMarked(v.OtherConfig)))
        {
            removed += 1 + await ReplicaRecovery.RecoverAsync(scope, vm).ConfigureAwait(false);
        }

        var markers = new Dictionary<string, string?> { [RunScope.PreviousDisksKey] = null, [RunScope.ImportingKey] = null,
            [RunScope.CommittingKey] = null };
        foreach (var point in (await pool.SetAsync<VmRecord>(ct).ConfigureAwait(false)).Where(PoolIndex.Marked(scope.Marker))
            .Where(v => v.IsASnapshot && scope.IsMarked(v.OtherConfig)))
        {
            await pool.SetVmOtherConfigAsync(point.Ref, markers).ConfigureAwait(false);
            removed++;
        }

        foreach (var vdi in (await pool.SetAsync<VdiRecord>(ct).ConfigureAwait(false)).Where(PoolIndex.Marked(scope.Marker))
            .Where(v => v.Sr == sr.Ref && scope.IsCreatedMark(v.OtherConfig)))
        {
            if (vdi.IsASnapshot || vdi.Vbds.Count > 0)
            {
                await pool.SetVdiOtherConfigAsync(vdi.Ref, new Dictionary<string, string?> { [RunScope.ImportingKey] = null })
                    .ConfigureAwait(false);
            }
            else
            {
                await scope.DestroyVdiAsync(vdi, DestroyReason.LeftoverOfInterruptedRun).ConfigureAwait(false);
            }

            removed++;
        }

        return removed;
    }
}
