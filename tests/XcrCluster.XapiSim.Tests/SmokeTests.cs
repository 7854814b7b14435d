namespace XcrCluster.XapiSim.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Default_pool_lists_three_vms_and_dom0_over_both_transports()
    {
        await using var sim = await SimHost.StartAsync();
        foreach (var client in new[] { sim.Json(), sim.Xml() })
        {
            using (client)
            {
                await client.LoginAsync();
                var vms = await client.AllRecordsAsync("VM");
                Assert.Equal(["Control domain on host: sim-host-1", "db01", "tiny01", "web01"], vms.Values.Select(v => (string)v["name_label"]!).Order());
                Assert.Single(vms.Values, v => v["is_control_domain"] is true);
            }
        }
    }
}
