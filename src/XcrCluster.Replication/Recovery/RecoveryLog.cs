using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Replication.Recovery;

/// <summary>A recovery step refused before it changed anything: the reason is the operator's to read.</summary>
public sealed class RecoveryRefusedException(string reason) : Exception(reason);

/// <summary>The task lines of one VM's recovery step, timed as they run, and the outcome they make. Every early end —
/// refusal, XAPI error, cancellation — ends as a failed outcome with its reason (the caller undoes what it made first).</summary>
public sealed class RecoveryLog(string vm)
{
    private readonly List<LogLine> lines = [];

    public IReadOnlyList<LogLine> Lines => lines;

    public string Vm => vm;

    public async Task<T> StepAsync<T>(string name, Func<Task<T>> step)
    {
        var start = DateTimeOffset.UtcNow;
        try
        {
            var result = await step().ConfigureAwait(false);
            lines.Add(new LogLine(name, "success", start, DateTimeOffset.UtcNow));
            return result;
        }
        catch (Exception e)
        {
            lines.Add(new LogLine(name, "failure", start, DateTimeOffset.UtcNow, Message: e.Message));
            throw;
        }
    }

    public Task StepAsync(string name, Func<Task> step) => StepAsync(name, async () =>
    {
        await step().ConfigureAwait(false);
        return true;
    });

    /// <summary>A line that only informs (what a dry run would do, a check that passed, a warning).</summary>
    public void Note(string name, string? message = null, string status = "success")
    {
        var now = DateTimeOffset.UtcNow;
        lines.Add(new LogLine(name, status, now, now, Message: message));
    }

    public RecoveryVmOutcome Succeeded(string? resultVm = null, IReadOnlyDictionary<string, string>? details = null)
        => new(vm, RunStatus.Success, null, [.. lines])
        {
            ResultVmUuid = resultVm, Details = details ?? new Dictionary<string, string>(),
        };

    public RecoveryVmOutcome Failed(Exception e) => new(vm, RunStatus.Failed, ErrorText.Of(e), [.. lines])
    {
        Details = e is RecoveryRefusedException
            ? new Dictionary<string, string> { ["refused"] = "true" }
            : new Dictionary<string, string>(),
    };

}
