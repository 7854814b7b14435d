namespace XcrCluster.Domain;

/// <summary>A job snapshot on the source as the rotation sees it (one snapshot VM).</summary>
public sealed record RotatedSnapshot(string Ref, string? Schedule, string Datetime, bool Exported);

/// <summary>
/// Source snapshot rotation as Xen Orchestra's <c>_removeUnusedSnapshots</c> (docs/xen-orchestra.md §11): every schedule of
/// the job keeps its newest <c>snapshotRetention</c> snapshots — the run's own included, so the setting is what is kept in
/// total — and the next base is never removed, whichever schedule made it (XO's PR #8051: "keep only the last snapshot
/// across all delta schedules"; before it, one snapshot per schedule stayed).
/// </summary>
public static class SnapshotRotation
{
    /// <summary>The snapshots to remove, oldest first. <paramref name="current"/> is this run's snapshot when some target
    /// received it (then it is the newest across all schedules, the one XO keeps); when no target did, the run's snapshot
    /// is already gone and, unlike XO (which keeps the newest by datetime, exported or not), the newest exported snapshot
    /// of any schedule is kept: it is the base that keeps the next run a delta. A snapshot never exported (a run killed
    /// before its end) is no base for anything and goes whatever the retention.</summary>
    public static IReadOnlyList<RotatedSnapshot> ToRemove(IReadOnlyCollection<RotatedSnapshot> snapshots, int retention, string? current)
    {
        // XO keeps the newest datetime, a group: snapshots of two schedules' runs within one second share it.
        var newest = snapshots.FirstOrDefault(s => s.Ref == current)?.Datetime
            ?? snapshots.Where(s => s.Exported).Select(s => s.Datetime).Max(StringComparer.Ordinal);
        // Only other schedules' snapshots join the run's own in that group: an older run of the same schedule within the
        // same second is replaced by it, else the next base selection could pick that one (a tie) though the target pruned it.
        var own = snapshots.FirstOrDefault(s => s.Ref == current);
        bool Kept(RotatedSnapshot s) => s.Ref == current
            || (s.Exported && s.Datetime == newest && (own is null || s.Schedule != own.Schedule));
        var unexported = snapshots.Where(s => !Kept(s) && !s.Exported).ToList();
        var old = snapshots.Except(unexported).GroupBy(s => s.Schedule ?? "")
            .SelectMany(schedule => Retention.OldEntries(retention, schedule, s => s.Ref == current ? s.Datetime + "~" : s.Datetime))
            .Where(s => !Kept(s));
        return [.. unexported.Concat(old).OrderBy(s => s.Datetime, StringComparer.Ordinal)];
    }
}

/// <summary>How Xen Orchestra orders a replica's restore points (<c>_listReplicatedVms.mjs</c>): by
/// <c>xo:backup:datetime</c>, else — replicas of older versions, one VM per run — by the <c>(YYYYMMDDTHHMMSSZ)</c> that
/// ends the VM's name (docs/xen-orchestra.md §11).</summary>
public static class RestorePointOrder
{
    /// <summary>The key restore points sort by (colons dropped, so a datetime and a name suffix compare); null when the
    /// entry has neither.</summary>
    public static string? Key(IReadOnlyDictionary<string, string> otherConfig, string nameLabel)
    {
        if (otherConfig.TryGetValue(XoMetadata.Datetime, out var datetime))
        {
            return datetime.Replace(":", "", StringComparison.Ordinal);
        }

        // name_label.slice(-17, -1): "<name> - <job> - (20240101T120000Z)"
        var suffix = nameLabel.Length >= 18 && nameLabel.EndsWith(')') ? nameLabel[^17..^1] : "";
        return System.Text.RegularExpressions.Regex.IsMatch(suffix, @"^\d{8}T\d{6}Z$") ? suffix : null;
    }
}
