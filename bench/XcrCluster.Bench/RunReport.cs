using System.Text.Json.Nodes;

namespace XcrCluster.Bench;

/// <summary>A finished run as the node reports it (GET /api/jobs/ID/runs/RUN): when the job run started, its VM's log
/// (each step with its start and end) and what each target received.</summary>
public sealed class RunReport
{
    public RunReport(JsonNode run, JsonNode vm)
    {
        Status = vm["status"]!.GetValue<string>();
        if (Status != "success")
        {
            throw new InvalidOperationException($"the run ended {Status}: {vm["error"]}");
        }

        Started = run["started"]!.GetValue<DateTimeOffset>();
        Full = vm["full"]!.GetValue<bool>();
        Bytes = vm["targets"]!.AsArray().Sum(t => t!["bytesSent"]!.GetValue<long>());
        Log = vm["log"]!.AsArray().Select(l => new Step(l!["name"]!.GetValue<string>(), l["start"]!.GetValue<DateTimeOffset>(),
            l["end"]!.GetValue<DateTimeOffset>())).ToList();
        Committed = Log.Last(s => s.Name == "target snapshot").End;
    }

    public string Status { get; }

    public DateTimeOffset Started { get; }

    /// <summary>When the restore point was committed on the target (the end of its "target snapshot" step).</summary>
    public DateTimeOffset Committed { get; }

    public bool Full { get; }

    /// <summary>What the targets received (the VHD stream of the changed blocks).</summary>
    public long Bytes { get; }

    public IReadOnlyList<Step> Log { get; }

    /// <summary>XAPI calls per method the run made, by pool name (filled in by whoever can read the pools' counters).</summary>
    public Dictionary<string, IReadOnlyDictionary<string, long>> Calls { get; } = new(StringComparer.Ordinal);

    /// <summary>The CPU time each process used while the run went (filled in by whoever started them).</summary>
    public CpuUse? Cpu { get; set; }

    /// <summary>The whole run: the job run's start to the restore point committed.</summary>
    public TimeSpan Duration => Committed - Started;

    /// <summary>Where the time went: the wait before the first step (source checks, target sessions), then every step of
    /// the log (snapshot, the transfer: export piped into the import, target snapshot = the commit) with its offset.</summary>
    public void PrintStages(TextWriter output, string title, IEnumerable<(string Name, TimeSpan Time)>? references = null)
    {
        output.WriteLine();
        output.WriteLine($"Where the time goes, {title} (the node's run log; the transfer is the export piped into the import,");
        output.WriteLine("so the two overlap; the simulators' call counters give the XAPI calls of the run):");
        output.WriteLine();
        output.WriteLine("| stage | starts at s | takes s |");
        output.WriteLine("|---|---:|---:|");
        var first = Log.Count > 0 ? Log.Min(s => s.Start) : Committed;
        var before = (first - Started).TotalSeconds;
        output.WriteLine($"| before the first step (source checks, target sessions, bases) | 0.000 | {before:F3} |");
        foreach (var step in Log.Where(s => s.Start <= Committed))
        {
            output.WriteLine($"| {step.Name} | {(step.Start - Started).TotalSeconds:F3} | {(step.End - step.Start).TotalSeconds:F3} |");
        }

        output.WriteLine($"| whole run (to the restore point committed) | 0.000 | {Duration.TotalSeconds:F3} |");
        foreach (var (name, time) in references ?? [])
        {
            output.WriteLine($"| for reference: {name} | – | {time.TotalSeconds:F3} |");
        }

        output.WriteLine();
        foreach (var (pool, calls) in Calls)
        {
            var top = calls.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(6)
                .Select(c => $"{c.Key} {c.Value}");
            output.WriteLine($"- XAPI calls of the run on pool {pool}: {calls.Values.Sum()} (most: {string.Join(", ", top)})");
        }
    }

    public sealed record Step(string Name, DateTimeOffset Start, DateTimeOffset End);
}
