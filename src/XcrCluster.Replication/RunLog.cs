using XcrCluster.Domain.Vm;

namespace XcrCluster.Replication;

/// <summary>A run's task log (run > VM > snapshot / export per SR > transfer > target snapshot), written from the
/// run and its transfers; thread-safe.</summary>
public sealed class RunLog(TimeProvider clock)
{
    private readonly List<LogLine> entries = [];

    public DateTimeOffset Now => clock.GetUtcNow();

    public TimeProvider Clock => clock;

    public void Add(string name, string status, DateTimeOffset start, long? size = null, string? message = null, string? target = null)
    {
        lock (entries)
        {
            entries.Add(new LogLine(name, status, start, clock.GetUtcNow(), size, message, target));
        }
    }

    public IReadOnlyList<LogLine> Entries
    {
        get
        {
            lock (entries)
            {
                return [.. entries];
            }
        }
    }

    /// <summary>Runs a step as a task of the log: success, or failure with the error (rethrown).</summary>
    public async Task<T> StepAsync<T>(string name, Func<Task<T>> action, string? target = null)
    {
        var start = Now;
        try
        {
            var result = await action().ConfigureAwait(false);
            Add(name, "success", start, target: target);
            return result;
        }
        catch (Exception e)
        {
            Add(name, "failure", start, message: e.Message, target: target);
            throw;
        }
    }
}
