using Akka.Streams;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Domain.Pools;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>What one target got from the transfer: its disks (source snapshot VBD, source VDI, target VDI), bytes
/// sent and the first error.</summary>
public sealed class TransferResult
{
    public List<TargetDisk> Disks { get; } = [];

    public long Bytes { get; set; }

    public string? Error { get; set; }
}

/// <summary>
/// The disks of one run, one export each fanned out to every target still in the run. The export is opened first:
/// when the source cannot compute a delta from the base, that disk falls back to a full with the reason recorded
/// (Xen Orchestra: "can't compute delta … fall back to a full", docs/xen-orchestra.md §9), and only then does each
/// target prepare the disk it imports into (a clone of its base for a delta, a new disk for a full). An error of
/// the export itself is thrown: no target can have the disk.
/// </summary>
public sealed class RunTransfer(Pool source, IReadOnlyList<ITargetSpec> specs, IReadOnlyList<ITargetSide> targets,
    IMaterializer materializer,
    Throttle? throttle, RunLog log, IProgress<RunProgress>? progress, RunProgress sample)
{
    public async Task<IReadOnlyList<TransferResult>> RunAsync(SourceVm side, VmRecord snapshot, List<DiskBase> bases,
        IReadOnlyList<SourceVm.JobSnapshot> jobSnapshots, IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)> live, CancellationToken ct)
    {
        var results = targets.Select(_ => new TransferResult()).ToList();
        foreach (var (vbd, vdi) in await source.DisksAsync(snapshot).ConfigureAwait(false))
        {
            var open = Enumerable.Range(0, targets.Count).Where(i => results[i].Error is null).ToList();
            if (open.Count == 0)
            {
                break;
            }

            var liveUuid = live.FirstOrDefault(l => l.Vdi.Ref == vdi.SnapshotOf).Vdi?.Uuid;
            var index = bases.FindIndex(b => b.LiveVdiUuid == liveUuid);
            var baseUuid = index < 0 ? null : bases[index].BaseSnapshotVdiUuid;
            var baseVdi = jobSnapshots.FirstOrDefault(s => s.Disk.SnapshotVdiUuid == baseUuid)?.Vdi;
            var start = log.Now;

            // One transfer slot on the source pool for the export and one per target on its pool, for the whole disk.
            await using var slots = await PoolSlotLeases.AcquireAsync(
                [(source.Name, source.Gate), .. open.Select(i => (specs[i].PoolName, specs[i].Gate))],
                SlotKind.Transfer, ct).ConfigureAwait(false);
            VdiExport export;
            try
            {
                export = await side.OpenExportAsync(vdi, baseVdi, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (baseVdi is not null && !ct.IsCancellationRequested)
            {
                log.Add($"export {vdi.NameLabel}", "warning", start,
                    message: $"can't compute delta {vdi.Uuid} from {baseVdi.Uuid}, fall back to a full: {e.Message}");
                bases[index] = bases[index] with { BaseSnapshotVdiUuid = null, Reason = FullReason.DeltaNotComputable };
                (baseUuid, baseVdi) = (null, null);
                export = await side.OpenExportAsync(vdi, null, ct).ConfigureAwait(false);
            }

            await using (export)
            {
                var lanes = new List<(int Index, string Target)>();
                foreach (var i in open)
                {
                    try
                    {
                        var target = await targets[i].PrepareDiskAsync(vdi, baseUuid).ConfigureAwait(false);
                        results[i].Disks.Add(new TargetDisk(vbd, vdi, target));
                        lanes.Add((i, target));
                    }
                    catch (Exception e) when (!ct.IsCancellationRequested)
                    {
                        results[i].Error = e.Message; // this target is out; the others go on
                    }
                }

                if (lanes.Count == 0)
                {
                    break;
                }

                var errors = await CopyAsync(export, vdi, liveUuid, lanes, results, ct).ConfigureAwait(false);
                await export.CompleteAsync(ct).ConfigureAwait(false);
                var describe = index < 0 ? "full: new disk" : bases[index].Describe();
                for (var k = 0; k < lanes.Count; k++)
                {
                    var (i, _) = lanes[k];
                    results[i].Error ??= errors[k].Error?.Message;
                    log.Add($"transfer {vdi.NameLabel}", errors[k].Error is null ? "success" : "failure", start,
                        errors[k].Error is null ? errors[k].Sent : null,
                        errors[k].Error?.Message ?? describe, targets[i].SrUuid);
                }
            }
        }

        return results;
    }

    private async Task<List<(Exception? Error, long Sent)>> CopyAsync(VdiExport export, VdiRecord vdi, string? liveUuid,
        List<(int Index, string Target)> lanes,
        List<TransferResult> results, CancellationToken ct)
    {
        var sent = new long[lanes.Count];
        var imports = lanes.Select((l, k) => targets[l.Index].ImportTo(l.Target, length =>
        {
            sent[k] = length;
            results[l.Index].Bytes += length;
        }, ct)).ToList();
        using var inFlight = TransferMetrics.Track(source.Name);
        var disk = progress is { } sink ? new DiskProgress(sink, sample, liveUuid ?? vdi.Uuid, vdi.NameLabel,
            [.. lanes.Select(l => (targets[l.Index].SrUuid, targets[l.Index].SrName))], log.Clock) : null;
        var errors = await BlockFanOut.CopyAsync(export.Content, imports, materializer, ct, throttle, disk).ConfigureAwait(false);
        return [.. errors.Select((e, k) => (e, sent[k]))];
    }
}
