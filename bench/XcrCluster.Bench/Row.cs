namespace XcrCluster.Bench;

/// <summary>One measured row of a process-level case: its time and the node's report, or why it has none.</summary>
public sealed record Row(string Name, string Sr, TimeSpan? Time, string? Note, RunReport? Report)
{
    /// <summary>Measures one or more rows together (they share their processes); a failure becomes each row's note ("not
    /// available" on the null SR, which the simulator may lack) rather than ending the case.</summary>
    public static async Task<IEnumerable<Row>> TryAsync(string sr, string[] names,
        Func<Task<IReadOnlyList<(TimeSpan Time, RunReport? Report)>>> measure)
    {
        try
        {
            var measured = await measure();
            var rows = names.Zip(measured, (name, m) => new Row(name, sr, m.Time, null, m.Report)).ToList();
            foreach (var row in rows)
            {
                Console.Error.WriteLine($"  {row.Name} ({sr} SR): {row.Time!.Value.TotalSeconds:F2} s");
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
