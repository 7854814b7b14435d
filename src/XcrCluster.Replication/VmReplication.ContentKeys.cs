using XcrCluster.Domain;

namespace XcrCluster.Replication;

/// <summary>Xen Orchestra 6.5's content-key fallback as a step of <see cref="VmReplication"/>'s base selection.</summary>
public sealed partial class VmReplication
{
    /// <summary>Phase 4, continued: when no base of this job survived and there is exactly one target, the newest snapshot of
    /// the live disks (any job) whose content a restore point on the target holds is the base, per disk (xo-cr-semantics §2.5
    /// step 4, §2.6); the target then decides, by Xen Orchestra's rules, whether the replica holding it is updated in place.</summary>
    private async Task ContentKeyFallbackAsync(Run run, CancellationToken ct)
    {
        if (!ContentKeyFallback.Applies(run.Bases))
        {
            return;
        }

        IReadOnlyList<ContentKeySnapshots.Candidate> candidates = [];
        if (run.Srs.Count == 1)
        {
            candidates = await ContentKeySnapshots.FindAsync(source, run.Side.Vm, run.Live).ConfigureAwait(false);
            var queries = ContentKeyFallback.Queries(run.Bases, candidates.Select(c => c.Disk));
            if (queries.Count > 0)
            {
                var target = run.Srs[0];
                var start = log.Now;
                var note = target.ReplicaNote;
                await target.FindBasesByContentAsync(queries, ct).ConfigureAwait(false);
                if (target.ReplicaNote is { } changed && changed != note)
                {
                    log.Add("replica", "warning", start, message: changed, target: target.SrUuid);
                }
            }
        }

        run.Bases = [.. ContentKeyFallback.Apply(run.Bases, [.. candidates.Select(c => c.Disk)], run.Srs.Count,
            uuid => run.Srs[0].HasBase(uuid), settings.FullInterval, run.ChainLength)];
        var used = run.Bases.Where(b => b.Origin == BaseOrigin.ContentKey).Select(b => b.BaseSnapshotVdiUuid).ToHashSet();
        run.ContentKeyBases = [.. candidates.Where(c => used.Contains(c.Disk.SnapshotVdiUuid))
            .Select(c => new SourceVm.JobSnapshot(c.SnapshotVm, c.Vdi,
                new SourceSnapshotDisk(c.Disk.SnapshotVdiUuid, c.Disk.LiveVdiUuid, c.Disk.Datetime, Exported: false, 0)))];
    }
}
