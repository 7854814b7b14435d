using XcrCluster.Domain;

namespace XcrCluster.Replication.Tests;

/// <summary>The pure rules: base selection, fullInterval, retention, settings, formats.</summary>
public sealed class DomainTests
{
    private static readonly Func<string, bool> Everywhere = _ => true;

    [Fact]
    public void Without_an_exported_snapshot_every_disk_is_full()
    {
        var bases = BaseSelection.Select(["a", "b"], [new SourceSnapshotDisk("sa", "a", "20260101T00:00:00Z", Exported: false, 0)], [Everywhere], 0, out var chain);
        Assert.All(bases, b => Assert.Equal(FullReason.NoExportedSnapshot, b.Reason));
        Assert.Equal(0, chain);
    }

    [Fact]
    public void The_newest_exported_group_is_the_base_and_a_new_disk_or_a_disk_missing_on_one_target_is_full()
    {
        SourceSnapshotDisk[] snapshots =
        [
            new("old-a", "a", "20260101T00:00:00Z", true, 4),
            new("new-a", "a", "20260102T00:00:00Z", true, 1),
            new("new-b", "b", "20260102T00:00:00Z", true, 1),
            new("newer-a", "a", "20260103T00:00:00Z", false, 0),
        ];
        var bases = BaseSelection.Select(["a", "b", "c"], snapshots, [Everywhere, uuid => uuid != "new-b"], 0, out var chain);
        Assert.Equal(1, chain);
        Assert.Equal(new DiskBase("a", "new-a", FullReason.None), bases[0]);
        Assert.Equal(new DiskBase("b", null, FullReason.MissingOnTarget), bases[1]);
        Assert.Equal(new DiskBase("c", null, FullReason.NewDisk), bases[2]);
        Assert.Equal(0, BaseSelection.NextDeltaChainLength(bases, chain));
    }

    [Theory]
    [InlineData(3, 0, false)]
    [InlineData(3, 1, false)]
    [InlineData(3, 2, true)]
    [InlineData(1, 0, true)]
    [InlineData(0, 100, false)]
    public void Full_interval_forces_a_full_once_the_chain_is_long_enough(int fullInterval, int chain, bool full)
    {
        var bases = BaseSelection.Select(["a"], [new SourceSnapshotDisk("s", "a", "20260101T00:00:00Z", true, chain)], [Everywhere], fullInterval, out _);
        Assert.Equal(full ? FullReason.FullIntervalReached : FullReason.None, bases[0].Reason);
        Assert.Equal(full ? 0 : chain + 1, BaseSelection.NextDeltaChainLength(bases, chain));
    }

    [Fact]
    public void Retention_returns_the_oldest_beyond_the_kept_count()
    {
        string[] entries = ["20260103T00:00:00Z", "20260101T00:00:00Z", "20260102T00:00:00Z"];
        Assert.Equal(["20260101T00:00:00Z"], Retention.OldEntries(2, entries, e => e));
        Assert.Empty(Retention.OldEntries(5, entries, e => e));
        Assert.Equal(3, Retention.OldEntries(0, entries, e => e).Count);
    }

    [Fact]
    public void Settings_name_the_bad_field_and_dates_use_xo_format()
    {
        Assert.Null(new ReplicationSettings().Validate());
        Assert.Contains("copyRetention", new ReplicationSettings { CopyRetention = 0 }.Validate());
        Assert.Contains("fullInterval", new ReplicationSettings { FullInterval = -1 }.Validate());
        Assert.Contains("timeout", new ReplicationSettings { Timeout = TimeSpan.Zero }.Validate());
        Assert.Equal("20260101T12:00:05Z", XoMetadata.FormatDateTime(new DateTimeOffset(2026, 1, 1, 13, 0, 5, TimeSpan.FromHours(1))));
        Assert.Equal("[XO Backup nightly] web01", XoMetadata.SnapshotName("nightly", "web01"));
    }
}
