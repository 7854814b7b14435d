namespace XcrCluster.Domain.Vm;

/// <summary>One task of a run's log as Xen Orchestra shows it, with its sub-tasks.</summary>
public sealed record TaskNode(string Name, string Status, DateTimeOffset? Start, DateTimeOffset? End, long? Size, string? Message,
    IReadOnlyList<TaskNode> Children)
{
    public double? DurationSeconds => Start is { } s && End is { } e ? (e - s).TotalSeconds : null;
}

/// <summary>Xen Orchestra's task tree of a run (run > VM > snapshot / export per SR > transfer > target snapshot)
/// built from the flat log the engine records: lines naming a target SR go under that SR's export.</summary>
public static class TaskTree
{
    public static TaskNode Build(string vmUuid, RunResult result)
    {
        var lines = result.Log;
        var srs = lines.Where(l => l.Target is not null).Select(l => l.Target!).Concat(result.Targets.Select(t => t.SrUuid)).Distinct();
        var exports = srs.Select(sr =>
        {
            var own = lines.Where(l => l.Target == sr).Select(Leaf).ToList();
            var outcome = result.Targets.FirstOrDefault(t => t.SrUuid == sr);
            var status = outcome is null ? own.Any(c => c.Status == "failure") ? "failure" : "interrupted"
                : outcome.Succeeded ? "success" : "failure";
            return Node($"export to SR {sr}", status, outcome?.BytesSent, outcome?.Error, own);
        });
        var vm = Node($"VM {vmUuid}", result.Status.Name(), null, result.Error,
            [.. lines.Where(l => l.Target is null).Select(Leaf), .. exports]);
        return Node($"run {result.RunId}", result.Status.Name(), result.Targets.Sum(t => t.BytesSent), result.Error, [vm]);
    }

    private static TaskNode Leaf(LogLine line) => new(line.Name, line.Status, line.Start, line.End, line.Size, line.Message, []);

    /// <summary>A parent spans its children's times.</summary>
    private static TaskNode Node(string name, string status, long? size, string? message, IReadOnlyList<TaskNode> children)
        => new(name, status, children.Min(c => c.Start), children.Max(c => c.End), size, message, children);
}
