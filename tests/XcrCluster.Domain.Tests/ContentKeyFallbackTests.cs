namespace XcrCluster.Domain.Tests;

/// <summary>Xen Orchestra 6.5's content-key fallback (xo-cr-semantics §2.5 step 4): only when nothing of this job survived and
/// there is exactly one target; the newest group of snapshots with a match on the target wins, per disk.</summary>
public sealed class ContentKeyFallbackTests
{
    private static readonly ContentSnapshotDisk[] Snapshots =
    [
        new("old-a", "a", "20260101T00:00:00Z", "key-old-a"),
        new("old-b", "b", "20260101T00:00:00Z", "key-old-b"),
        new("new-a", "a", "20260102T00:00:00Z", "key-new-a"),
        new("newest-b", "b", "20260103T00:00:00Z", "key-newest-b"),
        new("gone", "z", "20260104T00:00:00Z", "key-gone"),
    ];

    private static IReadOnlyList<DiskBase> NothingOfTheJob() => BaseSelection.Select(["a", "b"], [], [_ => true], 0, out _);

    [Fact]
    public void The_newest_group_with_a_match_gives_the_bases_and_a_disk_it_lacks_stays_full()
    {
        string[] onTarget = ["old-a", "old-b", "new-a"];
        var bases = ContentKeyFallback.Apply(NothingOfTheJob(), Snapshots, 1, onTarget.Contains, 0, 0);

        // newest-b (and the snapshot of a disk no longer on the VM) have no match: the group of new-a wins, b alone is full.
        Assert.Equal(new DiskBase("a", "new-a", FullReason.NoExportedSnapshot) { Origin = BaseOrigin.ContentKey }, bases[0]);
        Assert.Equal(new DiskBase("b", null, FullReason.NoExportedSnapshot) { Fallback = ContentKeyOutcome.OtherDisks }, bases[1]);
        Assert.Equal("delta from new-a by content key (no exported snapshot of this job)", bases[0].Describe());
        Assert.EndsWith("the content-key fallback found a base for the other disks only", bases[1].Describe());
        Assert.Equal(0, BaseSelection.NextDeltaChainLength(bases, 0));
        Assert.Equal(["a", "b"], ContentKeyFallback.Queries(bases, Snapshots).Select(q => q.LiveVdiUuid).Distinct());
    }

    [Fact]
    public void Several_targets_or_no_match_leave_every_disk_full_with_the_reason()
    {
        var several = ContentKeyFallback.Apply(NothingOfTheJob(), Snapshots, 2, _ => true, 0, 0);
        Assert.All(several, b => Assert.Equal((null, ContentKeyOutcome.SeveralTargets), (b.BaseSnapshotVdiUuid, b.Fallback)));
        Assert.Contains("no content-key fallback with several targets", several[0].Describe());

        var none = ContentKeyFallback.Apply(NothingOfTheJob(), Snapshots, 1, _ => false, 0, 0);
        Assert.All(none, b => Assert.Equal((null, ContentKeyOutcome.NoMatch), (b.BaseSnapshotVdiUuid, b.Fallback)));
        Assert.Equal("full: no exported snapshot of this job to start from; no restore point on the target holds the content of a "
            + "snapshot of this disk (content key)", none[0].Describe());
    }

    [Fact]
    public void It_is_not_tried_when_a_base_of_the_job_survived_or_full_interval_forced_the_full()
    {
        SourceSnapshotDisk[] job = [new("s-a", "a", "20260101T00:00:00Z", true, 2), new("s-b", "b", "20260101T00:00:00Z", true, 2)];
        var oneMissing = BaseSelection.Select(["a", "b"], job, [uuid => uuid == "s-a"], 0, out _);
        Assert.Same(oneMissing, ContentKeyFallback.Apply(oneMissing, Snapshots, 1, _ => true, 0, 0));
        var forced = BaseSelection.Select(["a", "b"], job, [_ => true], 3, out _);
        Assert.All(forced, b => Assert.Equal(FullReason.FullIntervalReached, b.Reason));
        Assert.Same(forced, ContentKeyFallback.Apply(forced, Snapshots, 1, _ => true, 3, 2));

        // Missing on the target: the fallback applies and says why the job's own chain gave nothing.
        var missing = ContentKeyFallback.Apply(BaseSelection.Select(["a", "b"], job, [_ => false], 0, out _), Snapshots, 1,
            uuid => uuid == "new-a", 0, 2);
        Assert.Equal("delta from new-a by content key (no snapshot of this job on the target)", missing[0].Describe());
    }

    [Fact]
    public void Force_full_still_forces_a_full_after_a_match()
    {
        var bases = ContentKeyFallback.Apply(NothingOfTheJob(), Snapshots, 1, uuid => uuid is "old-a" or "old-b", 1, 0);
        Assert.All(bases, b => Assert.Equal((null, FullReason.FullIntervalReached), (b.BaseSnapshotVdiUuid, b.Reason)));
        Assert.Equal("full: fullInterval reached", bases[0].Describe());
    }
}
