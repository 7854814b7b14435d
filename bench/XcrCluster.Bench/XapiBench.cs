using System.Net.Http.Headers;
using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Http;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Bench;

/// <summary>`xcr-bench xapi`: the XAPI client's VDI export and import against a plain HttpClient moving the same
/// bytes to and from the same in-process simulator (loopback HTTP): the ratio is what the client costs. The
/// export reads a synthetic disk (generated on read); the import sends a VHD of 60 % random blocks.</summary>
public static class XapiBench
{
    public static async Task RunAsync(BenchArgs args)
    {
        var fixture = Fixture.Default with
        {
            Vms =
            [
                new FixtureVm("source", Disks: [new FixtureDisk(args.SizeBytes, Fill: new DiskFill("synthetic", 7))]),
                new FixtureVm("target", Disks: [new FixtureDisk(args.SizeBytes)]),
            ],
        };
        var options = new SimOptions { DataDir = args.Dir, Fixture = fixture, CollectorInterval = TimeSpan.Zero };
        try
        {
            await using var sim = await SimServer.StartAsync(options);
            var url = sim.Url;
            await using var client = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://{options.User}:{options.Password}@{url.Authority}"));
            var vdis = await client.GetAllRecordsAsync<VdiRecord>();
            var source = vdis.Single(v => v.NameLabel == "source disk 0");
            var target = vdis.Single(v => v.NameLabel == "target disk 0");
            using var http = new HttpClient { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
            var session = await LoginAsync(http, options.User, options.Password);
            var disk = new SampleDisk(args.SizeBytes);
            var upload = new MemoryStream(checked((int)VhdStreamWriter.ComputeLength(disk.Size, disk.Present.Count)));
            await disk.WriteVhdAsync(upload);
            Console.Error.WriteLine($"xcr-bench xapi: export of a {args.SizeBytes >> 20} MiB synthetic disk (VHD), import of a {upload.Length}-byte VHD");

            var measure = new Measure(args.Runs);
            await measure.AddAsync("plain HttpClient GET", "export", baseline: true, async () =>
            {
                using var response = await http.GetAsync($"/export_raw_vdi/?vdi={source.Ref}&format=vhd&session_id={session}", HttpCompletionOption.ResponseHeadersRead);
                response.EnsureSuccessStatusCode();
                var sink = new CountingSink();
                await (await response.Content.ReadAsStreamAsync()).CopyToAsync(sink);
                return sink.Count;
            });
            await measure.AddAsync("XapiClient.ExportVdiAsync", "export", baseline: false, async () =>
            {
                await using var export = await client.ExportVdiAsync(source.Ref, VdiFormat.Vhd);
                var sink = new CountingSink();
                await export.Content.CopyToAsync(sink);
                await export.CompleteAsync();
                return sink.Count;
            });
            await measure.AddAsync("plain HttpClient PUT", "import", baseline: true, async () =>
            {
                upload.Position = 0;
                var content = new StreamContent(upload, 1 << 20);
                content.Headers.ContentLength = upload.Length;
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                using var response = await http.PutAsync($"/import_raw_vdi/?vdi={target.Ref}&format=vhd&session_id={session}", content);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                return upload.Length;
            });
            await measure.AddAsync("XapiClient.ImportVdiAsync", "import", baseline: false, async () =>
            {
                upload.Position = 0;
                await client.ImportVdiAsync(target.Ref, upload, upload.Length, VdiFormat.Vhd);
                return upload.Length;
            });
            CaseNotes.Xapi.Print(measure.Print);
        }
        finally
        {
            Directory.Delete(args.Dir, recursive: true);
        }
    }

    /// <summary>A session id, logged in over plain JSON-RPC (the baselines use no XAPI client).</summary>
    public static async Task<string> LoginAsync(HttpClient http, string user, string password)
    {
        var body = new ByteArrayContent(JsonRpc.EncodeRequest("session.login_with_password", [user, password], 1));
        body.Headers.ContentType = new MediaTypeHeaderValue(JsonRpc.ContentType);
        using var response = await http.PostAsync("/jsonrpc", body);
        return (string)JsonRpc.DecodeResponse(await response.Content.ReadAsByteArrayAsync())!;
    }
}
