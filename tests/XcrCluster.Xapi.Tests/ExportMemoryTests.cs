using System.Diagnostics;
using System.Text.Json;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

/// <summary>The client streams: a 4 GiB export through it, in a child process, keeps that process's peak RSS
/// far below the disk size.</summary>
public sealed class ExportMemoryTests
{
    private const long DiskSize = 4L << 30;
    private const long PeakRssBoundKib = 160 * 1024;

    [Fact]
    public async Task A_4_GiB_synthetic_export_streams_in_bounded_memory()
    {
        var fixture = Path.Combine(Path.GetTempPath(), $"xcr-fixture-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(fixture, JsonSerializer.Serialize(new
        {
            vms = new[] { new { name = "big", disks = new[] { new { size = DiskSize, fill = new { kind = "synthetic", seed = 7 } } } } },
        }));
        try
        {
            await using var sim = await ClientPools.StartAsync(o => o with { FixturePath = fixture, Fixture = null });
            string vdiUuid;
            await using (var client = await ClientPools.ConnectAsync(sim))
            {
                vdiUuid = (await client.GetAllRecordsAsync<VdiRecord>()).Single(v => v.VirtualSize == DiskSize).Uuid;
            }

            var result = await RunProbeAsync(sim, vdiUuid);
            Assert.True(result.GetProperty("bytes").GetInt64() > DiskSize, $"exported {result.GetProperty("bytes")} bytes");
            var peak = result.GetProperty("vmHwmKib").GetInt64();
            Assert.True(peak < PeakRssBoundKib, $"peak RSS {peak} KiB over the {PeakRssBoundKib} KiB bound");
        }
        finally
        {
            File.Delete(fixture);
        }
    }

    private static async Task<JsonElement> RunProbeAsync(SimHost sim, string vdiUuid)
    {
        var probe = Path.Combine(AppContext.BaseDirectory, "xcr-export-probe.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(probe);
        psi.Environment["XCR_PROBE_URL"] = sim.Url.ToString();
        psi.Environment["XCR_PROBE_USER"] = "root";
        psi.Environment["XCR_PROBE_PASSWORD"] = ClientPools.Password;
        psi.Environment["XCR_PROBE_VDI"] = vdiUuid;
        psi.Environment["XCR_PROBE_FORMAT"] = "vhd";
        using var process = Process.Start(psi)!;
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
            Assert.True(process.ExitCode == 0, $"probe exited {process.ExitCode}: {await stderr}");
            return JsonDocument.Parse((await stdout).Trim()).RootElement.Clone();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
