using System.Text.Json;
using XcrCluster.Domain.Pools;

namespace XcrCluster.Domain.Control;

/// <summary>A Xen Orchestra delta job with SR targets (Continuous Replication) as a job here: its own job and schedule ids kept,
/// so the first run finds the snapshots and replicas Xen Orchestra made (xo:backup:job / xo:backup:schedule) and is a delta.
/// <see cref="Srs"/> are target SR uuids (the caller finds their pools); <see cref="Warnings"/> name what is not carried over.</summary>
public sealed record XoJob(string Id, string Name, IReadOnlyList<string> Vms, SmartSelection? Smart, IReadOnlyList<string> Srs,
    ReplicationSettings Settings, IReadOnlyList<JobSchedule> Schedules, IReadOnlyList<string> Warnings);

/// <summary>Reads Xen Orchestra's job JSON (spec xo-cr-semantics §7: job <c>{type:'backup', mode:'delta', name, vms: IdPattern,
/// srs: {id:{__or:[…]}}, settings}</c>, schedules <c>{id, jobId, cron, enabled, name, timezone}</c>). What would behave
/// differently here is refused with the reason (a <see cref="FormatException"/>), never dropped silently.</summary>
public static class XoJobImport
{
    /// <summary>The shapes read, as `xcr job import --help` tells them.</summary>
    public const string Shapes = "{\"job\":{...},\"schedules\":[...]}; a job object whose \"schedules\" is a list or a map by id; "
        + "or a config export {\"jobs\":[...],\"schedules\":[...]} (--xo-job picks the job when it holds several)";

    private static readonly HashSet<string> JobKeys = ["id", "type", "mode", "name", "vms", "srs", "remotes", "settings", "schedules",
        "userId", "proxy", "compression"];

    /// <summary>The job in <paramref name="json"/> (the one of id <paramref name="jobId"/> when given) whose smart selection, if
    /// any, is on <paramref name="sourcePool"/>.</summary>
    public static XoJob Read(string json, string sourcePool, string? jobId = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not JSON: {e.Message}");
        }

        using (document)
        {
            var (job, schedules) = Locate(document.RootElement, jobId);
            return Job(job, schedules, sourcePool);
        }
    }

    private static XoJob Job(JsonElement job, List<(JsonElement Schedule, string? Key)> scheduleElements, string sourcePool)
    {
        var warnings = new List<string>();
        var id = Text(job, "id") ?? throw new FormatException("job: no \"id\"");
        if (!ControlState.IdValid(id))
        {
            throw new FormatException($"job: id \"{id}\" is not letters, digits and '-' (at most 64)");
        }

        if (Text(job, "type") is { } type && type != "backup")
        {
            throw new FormatException($"job: type \"{type}\" is not a VM backup job");
        }

        if (Text(job, "mode") is not "delta")
        {
            throw new FormatException($"job: mode \"{Text(job, "mode")}\": only delta jobs (Continuous Replication) are imported; "
                + "a full-mode job to SRs (Disaster Recovery) copies whole VMs each run");
        }

        if (job.TryGetProperty("remotes", out var remotes) && Ids(remotes, "remotes").Count > 0)
        {
            throw new FormatException("remotes: the job also backs up to remotes; xcr replicates to SRs only "
                + "(keep the remotes in a Xen Orchestra job of its own)");
        }

        var srs = job.TryGetProperty("srs", out var srPattern) ? Ids(srPattern, "srs") : [];
        if (srs.Count == 0)
        {
            throw new FormatException("srs: the job has no target SR (it is not a Continuous Replication job)");
        }

        if (Text(job, "proxy") is { Length: > 0 } proxy)
        {
            warnings.Add($"proxy: the job ran on proxy {proxy}; xcr runs it on this cluster's nodes");
        }

        if (job.TryGetProperty("compression", out var compression) && compression.ValueKind == JsonValueKind.String
            && compression.GetString() is { Length: > 0 } method)
        {
            warnings.Add($"compression: \"{method}\" is for full-mode exports; not used by replication");
        }

        warnings.AddRange(job.EnumerateObject().Where(p => !JobKeys.Contains(p.Name)).Select(p => $"{p.Name}: unknown, not imported"));
        var name = Text(job, "name") is { Length: > 0 } given ? given : $"xo-{id}";
        if (name != Text(job, "name"))
        {
            warnings.Add($"name: the job has none; named {name}");
        }

        var (vms, smart) = XoVmPattern.Read(job.TryGetProperty("vms", out var vmPattern) ? vmPattern : default, sourcePool, warnings);
        var schedules = scheduleElements.Select(e => Schedule(e.Schedule, e.Key, warnings)).ToList();
        if (schedules.Count == 0)
        {
            throw new FormatException("schedules: none for this job; export them with it (xo-cli schedule.getAll), "
                + "their ids scope the restore points");
        }

        var settings = XoJobSettings.Map(job.TryGetProperty("settings", out var s) ? s : default, schedules, vms, srs, warnings);
        return new XoJob(id, name, vms, smart, srs, settings.Job, settings.Schedules, warnings);
    }

    /// <summary>The job object and its schedules (only those whose jobId, when they have one, is the job's).</summary>
    private static (JsonElement Job, List<(JsonElement Schedule, string? Key)> Schedules) Locate(JsonElement root, string? jobId)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"expected a JSON object: {Shapes}");
        }

        JsonElement job;
        if (root.TryGetProperty("job", out var inner) && inner.ValueKind == JsonValueKind.Object)
        {
            job = inner;
        }
        else if (root.TryGetProperty("jobs", out var jobs) && jobs.ValueKind == JsonValueKind.Array)
        {
            var candidates = jobs.EnumerateArray().Where(j => j.ValueKind == JsonValueKind.Object && Text(j, "type") == "backup"
                && (jobId is null || Text(j, "id") == jobId)).ToList();
            job = candidates.Count == 1 ? candidates[0] : throw new FormatException(candidates.Count == 0
                ? $"jobs: no backup job{(jobId is null ? "" : $" of id {jobId}")}"
                : $"jobs: {candidates.Count} backup jobs ({string.Join(", ", candidates.Select(j => Text(j, "id")))}); "
                    + "pick one with --xo-job");
        }
        else if (root.TryGetProperty("vms", out _) || root.TryGetProperty("mode", out _))
        {
            job = root;
        }
        else
        {
            throw new FormatException($"no job found: {Shapes}");
        }

        if (jobId is not null && Text(job, "id") != jobId)
        {
            throw new FormatException($"job: its id is {Text(job, "id")}, not {jobId}");
        }

        var source = job.TryGetProperty("schedules", out var own) ? own
            : root.TryGetProperty("schedules", out var beside) ? beside : default;
        var schedules = source.ValueKind switch
        {
            JsonValueKind.Array => source.EnumerateArray().Select(e => (e, (string?)null)).ToList(),

            // xo-server's createJob takes schedules as a map by id; the id may be only the key.
            JsonValueKind.Object => [.. source.EnumerateObject().Select(p => (p.Value, (string?)p.Name))],
            JsonValueKind.Undefined or JsonValueKind.Null => [],
            _ => throw new FormatException("schedules: expected a list or a map by id"),
        };
        return (job, [.. schedules.Where(s => Text(s.Item1, "jobId") is not { } owner || owner == Text(job, "id"))]);
    }

    private static JobSchedule Schedule(JsonElement s, string? key, List<string> warnings)
    {
        var id = s.ValueKind == JsonValueKind.Object ? Text(s, "id") ?? key : null;
        if (id is null || !ControlState.IdValid(id))
        {
            throw new FormatException($"schedules: a schedule without a valid id ({s.GetRawText()})");
        }

        var enabled = !s.TryGetProperty("enabled", out var e) || e.ValueKind != JsonValueKind.False;
        if (Text(s, "cron") is not null && Text(s, "timezone") is null)
        {
            // Xen Orchestra runs a schedule without a time zone in its server's local time, which is not known here.
            warnings.Add($"schedule {id}: no timezone (Xen Orchestra's server time); its cron runs in UTC here");
        }

        return new JobSchedule(id, Text(s, "cron"), Text(s, "timezone") ?? "UTC", enabled) { Name = Text(s, "name") ?? "" };
    }

    /// <summary>An IdPattern's ids: "uuid", {id:"uuid"}, {id:{__or:[…]}}.</summary>
    internal static List<string> Ids(JsonElement pattern, string field) => pattern.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => [],
        JsonValueKind.String => [pattern.GetString()!],
        JsonValueKind.Object when pattern.TryGetProperty("id", out var id) && pattern.EnumerateObject().Count() == 1 => id.ValueKind switch
        {
            JsonValueKind.String => [id.GetString()!],
            JsonValueKind.Object when id.TryGetProperty("__or", out var or) && or.ValueKind == JsonValueKind.Array
                && or.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
                => [.. or.EnumerateArray().Select(x => x.GetString()!)],
            _ => throw new FormatException($"{field}: unsupported id pattern {id.GetRawText()}"),
        },
        JsonValueKind.Object when !pattern.EnumerateObject().Any() => [],
        _ => throw new FormatException($"{field}: unsupported pattern {pattern.GetRawText()}"),
    };

    internal static string? Text(JsonElement o, string name)
        => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() : null;
}
