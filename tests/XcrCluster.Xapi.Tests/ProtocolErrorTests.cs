using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

/// <summary>A reply that does not parse, or parses to the wrong shape, raises XCR_PROTOCOL_ERROR naming the
/// endpoint and the method: never a raw JsonException, XmlException, FormatException or InvalidCastException.</summary>
public sealed class ProtocolErrorTests
{
    private const string Xml = "text/xml";
    private const string XmlSuccessOpen = "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>"
        + "<member><name>Status</name><value>Success</value></member><member><name>Value</name>";

    private const string XmlSuccessClose = "</member></struct></value></param></params></methodResponse>";

    private sealed record Case(string Transport, Func<HostileRequest, HostileReply> Reply, string Method, Func<XapiClient, Task> Act);

    private static Task AllVms(XapiClient c) => c.GetAllRecordsAsync<VmRecord>();

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["truncated json"] = new("json", _ => HostileReply.Raw("{\"jsonrpc\":\"2.0\",\"result\":{\"OpaqueRef:1\":"), "VM.get_all_records",
            AllVms),
        ["json array"] = new("json", _ => HostileReply.Raw("[1,2,3]"), "VM.get_all_records", AllVms),
        ["json without result"] = new("json", _ => HostileReply.Raw("{\"jsonrpc\":\"2.0\",\"id\":1}"), "VM.get_all_records", AllVms),
        ["json error of the wrong type"] = new("json",
            _ => HostileReply.Raw("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":5},\"id\":1}"),
            "VM.get_all_records", AllVms),
        ["json duplicate keys"] = new("json", _ => HostileReply.Raw("{\"jsonrpc\":\"2.0\",\"result\":{\"a\":{},\"a\":{}},\"id\":1}"),
            "VM.get_all_records", AllVms),
        ["records that are not a map"] = new("json", _ => HostileReply.Result("not a map"), "VM.get_all_records", AllVms),
        ["a record that is not a map"] = new("json", _ => HostileReply.Result(new Dictionary<string, object?> { ["OpaqueRef:1"] = 7L }),
            "VM.get_all_records", AllVms),
        ["a ref that is not a string"] = new("json", _ => HostileReply.Result(new Dictionary<string, object?>()), "task.create",
            c => c.CreateTaskAsync("t")),
        ["truncated xml"] = new("xml", _ => HostileReply.Raw(XmlSuccessOpen + "<value><struct><member>", Xml), "VM.get_all_records",
            AllVms),
        ["xml int that is no number"] = new("xml",
            _ => HostileReply.Raw(XmlSuccessOpen + "<value><int>x</int></value>" + XmlSuccessClose, Xml),
            "VM.get_all_records", AllVms),
        ["xml of an unknown type"] = new("xml", _ => HostileReply.Raw(XmlSuccessOpen + "<value><blob/></value>" + XmlSuccessClose, Xml),
            "VM.get_all_records", AllVms),
        ["xml with a dtd"] = new("xml", _ => HostileReply.Raw("<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY a \"aaaaaaaaaa\">]>"
            + "<methodResponse><params><param><value>&a;</value></param></params></methodResponse>", Xml), "VM.get_name_label",
            c => c.CallAsync("VM.get_name_label", "OpaqueRef:vm")),
        ["xml without a value"] = new("xml", _ => HostileReply.Raw("<?xml version=\"1.0\"?><methodResponse/>", Xml), "VM.get_all_records",
            AllVms),
        ["a task result that is not xml"] = new("json", TaskWithResult("<value><broken"), "VM.snapshot",
            c => c.CallTaskAsync("VM.snapshot", ["OpaqueRef:vm", "s"])),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_reply_that_does_not_parse_is_a_protocol_error_naming_the_endpoint_and_method(string name)
    {
        var c = Cases[name];
        await using var server = HostileXapiServer.Start(HostileXapiServer.LoginThen(c.Reply));
        await using var client = await XapiClient.ConnectAsync(HostileServerTests.Endpoint(server),
            new XapiClientOptions { Transport = c.Transport });
        var e = await Assert.ThrowsAnyAsync<XapiException>(() => c.Act(client).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("XCR_PROTOCOL_ERROR", e.Code);
        Assert.Contains(server.Authority, e.Message);
        Assert.Contains(c.Method, e.Message);
    }

    [Fact]
    public async Task A_login_that_returns_no_session_ref_is_a_protocol_error()
    {
        await using var server = HostileXapiServer.Start(_ => HostileReply.Result(42L));
        var e = await Assert.ThrowsAnyAsync<XapiException>(() => XapiClient.ConnectAsync(HostileServerTests.Endpoint(server)));
        Assert.Equal("XCR_PROTOCOL_ERROR", e.Code);
        Assert.Contains(server.Authority, e.Message);
        Assert.Contains("session.login_with_password", e.Message);
    }

    /// <summary>A pool whose Async calls finish at once with this task result (and which serves no events).</summary>
    private static Func<HostileRequest, HostileReply> TaskWithResult(string result) => r => r.RpcMethod switch
    {
        { } m when m.StartsWith("Async.", StringComparison.Ordinal) => HostileReply.Result("OpaqueRef:task"),
        "event.inject" => HostileReply.Error("MESSAGE_METHOD_UNKNOWN", "event.inject"),
        "task.get_record" =>
            HostileReply.Result(new Dictionary<string, object?> { ["status"] = "success", ["result"] = result, ["name_label"] = "t" }),
        _ => HostileReply.Result(""),
    };
}
