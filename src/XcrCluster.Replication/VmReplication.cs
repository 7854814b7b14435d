using Akka.Streams;
using XcrCluster.Domain;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// One run of one VM to one or more target SRs, in Xen Orchestra's order (docs/xen-orchestra.md §4): checks,
/// job snapshots, base selection across every target, the snapshot, one export per disk fanned out to all
/// targets, commit per target, then the source snapshot marked exported (once any target succeeded, as XO)
/// and old job snapshots rotated. Reports a task log; never throws for a VM-level failure.
/// </summary>
public sealed partial class VmReplication(Pool source, IReadOnlyList<ITargetSpec> targets, JobRef job, ReplicationSettings settings,
    IMaterializer materializer, TimeProvider? time = null)
{
    private readonly RunLog log = new(time ?? TimeProvider.System);
    private readonly Throttle? throttle = Throttle.For(settings.MaxExportRate, time);

    /// <summary>maxExportRate: the job run's throttle, shared with its other VMs (<see cref="RunThrottles"/>); by default
    /// this VM's own.</summary>
    public Throttle? RateLimit { get => throttle; init => throttle = value; }

    /// <summary>The run's id, stamped on its result.</summary>
    public string RunId { get; init; } = "";

    /// <summary>Where the run says what it is doing (phases, and per disk and target the bytes so far, at most 4
    /// times a second each); reporting must be quick and never throw. Nothing when null.</summary>
    public IProgress<RunProgress>? Progress { get; init; }

    /// <summary>Runs the VM once. Never throws for a failure of the run, whatever ended it (a pool error, a transfer
    /// cut short, a reply that does not parse, cancellation): what the run made is undone and the report says why.</summary>
    public async Task<RunResult> RunAsync(string vmUuid, CancellationToken ct = default)
    {
        var run = new Run { VmUuid = vmUuid };
        source.ReadFromNow();
        try
        {
            await CheckSourceAsync(run, vmUuid, ct).ConfigureAwait(false);
            run.UnblockMigration = await run.Side.BlockMigrationAsync().ConfigureAwait(false);
            run.JobSnapshots = await run.Side.JobSnapshotsAsync().ConfigureAwait(false);
            await OpenTargetsAsync(run, ct).ConfigureAwait(false);
            SelectBases(run);
            await ContentKeyFallbackAsync(run, ct).ConfigureAwait(false);
            await DeleteFirstAsync(run, ct).ConfigureAwait(false);
            await SnapshotAsync(run).ConfigureAwait(false);
            await TransferAsync(run, ct).ConfigureAwait(false);
            await CommitTargetsAsync(run).ConfigureAwait(false);
            await HealthChecksAsync(run, ct).ConfigureAwait(false);
            await SettleSourceAsync(run).ConfigureAwait(false);
            var failed = run.Outcomes.Where(o => !o.Succeeded).ToList();
            return Report(run, failed.Count == 0 ? RunStatus.Success : RunStatus.Failed,
                failed.Count == 0 ? null : string.Join("; ", failed.Select(f => $"SR {f.SrUuid}: {f.Error}")));
        }
        catch (RunRefusedException e)
        {
            log.Add("VM", e.Skipped ? "skipped" : "failure", log.Now, message: e.Message);
            return Report(run, e.Skipped ? RunStatus.Skipped : RunStatus.Failed, e.Message);
        }
        catch (Exception e)
        {
            // No exception type decides whether cleanup runs: whatever ended the run, what it made is undone.
            var error = e is OperationCanceledException && ct.IsCancellationRequested
                ? "cancelled (timeout, node stopping or job deleted): what this run made was removed"
                : Describe(e);
            log.Add("VM", "failure", log.Now, message: error);
            await UndoAsync(run).ConfigureAwait(false);
            return Report(run, RunStatus.Failed, error);
        }
        finally
        {
            await RestoreMigrationAsync(run.UnblockMigration).ConfigureAwait(false);
            foreach (var target in run.Srs.OfType<IAsyncDisposable>())
            {
                await target.DisposeAsync().ConfigureAwait(false); // a remote target's session on its agent
            }

            Report(run, RunPhase.Done);
        }
    }

    /// <summary>The run's result as the entity, the API and `xcr` take it: full when any disk was sent whole (or none was
    /// reached).</summary>
    /// <summary>A progress sample of this run (VM-wide, or of one target SR).</summary>
    private RunProgress Sample(Run run, string phase, ITargetSide? sr = null)
        => new(RunId, job.JobId, run.VmUuid, null, null, sr?.SrUuid, 0, 0, phase, log.Now)
        {
            VmName = run.SideIfChecked?.Vm.NameLabel, SrName = sr?.SrName,
        };

    private void Report(Run run, string phase, ITargetSide? sr = null, string? snapshot = null)
        => Progress?.Report(Sample(run, phase, sr) with { Snapshot = snapshot });

    private RunResult Report(Run run, RunStatus status, string? error)
        => new(RunId, status, error, run.Bases.Count == 0 || run.Bases.Any(b => b.BaseSnapshotVdiUuid is null), run.SnapshotUuid,
            [.. run.Outcomes], log.Entries) { Bases = [.. run.Bases], Pruned = [.. run.Pruned] };

    /// <summary>Phase 1: the VM as the pool has it now: a VM this run may replicate, disks it can export, chains the pool
    /// has coalesced enough (else the VM is skipped).</summary>
    private async Task CheckSourceAsync(Run run, string vmUuid, CancellationToken ct)
    {
        var vm = await source.VmAsync(await source.VmRefAsync(vmUuid).ConfigureAwait(false)).ConfigureAwait(false);
        run.Side = new SourceVm(source, job, vm);
        await run.Side.CheckEligibleAsync().ConfigureAwait(false);
        run.Live = await source.DisksAsync(vm).ConfigureAwait(false);
        SourceVm.CheckSupported(vm, run.Live.Select(d => d.Vdi));
        await run.Side.CheckChainsAsync(settings.MaxUncoalescedVdis).ConfigureAwait(false);
    }

    /// <summary>Phase 4: per disk, the newest exported job snapshot every target still holds (a full where none does, or
    /// when the chain reached fullInterval).</summary>
    private void SelectBases(Run run)
        => run.Bases = [.. BaseSelection.Select(run.Live.Select(d => d.Vdi.Uuid).ToList(), run.JobSnapshots.Select(s => s.Disk).ToList(),
            run.Srs.Select(t => (Func<string, bool>)t.HasBase).ToList(), settings.FullInterval, out run.ChainLength)];

    /// <summary>Phase 6: the snapshot this run exports (the live VM's run metadata cleaned first).</summary>
    private async Task SnapshotAsync(Run run)
    {
        await run.Side.CleanLiveMetadataAsync().ConfigureAwait(false);
        Report(run, RunPhase.Snapshot);
        run.Snapshot = await log.StepAsync("snapshot", () => run.Side.SnapshotAsync(log.Now)).ConfigureAwait(false);
        run.SnapshotUuid = run.Snapshot.Uuid;
        Report(run, RunPhase.Snapshot, snapshot: run.SnapshotUuid); // the milestone: what an interrupted run left on the source

        // Read now, right after the snapshot's own read (no write since, so no barrier), not after the transfer's tasks:
        // the snapshot's VIFs do not change, and its networks are those of the moment it was taken.
        run.Vifs = await SourceVifsAsync(run.Snapshot).ConfigureAwait(false);
    }

    /// <summary>Phase 7: one export per disk, its blocks fanned out to every target.</summary>
    private async Task TransferAsync(Run run, CancellationToken ct)
    {
        run.TransferStart = log.Now;
        run.Results = await new RunTransfer(source, targets, run.Srs, materializer, throttle, log, Progress, Sample(run, RunPhase.Export))
            .RunAsync(run.Side, run.Snapshot!, run.Bases, [.. run.JobSnapshots, .. run.ContentKeyBases], run.Live, ct)
            .ConfigureAwait(false);
    }

    /// <summary>Phase 8: each target commits what it received (or rolls it back), with the snapshot's record and VIFs.</summary>
    private async Task CommitTargetsAsync(Run run)
    {
        var snapshot = run.Snapshot!;
        var record = await source.VmFieldsAsync(snapshot.Ref).ConfigureAwait(false);
        var vtpms = (await source.VtpmsAsync(record).ConfigureAwait(false)).Select(v => v.Vtpm).ToList();
        foreach (var (target, result) in run.Srs.Zip(run.Results))
        {
            var commit = new TargetCommit(snapshot, record, result.Disks, run.Vifs, run.TransferStart, result.Bytes,
                settings.CopyRetention) { NetworkMapping = settings.NetworkMapping, Vtpms = vtpms };
            run.Outcomes.Add(await CommitAsync(run, target, commit, result).ConfigureAwait(false));
        }
    }

    /// <summary>Phase 10: the source snapshot is the next base once some target received it (XO drops a failed target and
    /// marks it after the others' transfers); old job snapshots rotate.</summary>
    private async Task SettleSourceAsync(Run run)
    {
        var succeeded = run.Outcomes.Any(o => o.Succeeded);
        var settled = run.Snapshot!;
        if (succeeded)
        {
            await run.Side.MarkExportedAsync(settled, BaseSelection.NextDeltaChainLength(run.Bases, run.ChainLength)).ConfigureAwait(false);
        }
        else
        {
            await run.Side.DiscardAsync(settled).ConfigureAwait(false);
        }

        run.Snapshot = null; // settled: nothing left for a cleanup to undo
        await run.Side.RotateSnapshotsAsync(settings.SnapshotRetention, succeeded ? settled.Ref : null).ConfigureAwait(false);
    }

    /// <summary>What a run learnt so far, phase by phase; what a cleanup undoes is read from it.</summary>
    private sealed class Run
    {
        private SourceVm? side;

        public string VmUuid { get; init; } = "";

        public SourceVm Side { get => side ?? throw new InvalidOperationException("the source was not checked"); set => side = value; }

        public SourceVm? SideIfChecked => side;

        public IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)> Live { get; set; } = [];


        public IReadOnlyList<SourceVm.JobSnapshot> JobSnapshots { get; set; } = [];

        /// <summary>Snapshots of other jobs the content-key fallback diffs against (never rotated by this job).</summary>
        public IReadOnlyList<SourceVm.JobSnapshot> ContentKeyBases { get; set; } = [];

        public Func<Task>? UnblockMigration { get; set; }

        public List<ITargetSide> Srs { get; } = [];

        public List<DiskBase> Bases { get; set; } = [];

        public int ChainLength;

        public VmRecord? Snapshot { get; set; }

        public string? SnapshotUuid { get; set; }

        /// <summary>The snapshot's VIFs with their networks, for targets that cannot read the source.</summary>
        public IReadOnlyList<SourceVif> Vifs { get; set; } = [];

        public DateTimeOffset TransferStart { get; set; }

        public IReadOnlyList<TransferResult> Results { get; set; } = [];

        public List<TargetResult> Outcomes { get; } = [];

        public List<RemovedRestorePoint> Pruned { get; } = [];
    }
}
