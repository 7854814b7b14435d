using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Xml;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.XapiSim.Tests;

/// <summary>failCalls, hangCalls and malformedReplies: set over /sim/faults or in-process, seen through the
/// product's XAPI client where it gets the answer, and through raw HTTP where the bytes matter.</summary>
public sealed class CallFaultTests
{
    private static async Task SetFaultsAsync(SimHost sim, object faults)
    {
        using var http = new HttpClient { BaseAddress = sim.Url };
        (await http.PostAsJsonAsync("/sim/faults", faults)).EnsureSuccessStatusCode();
    }

    private static async Task<int> SnapshotCountAsync(XapiClient client)
        => (await client.GetAllRecordsAsync<VmRecord>()).Count(v => v.IsASnapshot);

    [Fact]
    public async Task The_nth_call_fails_once_with_the_given_error_and_does_nothing()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var vm = await SimPools.VmAsync(client, "db01");
        var rule = new { method = "VM.snapshot", nth = 2, code = "SR_BACKEND_FAILURE_44", @params = new[] { "full" } };
        await SetFaultsAsync(sim, new { failCalls = new[] { rule } });
        await client.CallAsync("VM.snapshot", vm.Ref, "first");
        var before = await SnapshotCountAsync(client);

        // The second call is an Async one: it counts as VM.snapshot and its task fails with the rule's error.
        var e = await Assert.ThrowsAsync<XapiException>(() => client.CallTaskAsync("VM.snapshot", [vm.Ref, "second"]));
        Assert.Equal(["SR_BACKEND_FAILURE_44", "full"], e.Description);
        Assert.Equal(before, await SnapshotCountAsync(client));
        Assert.Empty(sim.Pool.Faults.FailCalls);
        await client.CallTaskAsync("VM.snapshot", [vm.Ref, "third"]);
        Assert.Equal(before + 1, await SnapshotCountAsync(client));

        sim.Pool.Faults.FailCall("VM.clone");
        var clone = await Assert.ThrowsAsync<XapiException>(() => client.CallAsync("VM.clone", vm.Ref, "c"));
        Assert.Equal("INTERNAL_ERROR", clone.Code);
        Assert.DoesNotContain(await client.GetAllRecordsAsync<VmRecord>(), v => v.NameLabel == "c");
    }

    [Fact]
    public async Task A_hung_async_call_stays_pending_until_its_task_is_cancelled_and_does_nothing()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var vm = await SimPools.VmAsync(client, "db01");
        await SetFaultsAsync(sim, new { hangCalls = new[] { "VM.snapshot" } });
        var task = (string)(await client.CallAsync("Async.VM.snapshot", vm.Ref, "hung"))!;

        // Other calls go on while it hangs (no thread is held), and it is still pending after them.
        await client.CallAsync("VM.get_all");
        await client.CallAsync("VM.clone", vm.Ref, "meanwhile");
        Assert.Equal("pending", (await client.GetRecordAsync<TaskRecord>(task)).Status);
        await client.CallAsync("task.cancel", task);
        await Assert.ThrowsAsync<OperationCanceledException>(() => client.WaitForTaskAsync(task));
        Assert.Equal("cancelled", (await client.GetRecordAsync<TaskRecord>(task)).Status);
        Assert.Equal(0, await SnapshotCountAsync(client));

        // Through the client: its cancellation cancels the task on the pool.
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.CallTaskAsync("VM.snapshot", [vm.Ref, "hung2"], stop.Token));
        Assert.Equal(0, await SnapshotCountAsync(client));
    }

    [Fact]
    public async Task A_hung_sync_call_answers_only_when_the_faults_are_cleared_and_does_nothing()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var vm = await SimPools.VmAsync(client, "db01");
        sim.Pool.Faults.HangCalls = ["VM.snapshot"];
        var hung = client.CallAsync("VM.snapshot", vm.Ref, "hung");
        // The call must have reached the pool (not still be on its way) before the faults are cleared.
        await Poll.UntilAsync(() => sim.Pool.Faults.HungCalls == 1, "the snapshot to hang on the pool");
        await client.CallAsync("VM.get_all");
        Assert.False(hung.IsCompleted);
        using var http = new HttpClient { BaseAddress = sim.Url };
        (await http.DeleteAsync("/sim/faults")).EnsureSuccessStatusCode();
        var e = await Assert.ThrowsAsync<XapiException>(() => hung.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("INTERNAL_ERROR", e.Code);
        Assert.Equal(0, await SnapshotCountAsync(client));
        await client.CallAsync("VM.snapshot", vm.Ref, "after");
    }

    [Fact]
    public async Task The_nth_reply_of_a_method_is_http_200_with_a_body_that_does_not_parse_on_both_transports()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_all"))!)[0]!;
        await SetFaultsAsync(sim, new { malformedReplies = new[] { new { method = "VM.get_record", nth = 2 } } });
        using var http = new HttpClient { BaseAddress = sim.Url };
        var json = $"{{\"jsonrpc\":\"2.0\",\"method\":\"VM.get_record\",\"params\":[\"{rpc.Session}\",\"{vm}\"],\"id\":1}}";
        async Task<string> JsonAsync()
        {
            using var response = await http.PostAsync("/jsonrpc", new StringContent(json, Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }

        JsonDocument.Parse(await JsonAsync()).Dispose();
        var malformed = await JsonAsync();
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(malformed));
        JsonDocument.Parse(await JsonAsync()).Dispose();

        sim.Pool.Faults.MalformedReplyTo("VM.get_record");
        var xml = "<?xml version=\"1.0\"?><methodCall><methodName>VM.get_record</methodName><params>"
            + $"<param><value>{rpc.Session}</value></param><param><value>{vm}</value></param></params></methodCall>";
        using var response = await http.PostAsync("/", new StringContent(xml, Encoding.UTF8, "text/xml"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("<?xml", body);
        Assert.ThrowsAny<XmlException>(() => new XmlDocument().LoadXml(body));
    }

    [Fact]
    public async Task Rule_lists_are_shown_refused_when_malformed_and_cleared()
    {
        await using var sim = await SimHost.StartAsync();
        using var http = new HttpClient { BaseAddress = sim.Url };
        await SetFaultsAsync(sim, new { failCalls = new[] { new { method = "VM.copy" } }, hangCalls = new[] { "VM.clone" } });
        var shown = await http.GetFromJsonAsync<JsonElement>("/sim/faults");
        var rule = shown.GetProperty("failCalls")[0];
        Assert.Equal("VM.copy", rule.GetProperty("method").GetString());
        Assert.Equal(1, rule.GetProperty("nth").GetInt32());
        Assert.Equal("INTERNAL_ERROR", rule.GetProperty("code").GetString());
        Assert.Equal("VM.clone", shown.GetProperty("hangCalls")[0].GetString());
        object[] refused =
        [
            new { failCalls = new[] { new { method = "VM.copy", nth = 0 } } },
            new { malformedReplies = new[] { new { meth = "x" } } },
            new { hangCalls = "VM.clone" },
        ];
        foreach (var bad in refused)
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("/sim/faults", bad)).StatusCode);
        }

        (await http.DeleteAsync("/sim/faults")).EnsureSuccessStatusCode();
        Assert.Empty(sim.Pool.Faults.FailCalls);
        Assert.Empty(sim.Pool.Faults.HangCalls);
    }
}
