using System.Globalization;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Control;

/// <summary>`xcr job set ID name=value...`: each setting by its API name, values as text, applied all or none.
/// Removing a VM or an SR leaves its replicas on the pools (listed as orphans until purged). Pure.</summary>
public static class JobChanges
{
    public static readonly IReadOnlyList<string> Names =
    [
        "name", "vms", "smart", "srs", "copyRetention", "fullInterval", "concurrency", "maxExportRate", "snapshotRetention", "timeout",
        "retries", "deleteFirst", "healthCheckSr", "networkMapping", "maxUncoalescedVdis", "healthCheckVmsWithTags", "healthCheckTimeout",
        "rpo",
    ];

    /// <summary>The job with the changes, or the first bad one named.</summary>
    public static (JobDefinition? Job, string? Error) Apply(JobDefinition job, IReadOnlyDictionary<string, string> changes)
    {
        if (changes.Count == 0)
        {
            return (null, $"nothing to change: give one or more of {string.Join(", ", Names)} as name=value");
        }

        foreach (var (name, value) in changes)
        {
            var settings = job.Settings;
            try
            {
                job = Canonical(name) switch
                {
                    "name" => job with { Name = value },
                    "vms" => job with { Vms = List(value) },
                    "smart" => job with { Smart = value.Length == 0 ? null : Pools.SmartSelection.Parse(value) },
                    "srs" => job with { Targets = [.. List(value).Select(Target)] },
                    "copyRetention" => job with { Settings = settings with { CopyRetention = Int(value) } },
                    "fullInterval" => job with { Settings = settings with { FullInterval = Int(value) } },
                    "concurrency" => job with { Settings = settings with { Concurrency = Int(value) } },
                    "maxExportRate" =>
                        job with { Settings = settings with { MaxExportRate = Units.ParseBytes(value)
                        ?? throw new FormatException("a byte rate such as 100MiB or 0") } },
                    "snapshotRetention" => job with { Settings = settings with { SnapshotRetention = Int(value) } },
                    "timeout" => job with { Settings = settings with { Timeout = value is "" or "0" ? null : Duration(value) } },
                    "retries" => job with { Settings = settings with { Retries = Int(value) } },
                    "deleteFirst" =>
                        job with { Settings = settings with { DeleteFirst = bool.TryParse(value, out var b) ? b
                        : throw new FormatException("true or false") } },
                    "healthCheckSr" => job with { Settings = settings with { HealthCheckSr = value.Length == 0 ? null : value } },
                    "healthCheckVmsWithTags" =>
                        job with { Settings = settings with { HealthCheckVmsWithTags = ScheduleChanges.Tags(value) } },
                    "healthCheckTimeout" => job with { Settings = settings with { HealthCheckTimeout = ScheduleChanges.Timeout(value) } },
                    "networkMapping" =>
                        job with { Settings = settings with { NetworkMapping = value.Length == 0 ? null : Mapping(value) } },
                    "rpo" => job with { Rpo = RpoRules.Parse(value) },
                    "maxUncoalescedVdis" => job with { Settings = settings with { MaxUncoalescedVdis = Int(value) } },
                    _ => throw new KeyNotFoundException(),
                };
            }
            catch (KeyNotFoundException)
            {
                return (null, $"{name}: not a job setting (one of {string.Join(", ", Names)})");
            }
            catch (FormatException e)
            {
                return (null, $"{name}: \"{value}\" is not valid: {e.Message}");
            }
        }

        return (job, null);
    }

    /// <summary>POOL:SR-UUID, as `xcr job create --sr` takes it.</summary>
    public static TargetRef Target(string text)
        => text.Split(':', 2) is [{ Length: > 0 } pool, { Length: > 0 } sr] ? new TargetRef(pool, sr)
            : throw new FormatException($"{text}: expected POOL:SR-UUID");

    /// <summary>SOURCE-NETWORK=TARGET-NETWORK pairs, comma-separated.</summary>
    public static IReadOnlyDictionary<string, string> Mapping(string text)
        => List(text).Select(p => p.Split('=', 2) is [{ Length: > 0 } from, { Length: > 0 } to] ? (from, to)
            : throw new FormatException($"{p}: expected SOURCE-NETWORK=TARGET-NETWORK"))
            .ToDictionary(p => p.from, p => p.to, StringComparer.Ordinal);

    private static string Canonical(string name) => Names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException();

    private static TimeSpan Duration(string value)
        => Units.ParseDuration(value) ?? throw new FormatException(Units.DurationHint + ", or 0");

    private static int Int(string value) => int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
        : throw new FormatException("a whole number");

    private static List<string> List(string value)
        => [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
