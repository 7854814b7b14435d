using System.Net;
using System.Net.Http.Headers;
using System.Text;
using XcrCluster.Xapi;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The wire as XAPI speaks it: endpoints, exact content types, XML-RPC encodings, error shapes.</summary>
public sealed class ProtocolTests
{
    private static async Task<HttpResponseMessage> PostAsync(SimHost sim, string path, string body, string contentType = "text/xml")
    {
        using var http = new HttpClient();
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await http.PostAsync(new Uri(sim.Url, path), content);
    }

    private const string LoginXml = "<?xml version=\"1.0\"?><methodCall><methodName>session.login_with_password</methodName><params><param><value>root</value></param><param><value>password</value></param></params></methodCall>";

    [Theory]
    [InlineData("/")]
    [InlineData("/RPC2")]
    [InlineData("/xmlrpc")]
    public async Task Xml_rpc_is_served_on_every_xapi_path_compact_with_the_exact_content_type(string path)
    {
        await using var sim = await SimHost.StartAsync();
        using var response = await PostAsync(sim, path, LoginXml);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType!.ToString());
        Assert.StartsWith("<?xml version=\"1.0\"?><methodResponse><params><param><value><struct><member><name>Status</name><value>Success</value></member><member><name>Value</name><value>OpaqueRef:", text);
        Assert.DoesNotContain("\n", text);
        Assert.DoesNotContain("<string>", text);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Json_rpc_answers_with_exactly_application_json_and_the_request_id()
    {
        await using var sim = await SimHost.StartAsync();
        using var response = await PostAsync(sim, "/jsonrpc", "{\"jsonrpc\":\"2.0\",\"method\":\"session.login_with_password\",\"params\":[\"root\",\"password\"],\"id\":\"abc\"}", "application/json");
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.Matches("^\\{\"jsonrpc\":\"2.0\",\"result\":\"OpaqueRef:[^\"]+\",\"id\":\"abc\"\\}$", text);
    }

    [Fact]
    public async Task Xml_rpc_values_are_encoded_as_xapi_does_ints_as_strings_empty_strings_bare()
    {
        await using var sim = await SimHost.StartAsync();
        using var xml = sim.Xml();
        await xml.LoginAsync();
        var vdis = await xml.AllRecordsAsync("VDI");
        var (vdiRef, vdi) = vdis.First(p => (bool)p.Value["managed"]! && (string)p.Value["type"]! == "user");
        await xml.CallAsync("VDI.set_name_description", vdiRef, "");
        await xml.CallAsync("VDI.get_record", vdiRef);
        var raw = xml.LastResponse;
        Assert.Contains($"<member><name>virtual_size</name><value>{vdi["virtual_size"]}</value></member>", raw);
        Assert.Contains("<member><name>name_description</name><value></value></member>", raw);
        Assert.Contains("<member><name>read_only</name><value><boolean>0</boolean></value></member>", raw);
        Assert.Contains("<member><name>snapshot_time</name><value><dateTime.iso8601>", raw);
        Assert.Contains("<member><name>tags</name><value><array><data/></array></value></member>", raw.Replace("<data></data>", "<data/>"));

        // Ints sent as untyped strings (as the npm client does) are accepted by field type.
        await xml.CallAsync("VDI.set_other_config", vdiRef, new Dictionary<string, object?> { ["k"] = "v" });
        Assert.Equal("v", ((Dictionary<string, object?>)(await xml.CallAsync("VDI.get_other_config", vdiRef))!)["k"]);
    }

    [Fact]
    public async Task List_methods_is_bare_and_covers_the_generic_and_specific_messages()
    {
        await using var sim = await SimHost.StartAsync();
        using var xml = sim.Xml();
        var methods = ((List<object?>)(await xml.CallRawAsync("system.listMethods"))!).Cast<string>().ToHashSet();
        Assert.StartsWith("<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data>", xml.LastResponse);
        foreach (var m in new[] { "VM.snapshot", "VM.get_record", "VM.add_to_other_config", "VM.remove_from_blocked_operations", "VM.add_tags", "VDI.resize", "event.from", "task.cancel", "SR.get_all_records", "VBD.create", "VIF.destroy" })
        {
            Assert.Contains(m, methods);
        }
    }

    [Fact]
    public async Task Errors_carry_xapi_codes_and_parameters()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        var auth = await Assert.ThrowsAsync<XapiException>(() => rpc.CallRawAsync("session.login_with_password", "root", "wrong"));
        Assert.Equal(["SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"], auth.Description);
        var invalid = await Assert.ThrowsAsync<XapiException>(() => rpc.CallRawAsync("VM.get_all", "OpaqueRef:nope"));
        Assert.Equal(["SESSION_INVALID", "OpaqueRef:nope"], invalid.Description);
        await rpc.LoginAsync();
        Assert.Equal(["HANDLE_INVALID", "VM", "OpaqueRef:missing"], (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.get_record", "OpaqueRef:missing"))).Description);
        Assert.Equal(["UUID_INVALID", "VM", "0000"], (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.get_by_uuid", "0000"))).Description);
        Assert.Equal(["MESSAGE_METHOD_UNKNOWN", "VM.frobnicate"], (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.frobnicate"))).Description);
        var count = await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.get_record"));
        Assert.Equal("MESSAGE_PARAMETER_COUNT_MISMATCH", count.Code);
        Assert.Equal("VM.get_record", count.Description[1]);
        var vm = (string)(await rpc.CallAsync("VM.get_by_name_label", "db01") as List<object?>)![0]!;
        await rpc.CallAsync("VM.add_to_other_config", vm, "key", "1");
        Assert.Equal(["MAP_DUPLICATE_KEY", "VM", "other_config", vm, "key"], (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.add_to_other_config", vm, "key", "2"))).Description);
        Assert.Equal(["VM_BAD_POWER_STATE", vm, "running", "halted"], (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.clean_shutdown", vm))).Description);
    }

    [Fact]
    public async Task Malformed_requests_get_http_500_with_html()
    {
        await using var sim = await SimHost.StartAsync();
        using var response = await PostAsync(sim, "/", "<methodCall><oops");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Generic_accessors_maps_sets_and_reverse_fields()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        var vm = (string)(await rpc.CallAsync("VM.get_by_name_label", "web01") as List<object?>)![0]!;
        var uuid = (string)(await rpc.CallAsync("VM.get_uuid", vm))!;
        Assert.Equal(vm, await rpc.CallAsync("VM.get_by_uuid", uuid));
        await rpc.CallAsync("VM.add_tags", vm, "prod");
        await rpc.CallAsync("VM.add_tags", vm, "prod");
        Assert.Equal(["prod"], ((List<object?>)(await rpc.CallAsync("VM.get_tags", vm))!).Cast<string>());
        await rpc.CallAsync("VM.remove_tags", vm, "prod");
        Assert.Empty((List<object?>)(await rpc.CallAsync("VM.get_tags", vm))!);
        await rpc.CallAsync("VM.add_to_blocked_operations", vm, "start", "replica");
        Assert.Equal("replica", ((Dictionary<string, object?>)(await rpc.CallAsync("VM.get_blocked_operations", vm))!)["start"]);
        await rpc.CallAsync("VM.remove_from_blocked_operations", vm, "start");
        Assert.Empty((Dictionary<string, object?>)(await rpc.CallAsync("VM.get_blocked_operations", vm))!);

        var vbds = ((List<object?>)(await rpc.CallAsync("VM.get_VBDs", vm))!).Cast<string>().ToList();
        Assert.Equal(3, vbds.Count);
        foreach (var vbd in vbds)
        {
            Assert.Equal(vm, await rpc.CallAsync("VBD.get_VM", vbd));
        }

        var srs = await rpc.AllRecordsAsync("SR");
        var disks = srs.Values.SelectMany(sr => (List<object?>)sr["VDIs"]!).Count();
        Assert.Equal((await rpc.AllRecordsAsync("VDI")).Count, disks);
        var pools = await rpc.AllRecordsAsync("pool");
        var master = (string)Assert.Single(pools.Values)["master"]!;
        Assert.Contains(master, (await rpc.AllRecordsAsync("host")).Keys);
    }
}
