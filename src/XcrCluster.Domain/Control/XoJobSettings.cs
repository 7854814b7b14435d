using System.Text.Json;

namespace XcrCluster.Domain.Control;

/// <summary>A Xen Orchestra job's <c>settings</c> (spec xo-cr-semantics §7): <c>settings['']</c> for the job,
/// <c>settings[scheduleId]</c> over it, then <c>settings[vmUuid]</c> and <c>settings[srUuid]</c>. Here copyRetention and
/// fullInterval are kept per schedule and the rest per job, so a setting the schedules (or SRs) give different values is
/// refused, and per-VM settings too. A setting that would change what a run does and that xcr lacks is refused; one
/// without effect on replication is listed as a warning.</summary>
internal static class XoJobSettings
{
    /// <summary>Refused when set: xcr has no such behaviour and running without it would differ.</summary>
    private static readonly Dictionary<string, string> Refused = new()
    {
        ["checkpointSnapshot"] = "memory (checkpoint) snapshots are out of scope",
        ["offlineSnapshot"] = "xcr never shuts a VM down to snapshot it",
        ["offlineBackup"] = "xcr never shuts a VM down for a run",
        ["cbtDestroySnapshotData"] = "xcr keeps the snapshots' data",
        ["distributeReplications"] = "xcr replicates every VM to every target SR",
        ["longTermRetention"] = "no long-term (GFS) retention here",
    };

    /// <summary>Listed as warnings when set: they do not change what a Continuous Replication run here does.</summary>
    private static readonly Dictionary<string, string> Ignored = new()
    {
        ["preferNbd"] = "xcr reads disks through XAPI's VHD export", ["nbdConcurrency"] = "no NBD here",
        ["useNbd"] = "no NBD here", ["bypassVdiChainsCheck"] = "xcr still checks chains (maxUncoalescedVdis)",
        ["reportWhen"] = "xcr sends no report (see xcr events)",
        ["reportRecipients"] = "xcr sends no report", ["backupReportTpl"] = "xcr sends no report",
        ["hideSuccessfulItems"] = "xcr sends no report", ["exportRetention"] = "for remotes only",
        ["vmTimeout"] = "not used by Continuous Replication", ["validateVhdStreams"] = "not used by Continuous Replication",
        ["unconditionalSnapshot"] = "not used by Continuous Replication", ["diskPerVmConcurrency"] = "not used here",
        ["maxMergedDeltasPerRun"] = "for remotes only", ["getRemoteTimeout"] = "for remotes only", ["timezone"] = "schedules carry it",
    };

    /// <summary>Values that are Xen Orchestra's defaults: not worth a warning.</summary>
    private static readonly Dictionary<string, string> Defaults = new() { ["nbdConcurrency"] = "1", ["reportWhen"] = "\"never\"" };

    private static readonly HashSet<string> PerSchedule =
        ["copyRetention", "fullInterval", "healthCheckSr", "healthCheckVmsWithTags", "healthCheckTimeout"];

    public static (ReplicationSettings Job, List<JobSchedule> Schedules) Map(JsonElement settings, List<JobSchedule> schedules,
        IReadOnlyList<string> vms, IReadOnlyList<string> srs, List<string> warnings)
    {
        var levels = settings.ValueKind == JsonValueKind.Object ? settings.EnumerateObject().ToDictionary(p => p.Name, p => Entries(p))
            : settings.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? []
            : throw new FormatException("settings: expected an object by \"\", schedule id, VM or SR uuid");
        var job = levels.GetValueOrDefault("") ?? [];
        var bySchedule = schedules.ToDictionary(s => s.Id, s => levels.GetValueOrDefault(s.Id) ?? []);
        var bySr = srs.ToDictionary(s => s, s => levels.GetValueOrDefault(s) ?? []);
        foreach (var (key, entries) in levels.Where(l => l.Key.Length > 0 && !bySchedule.ContainsKey(l.Key) && !bySr.ContainsKey(l.Key)))
        {
            if (vms.Contains(key) && entries.Count > 0)
            {
                throw new FormatException($"settings[{key}]: per-VM settings are not supported ({string.Join(", ", entries.Keys)})");
            }

            if (entries.Count > 0)
            {
                warnings.Add($"settings[{key}]: names no schedule, SR or VM of the job (a removed one's?): not imported");
            }
        }

        // The job's own values, each overridden where every schedule (and every SR) agrees on another.
        var merged = new Dictionary<string, JsonElement>(job);
        foreach (var (level, values) in new[] { ("schedules", bySchedule), ("SRs", bySr) })
        {
            foreach (var name in values.Values.SelectMany(v => v.Keys).Where(n => level == "SRs" || !PerSchedule.Contains(n)).Distinct())
            {
                var given = values.Select(v => (v.Key, Value: v.Value.TryGetValue(name, out var x) ? x : merged.GetValueOrDefault(name)))
                    .ToList();
                if (given.Select(g => g.Value.ValueKind == JsonValueKind.Undefined ? "" : g.Value.GetRawText()).Distinct().Count() > 1)
                {
                    throw new FormatException($"settings: {name} differs between the job's {level} "
                        + $"({string.Join(", ", given.Select(g => $"{g.Key}: {Raw(g.Value)}"))}); xcr keeps {name} per job");
                }

                merged[name] = given[0].Value;
            }
        }

        var result = merged.Aggregate(new ReplicationSettings(), (s, p) => Apply(s, p.Key, p.Value, warnings));
        if (result.Validate() is { } bad)
        {
            throw new FormatException($"settings: {bad}");
        }

        var mapped = new List<JobSchedule>();
        foreach (var schedule in schedules)
        {
            var own = bySchedule[schedule.Id];
            var retention = own.TryGetValue("copyRetention", out var r) ? Int(r, "copyRetention") : (int?)null;
            if ((retention ?? (job.TryGetValue("copyRetention", out var j) ? Int(j, "copyRetention") : 0)) < 1)
            {
                throw new FormatException($"schedule {schedule.Id} ({schedule.Name}): copyRetention 0, so Xen Orchestra does not "
                    + "replicate in it; every schedule here does");
            }

            var interval = own.TryGetValue("fullInterval", out var f) ? Int(f, "fullInterval") : (int?)null;
            var check = own.Where(p => p.Key.StartsWith("healthCheck", StringComparison.Ordinal))
                .Aggregate(new ReplicationSettings(), (c, p) => Apply(c, p.Key, p.Value, warnings));
            var mappedSchedule = schedule with
            {
                CopyRetention = retention, FullInterval = interval,
                HealthCheckSr = own.TryGetValue("healthCheckSr", out _) ? check.HealthCheckSr ?? "" : null,
                HealthCheckVmsWithTags = own.ContainsKey("healthCheckVmsWithTags") ? check.HealthCheckVmsWithTags ?? [] : null,
                HealthCheckTimeout = check.HealthCheckTimeout,
            };
            if (mappedSchedule.Apply(result).Validate() is { } wrong)
            {
                throw new FormatException($"settings[{schedule.Id}]: {wrong}");
            }

            mapped.Add(mappedSchedule);
        }

        return (result, mapped);
    }

    private static ReplicationSettings Apply(ReplicationSettings s, string name, JsonElement v, List<string> warnings)
    {
        switch (name)
        {
            case "copyRetention": return s with { CopyRetention = Int(v, name) };
            case "fullInterval": return s with { FullInterval = Int(v, name) };
            case "concurrency": return s with { Concurrency = Int(v, name) };
            case "maxExportRate":
                return s with { MaxExportRate = v.ValueKind == JsonValueKind.Number ? (long)v.GetDouble() : Int(v, name) };
            case "deleteFirst": return s with { DeleteFirst = v.ValueKind == JsonValueKind.True };
            case "nRetriesVmBackupFailures": return s with { Retries = Int(v, name) };
            case "healthCheckSr":
                return s with { HealthCheckSr = v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } sr ? sr : null };
            case "healthCheckVmsWithTags" when v.ValueKind == JsonValueKind.Array:
                return s with { HealthCheckVmsWithTags = [.. v.EnumerateArray().Select(t => t.GetString() ?? "")] };

            // Xen Orchestra's '10m' (a duration text), or milliseconds.
            case "healthCheckTimeout":
                return s with { HealthCheckTimeout = v.ValueKind == JsonValueKind.Number ? TimeSpan.FromMilliseconds(Int(v, name))
                    : Units.ParseDuration(v.GetString() ?? "") ?? throw new FormatException($"settings: {name} = {Raw(v)}: "
                    + Units.DurationHint) };

            // The same meaning on both sides: snapshots kept in total per schedule, the newest always among them
            // (SnapshotRotation, Xen Orchestra's #8051).
            case "snapshotRetention": return s with { SnapshotRetention = Int(v, name) };
            case "timeout" when Int(v, name) > 0:
                warnings.Add("timeout: Xen Orchestra records it without enforcing it; xcr cancels a run still going after it");
                return s with { Timeout = TimeSpan.FromMilliseconds(Int(v, name)) };
            case "timeout": return s;
        }

        if (!Set(v) || Defaults.GetValueOrDefault(name) == v.GetRawText())
        {
            return s;
        }

        if (Refused.TryGetValue(name, out var why))
        {
            throw new FormatException($"settings: {name} = {Raw(v)} is not supported: {why}");
        }

        warnings.Add(Ignored.TryGetValue(name, out var note) ? $"{name} = {Raw(v)}: not imported, {note}"
            : $"{name} = {Raw(v)}: unknown setting, not imported");
        return s;
    }

    private static Dictionary<string, JsonElement> Entries(JsonProperty level) => level.Value.ValueKind == JsonValueKind.Object
        ? level.Value.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null).ToDictionary(p => p.Name, p => p.Value)
        : throw new FormatException($"settings[{level.Name}]: expected an object");

    /// <summary>Whether a value is anything but null, false, 0, "" or empty.</summary>
    private static bool Set(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.False or JsonValueKind.Undefined => false,
        JsonValueKind.Number => v.GetDouble() != 0,
        JsonValueKind.String => v.GetString()!.Length > 0,
        JsonValueKind.Array => v.GetArrayLength() > 0,
        JsonValueKind.Object => v.EnumerateObject().Any(),
        _ => true,
    };

    private static int Int(JsonElement v, string name) => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n
        : throw new FormatException($"settings: {name} = {Raw(v)}: expected a whole number");

    private static string Raw(JsonElement v) => v.ValueKind == JsonValueKind.Undefined ? "(not set)" : v.GetRawText();
}
