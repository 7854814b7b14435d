using System.Net;
using System.Net.Sockets;
using XcrCluster.XapiSim.Http;

namespace XcrCluster.XapiSim.Tests;

public sealed class PortChoiceTests
{
    [Fact]
    public async Task A_chosen_port_taken_before_the_bind_is_chosen_again()
    {
        // Another process (the parallel CI lane) takes the probed port between probe and bind.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var probes = 0;
        SimServer.PortProbeOverride.Value = address =>
        {
            probes++;
            if (probes == 1)
            {
                return takenPort;
            }

            using var probe = new TcpListener(address, 0);
            probe.Start();
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        };

        await using var sim = await SimHost.StartAsync();

        Assert.Equal(2, probes);
        Assert.NotEqual(takenPort, sim.Url.Port);
        using var rpc = sim.Json();
        await rpc.LoginAsync();
    }

    [Fact]
    public async Task A_port_the_operator_named_is_not_replaced_when_taken()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var endpoint = (IPEndPoint)taken.LocalEndpoint;

        var error = await Assert.ThrowsAsync<IOException>(
            () => SimHost.StartAsync(o => o with { Listen = [endpoint.ToString()] }));

        Assert.Contains(endpoint.Port.ToString(), error.Message);
    }
}
