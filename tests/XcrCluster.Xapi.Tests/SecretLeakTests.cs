using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

/// <summary>Runs the client through every fault it handles and collects everything printable it produced
/// (log lines, exceptions with their inner exceptions and stack text, ToString of the client, endpoint,
/// records and transfers); the password appears in none of it, neither plain nor percent-encoded.</summary>
public sealed class SecretLeakTests
{
    [Fact]
    public async Task No_log_line_exception_or_to_string_contains_the_password()
    {
        var printed = new List<string>();
        var log = new LogCapture();
        await using var sim = await ClientPools.StartAsync(o => o with { Listen = ["127.0.0.1:0", "127.0.0.2:0"] });
        var options = log.Options() with { StallTimeout = TimeSpan.FromSeconds(1), ReadRetries = 1, RetryDelay = TimeSpan.FromMilliseconds(10) };

        async Task Capture(Func<Task> action)
        {
            try
            {
                await action();
            }
            catch (Exception e)
            {
                printed.Add(e.ToString());
            }
        }

        // HOST_IS_SLAVE from the member, then SESSION_INVALID mid-run.
        await using var client = await ClientPools.ConnectAsync(sim, options, host: 1);
        printed.Add(client.ToString()!);
        printed.Add(client.Endpoint.ToString());
        printed.Add(client.Endpoint.Url.ToString());
        sim.Pool.Faults.SessionInvalidOnNextCall();
        var vms = await client.GetAllRecordsAsync<VmRecord>();
        printed.AddRange(vms.Select(v => v.ToString()));
        var vdi = (await client.GetAllRecordsAsync<VdiRecord>()).First(v => v.Managed && !v.IsASnapshot && v.VirtualSize > 0);

        // The export redirect, a reset mid-export, a stalled export, a failing call.
        sim.Pool.Faults.RedirectExports = true;
        await Capture(async () =>
        {
            await using var export = await client.ExportVdiAsync(vdi.Ref, VdiFormat.Raw);
            printed.Add(export.ToString()!);
            await export.Content.CopyToAsync(Stream.Null);
        });
        sim.Pool.Faults.RedirectExports = false;
        sim.Pool.Faults.ResetExportAfterBytes = 1 << 20;
        await Capture(async () =>
        {
            await using var export = await client.ExportVdiAsync(vdi.Ref, VdiFormat.Raw);
            await export.Content.CopyToAsync(Stream.Null);
        });
        sim.Pool.Faults.ResetExportAfterBytes = 0;
        sim.Pool.Faults.ExportBytesPerSecond = 1;
        await Capture(async () =>
        {
            await using var export = await client.ExportVdiAsync(vdi.Ref, VdiFormat.Raw);
            await export.Content.CopyToAsync(Stream.Null);
        });
        sim.Pool.Faults.ExportBytesPerSecond = 0;
        await Capture(() => client.CallAsync("VM.start", "OpaqueRef:missing", false, false));

        // A wrong password and an unreachable pool.
        await Capture(() => XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:{Uri.EscapeDataString(ClientPools.Password + "x")}@{sim.Url.Authority}"), options));
        await Capture(() => XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:{Uri.EscapeDataString(ClientPools.Password)}@127.0.0.1:1"), options));

        printed.AddRange(log.Lines);
        Assert.True(printed.Count > 10, "the scenario produced too little output to prove anything");
        Assert.Contains(log.Lines, l => l.Contains("redirected", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("logging in again", StringComparison.Ordinal));
        foreach (var text in printed)
        {
            Assert.DoesNotContain(ClientPools.Password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Uri.EscapeDataString(ClientPools.Password), text, StringComparison.Ordinal);
        }
    }
}
