using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

public sealed class SessionTests
{
    [Fact]
    public async Task Json_rpc_is_used_when_served_and_typed_records_read()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        Assert.Equal("json-rpc", client.TransportName);
        var vms = await client.GetAllRecordsAsync<VmRecord>();
        Assert.Contains(vms, v => v.NameLabel == "web01" && v.PowerState == "Running" && v.Vbds.Count == 3);
        var vdis = await client.GetAllRecordsAsync<VdiRecord>();
        Assert.Contains(vdis, v => v.VirtualSize == 32L * 1024 * 1024);
        var pool = Assert.Single(await client.GetAllRecordsAsync<PoolRecord>());
        var master = await client.GetRecordAsync<HostRecord>(pool.Master);
        Assert.Equal("127.0.0.1", master.Address);
    }

    [Fact]
    public async Task Falls_back_to_xml_rpc_and_reads_the_same_typed_values()
    {
        await using var sim = await ClientPools.StartAsync();
        sim.Pool.Faults.DisableJsonRpc = true;
        await using var client = await ClientPools.ConnectAsync(sim);
        Assert.Equal("xml-rpc", client.TransportName);
        var vdis = await client.GetAllRecordsAsync<VdiRecord>();
        Assert.Contains(vdis, v => v.VirtualSize == 32L * 1024 * 1024);
        Assert.All(await client.GetAllRecordsAsync<SrRecord>(), sr => Assert.True(sr.PhysicalSize > 0));
    }

    [Fact]
    public async Task Session_invalid_is_answered_by_one_transparent_relogin()
    {
        await using var sim = await ClientPools.StartAsync();
        var log = new LogCapture();
        await using var client = await ClientPools.ConnectAsync(sim, log.Options());
        sim.Pool.Faults.SessionInvalidOnNextCall();
        Assert.NotEmpty(await client.GetAllRecordsAsync<VmRecord>());
        Assert.Contains(log.Lines, l => l.Contains("logging in again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pool_member_sends_the_client_to_the_master()
    {
        await using var sim = await ClientPools.StartAsync(o => o with { Listen = ["127.0.0.1:0", "127.0.0.2:0"] });
        await using var client = await ClientPools.ConnectAsync(sim, host: 1);
        Assert.Equal("127.0.0.1", client.Endpoint.Url.Host);
        Assert.Equal(sim.Server.HostUrls[0].Port, client.Endpoint.Url.Port);
        Assert.NotEmpty(await client.GetAllRecordsAsync<VmRecord>());
    }

    [Fact]
    public async Task Wrong_password_fails_with_the_xapi_code_and_no_secret_in_the_message()
    {
        await using var sim = await ClientPools.StartAsync();
        var endpoint = XapiEndpoint.Parse($"http://root:{Uri.EscapeDataString("wrong-" + ClientPools.Password)}@{sim.Url.Authority}");
        var e = await Assert.ThrowsAsync<XapiException>(() => XapiClient.ConnectAsync(endpoint));
        Assert.Equal("SESSION_AUTHENTICATION_FAILED", e.Code);
        Assert.DoesNotContain(ClientPools.Password, e.ToString());
    }

    [Fact]
    public async Task Map_entries_are_set_replaced_and_removed_like_xapi_clients_do()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        var vm = (await client.GetAllRecordsAsync<VmRecord>()).Single(v => v.NameLabel == "db01");
        await client.SetMapEntriesAsync("VM", vm.Ref, "blocked_operations", new Dictionary<string, string?> { ["start"] = "Importing…", ["start_on"] = "Importing…" });
        await client.SetMapEntryAsync("VM", vm.Ref, "other_config", "xo:backup:job", "job-1");
        await client.SetMapEntryAsync("VM", vm.Ref, "other_config", "xo:backup:job", "job-2");
        var updated = await client.GetRecordAsync<VmRecord>(vm.Ref);
        Assert.Equal("job-2", updated.OtherConfig["xo:backup:job"]);
        Assert.Equal("Importing…", updated.BlockedOperations["start_on"]);
        await client.SetMapEntriesAsync("VM", vm.Ref, "blocked_operations", new Dictionary<string, string?> { ["start"] = null, ["start_on"] = null });
        Assert.Empty((await client.GetRecordAsync<VmRecord>(vm.Ref)).BlockedOperations);
    }

    [Fact]
    public async Task Async_calls_return_the_task_result_and_raise_the_task_error()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        var vms = await client.GetAllRecordsAsync<VmRecord>();
        var running = vms.Single(v => v.NameLabel == "web01");
        var snapshot = (string)(await client.CallTaskAsync("VM.snapshot", [running.Ref, "xcr test"]))!;
        var record = await client.GetRecordAsync<VmRecord>(snapshot);
        Assert.True(record.IsASnapshot);
        Assert.Equal(running.Ref, record.SnapshotOf);
        var e = await Assert.ThrowsAsync<XapiException>(() => client.CallTaskAsync("VM.clone", [running.Ref, "clone"]));
        Assert.Equal("VM_BAD_POWER_STATE", e.Code);
        Assert.Empty(await client.GetAllRecordsAsync<TaskRecord>());
    }

    [Fact]
    public async Task Reads_are_retried_across_a_restart_and_writes_are_not()
    {
        var sim = await ClientPools.StartAsync();
        sim.KeepData = true;
        var dataDir = sim.DataDir;
        var port = sim.Url.Port;
        var log = new LogCapture();
        var restarted = new TaskCompletionSource();
        var options = log.Options() with { RetryDelay = TimeSpan.FromMilliseconds(500), ReadRetries = 4 };
        await using var client = await ClientPools.ConnectAsync(sim, options with
        {
            Log = line =>
            {
                log.Add(line);
                if (line.StartsWith("retrying", StringComparison.Ordinal) && !restarted.Task.IsCompleted)
                {
                    restarted.TrySetResult();
                }
            },
        });
        var vm = (await client.GetAllRecordsAsync<VmRecord>()).Single(v => v.NameLabel == "db01");
        await sim.DisposeAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => client.CallAsync("VM.set_name_label", vm.Ref, "renamed"));
        Assert.DoesNotContain(log.Lines, l => l.StartsWith("retrying", StringComparison.Ordinal));

        var read = client.GetRecordAsync<VmRecord>(vm.Ref);
        await restarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await using var again = await ClientPools.StartAsync(o => o with { Listen = [$"127.0.0.1:{port}"] }, dataDir);
        Assert.Equal("db01", (await read.WaitAsync(TimeSpan.FromSeconds(30))).NameLabel);
        Assert.Contains(log.Lines, l => l.Contains("logging in again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancelling_a_wait_cancels_the_task_on_the_pool_and_returns_at_once()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        var task = await client.CreateTaskAsync("long work");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.WaitForTaskAsync(task, cancel.Token));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await client.GetRecordAsync<TaskRecord>(task)).Status != "cancelling")
        {
            Assert.True(DateTime.UtcNow < deadline, "the pool never saw task.cancel");
            await client.CallAsync("event.from", new List<object?> { "task" }, "", 1.0);
        }

        await client.DestroyTaskAsync(task);
    }
}
