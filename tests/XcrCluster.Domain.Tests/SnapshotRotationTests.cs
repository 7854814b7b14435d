namespace XcrCluster.Domain.Tests;

/// <summary>Source snapshot rotation across a job's schedules (Xen Orchestra's _removeUnusedSnapshots, PR #8051).</summary>
public sealed class SnapshotRotationTests
{
    private static RotatedSnapshot S(string name, string schedule, int hour, bool exported = true)
        => new(name, schedule, $"20260101T{hour:00}:00:00Z", exported);

    private static string[] Removed(RotatedSnapshot[] snapshots, int retention, string? current)
        => [.. SnapshotRotation.ToRemove(snapshots, retention, current).Select(s => s.Ref)];

    [Fact]
    public void Retention_zero_keeps_only_the_newest_snapshot_across_all_schedules()
        => Assert.Equal(["a1", "a2"], Removed([S("a1", "daily", 1), S("a2", "daily", 2), S("b1", "weekly", 3)], 0, "b1"));

    [Fact]
    public void Each_schedule_keeps_its_newest_retention_snapshots_the_run_own_included()
        => Assert.Equal(["b0", "a1"], Removed(
            [S("b0", "weekly", 0), S("a1", "daily", 1), S("b1", "weekly", 2), S("a2", "daily", 3), S("b2", "weekly", 4),
                S("a3", "daily", 5)],
            2, "a3"));

    [Fact]
    public void Without_this_run_snapshot_the_newest_exported_of_any_schedule_stays_and_never_exported_ones_go()
        => Assert.Equal(["b1", "x"], Removed([S("b1", "weekly", 1), S("a1", "daily", 2), S("x", "weekly", 3, exported: false)], 0, null));

    [Fact]
    public void Snapshots_sharing_the_newest_datetime_all_stay()
        => Assert.Equal(["a1"], Removed([S("a1", "daily", 1), S("a2", "daily", 2), S("b1", "weekly", 2)], 0, "a2"));

    /// <summary>Two runs of one schedule within one second: the earlier is an old entry, not the newest group, whichever
    /// order the pool lists them in; kept, it and the base copies under it would stay until the next run's rotation.</summary>
    [Fact]
    public void A_previous_run_of_the_same_schedule_in_the_same_second_is_rotated()
    {
        Assert.Equal(["a1"], Removed([S("a1", "daily", 2), S("a2", "daily", 2)], 0, "a2"));
        Assert.Equal(["a1"], Removed([S("a2", "daily", 2), S("a1", "daily", 2)], 0, "a2"));
        Assert.Equal(["a1"], Removed([S("a2", "daily", 2), S("a1", "daily", 2), S("b1", "weekly", 2)], 1, "a2"));
    }

    /// <summary>Two runs of one schedule within a second: the run's own is the newest, whatever order the pool lists them
    /// in; the older one would be a tie for the next base selection though the target pruned its restore point.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void An_older_snapshot_of_the_same_schedule_in_the_same_second_goes(int retention)
    {
        Assert.Equal(["a1"], Removed([S("a2", "daily", 2), S("a1", "daily", 2), S("b1", "weekly", 2)], retention, "a2"));
        Assert.Equal(["a1"], Removed([S("a1", "daily", 2), S("a2", "daily", 2), S("b1", "weekly", 2)], retention, "a2"));
    }
}
