namespace XcrCluster.Domain.Tests;

/// <summary>Two runs within one second share a datetime, and the rotation keeps the whole newest group: the base selection
/// must then take, per disk, a snapshot of that group every target still holds (as XO's intersection), not the first.</summary>
public sealed class BaseSelectionGroupTests
{
    [Fact]
    public void A_group_with_two_snapshots_of_a_disk_takes_the_one_the_target_holds()
    {
        SourceSnapshotDisk[] group =
        [
            new("older-run", "a", "20260101T00:00:00Z", true, 1),
            new("newer-run", "a", "20260101T00:00:00Z", true, 2),
        ];
        string[] onTarget = ["newer-run"];

        var bases = BaseSelection.Select(["a"], group, [onTarget.Contains], 0, out var chain);

        Assert.Equal(new DiskBase("a", "newer-run", FullReason.None), bases.Single());
        Assert.Equal(2, chain);
        var none = BaseSelection.Select(["a"], group, [_ => false], 0, out _);
        Assert.Equal(FullReason.MissingOnTarget, none.Single().Reason);
    }
}
