using System.Security.Cryptography;
using Akka.Actor;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>Pools and jobs in the control plane, and pool credentials encrypted with the cluster key.</summary>
public sealed class ControlPlaneTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    """)
{
    private static readonly ClusterKey Key = new(RandomNumberGenerator.GetBytes(32));

    private static readonly string Sr = Guid.NewGuid().ToString();

    private static JobDefinition Job(IReadOnlyList<string> vms, TargetRef target)
        => new("j", "nightly", "alpha", vms, [target], new ReplicationSettings()) { Schedules = [new JobSchedule("s")] };

    private static PoolRegistration Pool(string name, string url = "https://192.0.2.10") => new(name, url, "root", Key.Encrypt("p@ss w0rd"), null, true);

    [Fact]
    public async Task Pools_and_jobs_are_validated_stored_and_recovered_and_the_registry_decrypts_only_at_use()
    {
        var control = Sys.ActorOf(ControlPlaneActor.Props());
        control.Tell(new RegisterPool(Pool("bad name!")), TestActor);
        Assert.StartsWith("name:", ExpectMsg<Refused>().Reason);
        control.Tell(new RegisterPool(Pool("alpha", "ftp://x")), TestActor);
        Assert.StartsWith("url:", ExpectMsg<Refused>().Reason);
        control.Tell(new RegisterPool(Pool("alpha")), TestActor);
        ExpectMsg<Done>();
        var vm = Guid.NewGuid().ToString();
        control.Tell(new DefineJob(Job([vm], new TargetRef("beta", Sr))), TestActor);
        Assert.Equal("targets: unknown pool \"beta\"", ExpectMsg<Refused>().Reason);
        control.Tell(new DefineJob(Job(["not-a-uuid"], new TargetRef("alpha", Sr))), TestActor);
        Assert.StartsWith("vms:", ExpectMsg<Refused>().Reason);
        control.Tell(new DefineJob(Job([vm], new TargetRef("alpha", Sr))), TestActor);
        ExpectMsg<Done>();

        Watch(control);
        Sys.Stop(control);
        ExpectTerminated(control);
        var again = Sys.ActorOf(ControlPlaneActor.Props());
        again.Tell(new GetJob("j"), TestActor);
        Assert.Equal([vm], ExpectMsg<JobReply>().Job!.Vms);
        var endpoint = await new ControlPoolRegistry(again, Key).EndpointAsync("alpha");
        Assert.Equal("p@ss w0rd", endpoint.Credentials!.Password.Reveal());
        Assert.True(endpoint.Tls.AllowAnyCertificate);
        Assert.DoesNotContain("p@ss", endpoint.ToString());
        await Assert.ThrowsAsync<KeyNotFoundException>(() => new ControlPoolRegistry(again, Key).EndpointAsync("gamma"));
    }

    [Fact]
    public void The_cluster_key_round_trips_and_refuses_tampering_or_another_key()
    {
        var sealedText = Key.Encrypt("hunter2");
        Assert.DoesNotContain("hunter2", sealedText);
        Assert.NotEqual(sealedText, Key.Encrypt("hunter2"));
        Assert.Equal("hunter2", Key.Decrypt(sealedText));
        var bytes = Convert.FromBase64String(sealedText);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => Key.Decrypt(Convert.ToBase64String(bytes)));
        Assert.ThrowsAny<CryptographicException>(() => new ClusterKey(RandomNumberGenerator.GetBytes(32)).Decrypt(sealedText));
        Assert.Throws<ArgumentException>(() => new ClusterKey(new byte[16]));
    }
}
