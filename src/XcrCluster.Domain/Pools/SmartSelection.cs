namespace XcrCluster.Domain.Pools;

/// <summary>
/// Smart mode (docs/xen-orchestra.md §3): the VMs of a job are whatever VMs of <paramref name="Pool"/> match at run
/// time — every tag of <paramref name="Tags"/> (empty: any), the power state (null: any), none of
/// <paramref name="ExcludedTags"/>. As Xen Orchestra does, what replication made and VMs tagged <c>xo:no-bak</c> or
/// <c>xo:no-bak=reason</c> are never selected.
/// </summary>
public sealed record SmartSelection(string Pool, IReadOnlyList<string> Tags, string? PowerState, IReadOnlyList<string> ExcludedTags)
{
    public const string NoBackupTag = "xo:no-bak";

    /// <summary>XAPI's vm_power_state values.</summary>
    public static readonly IReadOnlyList<string> PowerStates = ["Halted", "Paused", "Running", "Suspended"];

    private const string Keys = "pool, tag, power or exclude";

    /// <summary>The matching VMs of the pool's inventory, in the order given.</summary>
    public IReadOnlyList<VmInfo> Select(IEnumerable<VmInfo> vms, string jobId)
        => vms.Where(vm => !vm.IsReplica
            && !(vm.BackupJob == jobId && vm.StartBlocked)
            && !vm.Tags.Any(IsNoBackup)
            && Tags.All(vm.Tags.Contains)
            && (PowerState is null || string.Equals(vm.PowerState, PowerState, StringComparison.OrdinalIgnoreCase))
            && !ExcludedTags.Any(vm.Tags.Contains)).ToList();

    /// <summary>The first invalid field and why, or null.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Pool))
        {
            return "pool: required";
        }

        if (Tags is null || Tags.Any(string.IsNullOrWhiteSpace))
        {
            return "tags: a list of non-empty tags (empty for any)";
        }

        if (ExcludedTags is null || ExcludedTags.Any(string.IsNullOrWhiteSpace))
        {
            return "excludedTags: a list of non-empty tags";
        }

        return PowerState is null || PowerStates.Contains(PowerState)
            ? null
            : $"powerState: one of {string.Join(", ", PowerStates)} (or none for any), not \"{PowerState}\"";
    }

    /// <summary>Reads <c>pool=alpha,tag=web,tag=prod,power=Running,exclude=foo</c> (tag and exclude repeat; a value may
    /// hold '=', as in <c>tag=xo:no-bak=reason</c>). A FormatException names the bad part.</summary>
    public static SmartSelection Parse(string text)
    {
        string? pool = null;
        string? power = null;
        var tags = new List<string>();
        var excluded = new List<string>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == part.Length - 1)
            {
                throw new FormatException($"\"{part}\": expected key=value with key {Keys}");
            }

            var (key, value) = (part[..eq].Trim(), part[(eq + 1)..].Trim());
            switch (key)
            {
                case "pool" when pool is null:
                    pool = value;
                    break;
                case "power" when power is null:
                    // Operators type "running"; XAPI says "Running".
                    power = PowerStates.FirstOrDefault(s => s.Equals(value, StringComparison.OrdinalIgnoreCase))
                        ?? throw new FormatException($"\"{part}\": power is one of {string.Join(", ", PowerStates)}");
                    break;
                case "pool" or "power":
                    throw new FormatException($"\"{part}\": {key} given twice");
                case "tag":
                    tags.Add(value);
                    break;
                case "exclude":
                    excluded.Add(value);
                    break;
                default:
                    throw new FormatException($"\"{part}\": unknown key \"{key}\" (expected {Keys})");
            }
        }

        var selection = new SmartSelection(pool ?? "", tags, power, excluded);
        return selection.Validate() is { } error ? throw new FormatException(error) : selection;
    }

    private static bool IsNoBackup(string tag) => tag == NoBackupTag || tag.StartsWith(NoBackupTag + "=", StringComparison.Ordinal);
}
