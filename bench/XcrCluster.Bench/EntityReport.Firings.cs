namespace XcrCluster.Bench;

/// <summary>The minutely schedule's occurrences: how many of each one's due runs started within its minute, and how they spread.</summary>
public sealed partial class EntityReport
{
    private void PrintFirings(TextWriter w)
    {
        w.WriteLine($"### Minutely schedule over every VM (concurrency unlimited): runs started per occurrence");
        w.WriteLine();
        w.WriteLine("| due (UTC) | due runs | started within the minute | late | never | first start s | median s | p99 s | last start s "
            + "| starts/s | per node | note |");
        w.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
        var missed = new List<string>();
        for (var due = FirstDue; due <= LastDue; due = due.AddMinutes(1))
        {
            var d = due;
            var runs = Firings.Where(f => f.Due == d).GroupBy(f => f.Vm).Select(g => g.MinBy(f => f.Started)!).ToList();
            var offsets = runs.Select(f => (f.Started - d).TotalSeconds).Order().ToList();
            var within = offsets.Count(s => s < 60);
            var note = KilledAt >= d && KilledAt < d.AddMinutes(1) ? $"node3 killed at +{(KilledAt - d).TotalSeconds:F0} s"
                : KilledAt < d ? "after the kill (2 nodes)" : "";
            if (within < options.Entities)
            {
                missed.Add($"{d:HH:mm} ({within}/{options.Entities})");
            }

            var perNode = string.Join(" / ", runs.GroupBy(f => f.Node).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
            var span = offsets.Count > 1 ? offsets[^1] - offsets[0] : 0;
            w.WriteLine($"| {d:HH:mm} | {options.Entities} | {within} | {offsets.Count - within} | {options.Entities - offsets.Count} | "
                + $"{At(offsets, 0):F1} | {At(offsets, 0.5):F1} | {At(offsets, 0.99):F1} | {At(offsets, 1):F1} | "
                + $"{(span > 0 ? offsets.Count / span : 0):F0} | {perNode} | {note} |");
        }

        w.WriteLine();
        var verdict = missed.Count == 0 ? "met" : "missed: " + string.Join(", ", missed);
        w.WriteLine($"goal: every due run of a minutely schedule started within its minute — {verdict}");
        if (missed.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Where the time goes: the first start is the scheduler's 1 s tick plus the run recorded with the control "
                + "plane; from there the runs start at the rate shown (starts/s), each one a request to its entity, persisted "
                + "before it answers. An occurrence's start asks 64 entities at a time (JobRunner.StartsInFlight); after a kill, the "
                + "requests to the killed node's VMs wait in the regions until their shards have a new home (the recovery below) or "
                + "time out after 30 s (then counted never), holding those slots, and the next occurrences' starts overlap with it.");
        }

        w.WriteLine();
    }

    private static double At(IReadOnlyList<double> sorted, double quantile)
        => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(quantile * sorted.Count))];
}
