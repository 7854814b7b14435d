using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>The pure rules: base selection, fullInterval, retention, settings, durations, pool registration, formats.</summary>
public sealed class DomainTests
{
    private static readonly Func<string, bool> Everywhere = _ => true;

    [Fact]
    public void Without_an_exported_snapshot_every_disk_is_full()
    {
        var bases = BaseSelection.Select(["a", "b"], [new SourceSnapshotDisk("sa", "a", "20260101T00:00:00Z", Exported: false, 0)],
            [Everywhere], 0, out var chain);
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
        var bases = BaseSelection.Select(["a"], [new SourceSnapshotDisk("s", "a", "20260101T00:00:00Z", true, chain)], [Everywhere],
            fullInterval, out _);
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

    [Theory]
    [InlineData("2h", 7200)]
    [InlineData("90s", 90)]
    [InlineData("7d", 604800)]
    [InlineData("168h", 604800)]
    [InlineData("01:30:00", 5400)]
    [InlineData("7.00:00:00", 604800)]
    public void Durations_up_to_7_days_parse(string text, double seconds)
        => Assert.Equal(TimeSpan.FromSeconds(seconds), Units.ParseDuration(text));

    [Theory]
    [InlineData("8d")]
    [InlineData("169h")]
    [InlineData("99999999999h")]
    [InlineData("99999999999999999999999999999999999999999d")]
    [InlineData("1e30s")]
    [InlineData("NaNs")]
    [InlineData("7.00:00:01")]
    [InlineData("10675199.02:48:05")]
    [InlineData("-1:00:00")]
    [InlineData("soon")]
    public void Durations_above_7_days_overflowing_or_malformed_are_refused_without_throwing(string text)
        => Assert.Null(Units.ParseDuration(text));

    [Theory]
    [InlineData("99999999999h")]
    [InlineData("8d")]
    [InlineData("1e30s")]
    public void A_job_change_to_a_timeout_out_of_range_names_the_field(string value)
    {
        var job = new JobDefinition("j", "nightly", "alpha", [Guid.NewGuid().ToString()],
            [new TargetRef("beta", Guid.NewGuid().ToString())], new ReplicationSettings());
        var (changed, error) = JobChanges.Apply(job, new Dictionary<string, string> { ["timeout"] = value });
        Assert.Null(changed);
        Assert.StartsWith($"timeout: \"{value}\" is not valid: a duration such as 2h or 30m, at most 7d", error);
        Assert.Contains("timeout", new ReplicationSettings { Timeout = TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1) }.Validate());
        Assert.Null(new ReplicationSettings { Timeout = TimeSpan.FromDays(7) }.Validate());
    }

    [Fact]
    public void A_pool_name_taken_is_a_conflict_unless_replacing_is_asked_and_bad_fields_are_named()
    {
        var alpha = new PoolRegistration("alpha", "https://192.0.2.10", "root", "sealed", null, false);
        var state = new ControlState().Apply(new PoolRegistered(alpha));
        var moved = alpha with { Url = "https://192.0.2.11" };

        var (none, conflict) = state.Process(new RegisterPool(moved));
        Assert.Null(none);
        Assert.Contains("replace", Assert.IsType<Conflict>(conflict).Reason);

        var (registered, done) = state.Process(new RegisterPool(moved, Replace: true));
        Assert.Equal(new PoolRegistered(moved), registered);
        Assert.Equal(new Done("alpha"), done);
        Assert.Equal("https://192.0.2.11", state.Apply(registered!).Pools["alpha"].Url);

        Assert.IsType<Done>(state.Process(new RegisterPool(alpha with { Name = "beta" })).Reply);
        Assert.StartsWith("fingerprint:",
            Assert.IsType<Refused>(state.Process(new RegisterPool(alpha with { Name = "beta", Fingerprint = "abc" })).Reply).Reason);
        Assert.Null(ControlState.PoolInvalid(alpha with { Fingerprint = string.Join(':', Enumerable.Repeat("ab", 32)) }));
        Assert.StartsWith("name:", ControlState.PoolInvalid(alpha with { Name = "bad name" }));
        Assert.StartsWith("url:", ControlState.PoolInvalid(alpha with { Url = "ftp://x" }));
    }
}
