using System.Text.Json.Nodes;

namespace XcrCluster.Node.Tests;

/// <summary>Akka remoting over mutual TLS (--cluster-cert, --cluster-ca): a node joins only with the cluster's certificate
/// (or one its CA signed); a process with another certificate is refused at the handshake and never becomes a member.</summary>
public sealed class ClusterTlsTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "xcr-cluster-tls-" + Guid.NewGuid().ToString("N")[..12]);

    public ClusterTlsTests() => Directory.CreateDirectory(root);

    public void Dispose() => SimHost.DeleteDataDir(root);

    [Fact]
    public async Task A_node_with_the_cluster_certificate_joins_and_one_with_another_certificate_never_becomes_a_member()
    {
        var cluster = TestCertificates.SelfSigned(root, "cluster");
        var stranger = TestCertificates.SelfSigned(root, "stranger");
        using var first = await NodeProcess.StartAsync(Dir("first"), "--cluster-cert", cluster);
        Assert.StartsWith("akka.ssl.tcp://xcr@127.0.0.1:", NodeProcess.Endpoint(Dir("first"))["akka"]);

        using var second = await NodeProcess.JoinAsync(Dir("second"), Dir("first"), "pool-alpha", "--cluster-cert", cluster);
        await Poll.UntilAsync(async () => UpMembers(await first.GetAsync("/api/cluster")) == 2, "the second node to be Up");

        await AssertRefusedAsync(first, "pool-beta", "--cluster-cert", stranger);
    }

    [Fact]
    public async Task With_a_cluster_ca_nodes_with_certificates_it_signed_join_and_one_signed_by_another_ca_is_refused()
    {
        using var ca = TestCertificates.Authority(root, "cluster-ca");
        using var otherCa = TestCertificates.Authority(root, "other-ca");
        var caPem = Path.Combine(root, "cluster-ca.pem");
        using var first = await NodeProcess.StartAsync(Dir("first"),
            "--cluster-cert", TestCertificates.SignedBy(ca, root, "node1"), "--cluster-ca", caPem);
        using var second = await NodeProcess.JoinAsync(Dir("second"), Dir("first"), "pool-alpha",
            "--cluster-cert", TestCertificates.SignedBy(ca, root, "node2"), "--cluster-ca", caPem);
        await Poll.UntilAsync(async () => UpMembers(await first.GetAsync("/api/cluster")) == 2, "the second node to be Up");

        await AssertRefusedAsync(first, "pool-beta", "--cluster-cert", TestCertificates.SignedBy(otherCa, root, "intruder"),
            "--cluster-ca", caPem);
    }

    /// <summary>Starts a node with these options that tries to join <paramref name="seed"/>: the handshake is refused, and the
    /// intruder is no member in any state (it never prints its ready line either).</summary>
    private async Task AssertRefusedAsync(NodeProcess seed, string roles, params string[] options)
    {
        var dir = Dir("intruder");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Dir("first"), "cluster.key"), Path.Combine(dir, "cluster.key"));
        using var intruder = ProgramProcess.Start(ProgramProcess.Node,
            ["--data", dir, "--roles", roles, "--join-timeout", "30s", "--seed-nodes", NodeProcess.Endpoint(Dir("first"))["akka"], .. options]);

        // The handshake fails, and the side that refused says why on its log: the seed when the intruder's certificate is
        // the wrong one, the intruder first when the seed's certificate is not the one it holds.
        await Poll.UntilAsync(() => (seed.Process.Stderr + intruder.Stderr).Contains("cluster TLS: refused"), "the handshake to be refused");

        // It keeps trying until its join timeout, then gives up and exits 1 without ever having been a member.
        Assert.Equal(1, await intruder.WaitForExitAsync());
        Assert.Contains("did not join the cluster within 30 s", intruder.Stderr);
        Assert.Empty(intruder.Stdout);
        var members = (await seed.GetAsync("/api/cluster"))["members"]!.AsArray();
        Assert.Equal(2, members.Count);
        Assert.DoesNotContain(members, m => m!["roles"]!.AsArray().Any(r => r!.GetValue<string>() == roles));
    }

    private string Dir(string name) => Path.Combine(root, name);

    private static int UpMembers(JsonNode cluster) => cluster["members"]!.AsArray().Count(m => m!["status"]!.GetValue<string>() == "Up");
}
