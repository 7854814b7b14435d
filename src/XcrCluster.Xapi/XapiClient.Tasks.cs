using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Xapi;

public sealed partial class XapiClient
{
    private static readonly TimeSpan EventWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs Async.&lt;method&gt;, follows its task to the end and destroys it. Returns the decoded result
    /// (task.result is an XML-RPC &lt;value&gt; fragment on both transports); a failed task raises its error;
    /// cancelling <paramref name="ct"/> cancels the task on the pool, and so does passing <paramref name="timeout"/>
    /// (default <see cref="XapiClientOptions.TaskTimeout"/>), which then raises a TimeoutException.</summary>
    public async Task<object?> CallTaskAsync(string method, IReadOnlyList<object?> args, CancellationToken ct = default,
        TimeSpan? timeout = null)
    {
        var asyncMethod = "Async." + method;
        var task = AsString(asyncMethod, await CallAsync(asyncMethod, args, CancellationToken.None).ConfigureAwait(false));
        try
        {
            return ResultOf(method, await WaitForTaskAsync(task, ct, timeout).ConfigureAwait(false));
        }
        finally
        {
            await DestroyTaskAsync(task).ConfigureAwait(false);
        }
    }

    public async Task<string> CreateTaskAsync(string label, string description = "", CancellationToken ct = default)
        => AsString("task.create", await CallAsync("task.create", [label, description], ct).ConfigureAwait(false));

    public async Task DestroyTaskAsync(string task)
    {
        try
        {
            await CallAsync("task.destroy", [task], CancellationToken.None).ConfigureAwait(false);
        }
        catch (XapiException e) when (e.Code == "HANDLE_INVALID")
        {
        }
    }

    /// <summary>Waits until the task settles: event.from on the task, polling where events are not served.
    /// Raises the task's error for a failure and OperationCanceledException for a cancellation. Cancelling
    /// <paramref name="ct"/> asks the pool to cancel the task and stops waiting at once. A task still running
    /// after <paramref name="timeout"/> (default <see cref="XapiClientOptions.TaskTimeout"/>) is cancelled on the
    /// pool and the wait fails with a TimeoutException naming the task and the pool.</summary>
    public async Task<TaskRecord> WaitForTaskAsync(string task, CancellationToken ct = default, TimeSpan? timeout = null)
    {
        var bound = timeout ?? options.TaskTimeout;
        using var registration = ct.Register(() => _ = CancelTaskQuietlyAsync(task));
        using var expiry = new CancellationTokenSource(bound);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(ct, expiry.Token);
        string? label = null;
        try
        {
            return await WaitUntilSettledAsync(task, name => label = name, waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // Awaited (bounded by the call timeout), so the pool has been asked to stop by the time the caller hears.
            await CancelTaskQuietlyAsync(task).ConfigureAwait(false);
            throw new TimeoutException($"task {(label is null ? "" : $"\"{label}\" ")}({task}) on the pool at {EndpointName} "
                + $"did not finish within {bound}; asked the pool to cancel it");
        }
    }

    private async Task<TaskRecord> WaitUntilSettledAsync(string task, Action<string> named, CancellationToken ct)
    {
        var useEvents = true;
        string? token = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();

            // The token is taken before the record is read: a task settling in between is then still an event
            // after the token, instead of a wakeup missed until event.from times out.
            if (useEvents && token is null)
            {
                try
                {
                    token = AsString("event.inject", await CallAsync("event.inject", ["task", task], ct).ConfigureAwait(false));
                }
                catch (XapiException e) when (e.Code is "MESSAGE_METHOD_UNKNOWN")
                {
                    useEvents = false;
                }
            }

            var record = await GetRecordAsync<TaskRecord>(task, ct).ConfigureAwait(false);
            named(record.NameLabel);
            if (record.IsSettled)
            {
                return record.Status switch
                {
                    "success" => record,
                    "cancelled" => throw new OperationCanceledException($"task {record.NameLabel} was cancelled"),
                    _ => throw (record.ErrorInfo.Count > 0 ? new XapiException(record.ErrorInfo[0], [.. record.ErrorInfo.Skip(1)])
                        : new XapiException("INTERNAL_ERROR", "task failed without error_info")),
                };
            }

            if (useEvents)
            {
                try
                {
                    var batch = AsMap("event.from",
                        await CallAsync("event.from", [new List<object?> { "task" }, token!, EventWait.TotalSeconds], ct,
                        EventWait + TimeSpan.FromSeconds(10)).ConfigureAwait(false));
                    token = batch.GetValueOrDefault("token") as string ?? token;
                    continue;
                }
                catch (XapiException e) when (e.Code is "MESSAGE_METHOD_UNKNOWN" or "EVENTS_LOST" or "EVENT_FROM_TOKEN_PARSE_FAILURE")
                {
                    useEvents = e.Code != "MESSAGE_METHOD_UNKNOWN";
                    token = null;
                }
            }
            else
            {
                await Task.Delay(PollInterval, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>What a settled task returned, decoded from its XML-RPC fragment ("" when nothing).</summary>
    public static object? ResultOf(TaskRecord task) => task.Result.Length == 0 ? "" : XmlRpc.DecodeValue(task.Result);

    public async Task SetTaskProgressAsync(string task, double progress)
    {
        try
        {
            await CallAsync("task.set_progress", [task, Math.Clamp(progress, 0, 1)], CancellationToken.None).ConfigureAwait(false);
        }
        catch (XapiException e)
        {
            Log($"task progress not recorded: {e.Code}");
        }
    }

    private async Task CancelTaskQuietlyAsync(string task)
    {
        try
        {
            await CallAsync("task.cancel", [task], CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is XapiException or HttpRequestException or TimeoutException or IOException)
        {
            Log($"task cancel failed: {e.GetType().Name}");
        }
    }
}
