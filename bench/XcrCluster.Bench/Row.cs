namespace XcrCluster.Bench;

/// <summary>One measured row of a process-level case: its time, the node's report and the CPU its processes used, or
/// why it has none.</summary>
public sealed record Row(string Name, string Sr, TimeSpan? Time, string? Note, RunReport? Report)
{
    /// <summary>The CPU time each process used during the row's run (null if not measured).</summary>
    public CpuUse? Cpu { get; init; }

    /// <summary>Measures one or more rows together (they share their processes); a failure becomes each row's note ("not
    /// available" on the null SR, which the simulator may lack) rather than ending the case.</summary>
    public static async Task<IEnumerable<Row>> TryAsync(string sr, string[] names, Func<Task<IReadOnlyList<Measured>>> measure)
    {
        try
        {
            var measured = await measure();
            var rows = names.Zip(measured, (name, m) => new Row(name, sr, m.Time, null, m.Report) { Cpu = m.Cpu }).ToList();
            foreach (var row in rows)
            {
                Console.Error.WriteLine($"  {row.Name} ({sr} SR): {row.Time!.Value.TotalSeconds:F2} s"
                    + (row.Cpu is { } cpu ? $"; CPU s: {cpu}" : ""));
            }

            return rows;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var reason = (sr == "null" ? "not available: " : "failed: ")
                + e.Message.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal); // one table cell
            Console.Error.WriteLine($"  {string.Join(", ", names)} ({sr} SR): {reason}{(e is NotSupportedException ? "" : "\n" + e)}");
            return names.Select(name => new Row(name, sr, null, reason.Length > 200 ? reason[..200] + "…" : reason, null));
        }
    }
}

/// <summary>What one row's measurement gives: its time, the node's report (none for a baseline), its processes' CPU.</summary>
public sealed record Measured(TimeSpan Time, RunReport? Report, CpuUse? Cpu);
