using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.XapiSim.Tests;

/// <summary>--xapi-version: what the hosts show, VM.snapshot's parameter count before and after 21.4.0
/// (ocaml/idl/datamodel_vm.ml), the numeric comparison, and the option's parsing.</summary>
public sealed class XapiVersionTests
{
    private static async Task<HostRecord> MasterAsync(XapiClient client) => (await client.GetAllRecordsAsync<HostRecord>())[0];

    [Fact]
    public async Task An_8_2_pool_shows_its_xapi_and_refuses_ignore_vdis_as_the_dispatcher_does()
    {
        await using var sim = await SimHost.StartAsync(o => o with { XapiVersion = "1.20" });
        await using var client = await SimPools.ConnectAsync(sim);
        Assert.Equal("1.20", (await MasterAsync(client)).SoftwareVersion["xapi"]);
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        var host = await rpc.RecordAsync("host", (await rpc.AllRecordsAsync("host")).Keys.First());
        Assert.Equal((2L, 15L), (Convert.ToInt64(host["API_version_major"]), Convert.ToInt64(host["API_version_minor"])));

        var vm = await SimPools.VmAsync(client, "db01");
        var e = await Assert.ThrowsAsync<XapiException>(() => client.CallAsync("VM.snapshot", vm.Ref, "s", new List<object?>()));
        Assert.Equal(["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.snapshot", "2", "3"], e.Description);
        await client.CallTaskAsync("VM.snapshot", [vm.Ref, "two parameters"]);
    }

    [Fact]
    public async Task A_current_pool_shows_its_xapi_and_takes_ignore_vdis()
    {
        Assert.Equal("25.6", new SimOptions { DataDir = "unused" }.XapiVersion);
        await using var sim = await SimHost.StartAsync(o => o with { XapiVersion = "25.6" });
        await using var client = await SimPools.ConnectAsync(sim);
        Assert.Equal("25.6", (await MasterAsync(client)).SoftwareVersion["xapi"]);
        var vm = await SimPools.VmAsync(client, "db01");
        await client.CallTaskAsync("VM.snapshot", [vm.Ref, "three parameters", new List<object?>()]);
    }

    [Fact]
    public void Versions_compare_by_numeric_components_and_bad_ones_are_refused()
    {
        var ordered = new[] { "1.20", "1.249", "1.249.3", "21.3", "21.4", "21.4.0", "25.6" }.Select(XapiVersion.Parse).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i - 1] <= ordered[i], $"{ordered[i - 1]} <= {ordered[i]}");
        }

        Assert.True(XapiVersion.Parse("1.249") < XapiVersion.SnapshotIgnoreVdis);
        Assert.False(XapiVersion.Parse("21.4.0") < XapiVersion.SnapshotIgnoreVdis);
        foreach (var bad in (string[])["8", "8.x", "1.2.3.4", "", "-1.2"])
        {
            Assert.Throws<ArgumentException>(() => XapiVersion.Parse(bad));
        }

        Assert.Equal("1.20", SimCommandLine.Parse(["--data", "d", "--xapi-version", "1.20"]).XapiVersion);
        var refused = Assert.Throws<ArgumentException>(() => SimCommandLine.Parse(["--data", "d", "--xapi-version", "eight"]));
        Assert.Contains("xapi version", refused.Message);
    }
}

/// <summary>XCR_SIM_XAPI_VERSION reaches in-process pools and simulator processes; alone in the "processes"
/// collection, so no other test sees the variable meanwhile.</summary>
[Collection("processes")]
public sealed class XapiVersionEnvironmentTests
{
    [Fact]
    public async Task Test_pools_and_simulator_processes_run_the_xapi_of_the_environment_variable()
    {
        var dir = Directory.CreateTempSubdirectory("xcr-version-").FullName;
        var previous = Environment.GetEnvironmentVariable("XCR_SIM_XAPI_VERSION");
        Environment.SetEnvironmentVariable("XCR_SIM_XAPI_VERSION", "1.20");
        try
        {
            await using (var sim = await SimHost.StartAsync())
            {
                Assert.Equal("1.20", sim.Pool.Options.XapiVersion);
            }

            var (process, url) = await ProgramProcess.StartAsync("--listen", "127.0.0.1:0", "--data", Path.Combine(dir, "data"));
            using (process)
            {
                using var rpc = new RpcClient(url, RpcClient.Transport.Json);
                await rpc.LoginAsync();
                var host = (await rpc.AllRecordsAsync("host")).Values.First();
                Assert.Equal("1.20", ((Dictionary<string, object?>)host["software_version"]!)["xapi"]);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("XCR_SIM_XAPI_VERSION", previous);
            Directory.Delete(dir, recursive: true);
        }
    }
}
