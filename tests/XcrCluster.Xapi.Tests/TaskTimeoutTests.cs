using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

/// <summary>No wait on a pool task is unbounded: a task that never settles fails the wait with a TimeoutException
/// naming the task and the pool after the caller's bound or XapiClientOptions.TaskTimeout, and is cancelled on the pool.</summary>
public sealed class TaskTimeoutTests
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(1);

    /// <summary>A pool whose tasks never settle and which serves no events (so the client polls).</summary>
    private static HostileXapiServer PoolWithEndlessTasks() => HostileXapiServer.Start(HostileXapiServer.LoginThen(r => r switch
    {
        { RpcMethod: "task.create" } => HostileReply.Result("OpaqueRef:never"),
        { RpcMethod: { } m } when m.StartsWith("Async.", StringComparison.Ordinal) => HostileReply.Result("OpaqueRef:never"),
        { RpcMethod: "event.inject" } => HostileReply.Error("MESSAGE_METHOD_UNKNOWN", "event.inject"),
        { RpcMethod: "task.get_record" } => HostileReply.Result(
            new Dictionary<string, object?> { ["status"] = "pending", ["name_label"] = "endless" }),
        { RpcMethod: null } => HostileReply.Raw("0123456789", "application/octet-stream"),
        _ => HostileReply.Result(""),
    }));

    private static void AssertNamesTaskAndPool(TimeoutException e, string task, string authority)
    {
        Assert.Contains(task, e.Message);
        Assert.Contains(authority, e.Message);
    }

    [Fact]
    public async Task A_wait_past_its_bound_fails_and_cancels_the_task_on_the_pool()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        var task = await client.CreateTaskAsync("never settles");
        var e = await Assert.ThrowsAsync<TimeoutException>(
            () => client.WaitForTaskAsync(task, timeout: Short).WaitAsync(TimeSpan.FromSeconds(60)));
        AssertNamesTaskAndPool(e, task, client.EndpointName);
        Assert.Contains("never settles", e.Message);
        Assert.Equal("cancelling", (await client.GetRecordAsync<TaskRecord>(task)).Status);
        await client.DestroyTaskAsync(task);
    }

    [Fact]
    public async Task The_default_bound_is_the_task_timeout_option()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim, new XapiClientOptions { TaskTimeout = Short });
        var task = await client.CreateTaskAsync("never settles");
        var e = await Assert.ThrowsAsync<TimeoutException>(() => client.WaitForTaskAsync(task).WaitAsync(TimeSpan.FromSeconds(60)));
        AssertNamesTaskAndPool(e, task, client.EndpointName);
        await client.DestroyTaskAsync(task);
    }

    [Fact]
    public async Task An_async_call_whose_task_never_settles_times_out_and_cancels_it()
    {
        await using var pool = PoolWithEndlessTasks();
        await using var client = await XapiClient.ConnectAsync(HostileServerTests.Endpoint(pool));
        var e = await Assert.ThrowsAsync<TimeoutException>(() => client.CallTaskAsync("VM.snapshot", ["OpaqueRef:vm", "s"], timeout: Short)
            .WaitAsync(TimeSpan.FromSeconds(60)));
        AssertNamesTaskAndPool(e, "OpaqueRef:never", pool.Authority);
        Assert.Contains("task.cancel", pool.Requests);
    }

    [Fact]
    public async Task An_import_whose_task_never_settles_times_out_after_the_upload()
    {
        await using var pool = PoolWithEndlessTasks();
        await using var client = await XapiClient.ConnectAsync(HostileServerTests.Endpoint(pool),
            new XapiClientOptions { TaskTimeout = Short });
        using var body = new MemoryStream(new byte[64 * 1024]);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => client.ImportVdiAsync("OpaqueRef:vdi", body, body.Length, VdiFormat.Raw)
            .WaitAsync(TimeSpan.FromSeconds(60)));
        AssertNamesTaskAndPool(e, "OpaqueRef:never", pool.Authority);
        Assert.Contains("task.cancel", pool.Requests);
    }

    [Fact]
    public async Task An_export_whose_task_never_settles_times_out_on_completion()
    {
        await using var pool = PoolWithEndlessTasks();
        await using var client = await XapiClient.ConnectAsync(HostileServerTests.Endpoint(pool),
            new XapiClientOptions { TaskTimeout = Short });
        await using var export = await client.ExportVdiAsync("OpaqueRef:vdi", VdiFormat.Raw);
        await export.Content.CopyToAsync(Stream.Null);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => export.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        AssertNamesTaskAndPool(e, "OpaqueRef:never", pool.Authority);
    }
}
