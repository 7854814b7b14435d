using Xunit;

namespace XcrCluster.Testing;

/// <summary>What an interrupted run may not leave behind on the pools: a half-visible replica on the target (a VM or VDI
/// keeping one of our transient markers, or an import's "[Importing" name), a temporary or unexported job snapshot on
/// the source, or blocked operations that differ from before the first run.</summary>
public static class PoolsClean
{
    /// <summary>The source VM's blocked operations (taken before the first run, compared after).</summary>
    public static async Task<Dictionary<string, object?>> BlockedAsync(SimHost source, string vm)
    {
        var record = (await source.AllRecordsAsync("VM")).Single(r => (string)r["uuid"]! == vm);
        return (Dictionary<string, object?>)record["blocked_operations"]!;
    }

    public static async Task AssertAsync(SimHost source, SimHost target, string vm, Dictionary<string, object?> blocked, string context)
    {
        foreach (var cls in new[] { "VM", "VDI" })
        {
            foreach (var record in await target.AllRecordsAsync(cls))
            {
                var keys = ((Dictionary<string, object?>)record["other_config"]!).Keys;
                Assert.False(keys.Any(k => k.StartsWith("xcr:", StringComparison.Ordinal)),
                    $"{context}: {cls} {record["uuid"]} keeps a marker");
                Assert.False(((string)record["name_label"]!).StartsWith("[Importing", StringComparison.Ordinal),
                    $"{context}: {cls} {record["name_label"]}");
            }
        }

        Assert.Equal(blocked.OrderBy(p => p.Key), (await BlockedAsync(source, vm)).OrderBy(p => p.Key));
        foreach (var snapshot in (await source.AllRecordsAsync("VM")).Where(r => r["is_a_snapshot"] is true))
        {
            var oc = (Dictionary<string, object?>)snapshot["other_config"]!;
            Assert.NotEqual("xo-backup-temp-snapshot-name", snapshot["name_label"]);
            Assert.True(!oc.ContainsKey("xo:backup:job") || oc.GetValueOrDefault("xo:backup:exported") as string == "true",
                $"{context}: unexported {snapshot["uuid"]}");
        }
    }
}
