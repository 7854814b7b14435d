using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>What a failover test checks before it changes anything: a restore point to clone, no other test of the VM that
/// may still run, and a network that is the pool's and isolated.</summary>
internal static class FailoverTestChecks
{
    /// <summary>The newest restore point and the network, or a refusal naming why (nothing changed).</summary>
    public static async Task<(RestorePointOnSr Point, NetworkRecord? Network)> CheckAsync(Pool pool, TestReplica step,
        CancellationToken ct)
    {
        var point = (await RestorePointOnSr.ListAsync(pool, step.Vm, step.SrUuid, step.JobId, ct).ConfigureAwait(false))
            .FirstOrDefault()
            ?? throw new RecoveryRefusedException($"VM {step.Vm} has no restore point on SR {step.SrUuid}: nothing to test");
        await CheckNoTestRunningAsync(pool, step.Vm, ct).ConfigureAwait(false);
        if (step.NetworkUuid is null)
        {
            return (point, null);
        }

        var network = (await pool.AllAsync<NetworkRecord>(ct).ConfigureAwait(false))
            .FirstOrDefault(n => string.Equals(n.Uuid, step.NetworkUuid, StringComparison.OrdinalIgnoreCase))
            ?? throw new RecoveryRefusedException($"network {step.NetworkUuid} is not a network of pool {pool.Name}");
        if (network.Pifs.Count > 0)
        {
            // The clone has the replica's MAC addresses and its guest the source VM's IP addresses: on a network that reaches
            // a physical one it would answer for the production VM.
            throw new RecoveryRefusedException($"network {network.Uuid} ({network.NameLabel}) reaches a physical network "
                + $"({network.Pifs.Count} PIFs): a test clone answers with the source VM's addresses; give an isolated network "
                + "(no PIF) or none");
        }

        return (point, network);
    }

    /// <summary>Two tests of one VM would bring up two guests with the same MACs and addresses: a clone whose test may still
    /// run (its time not over) refuses a new test.</summary>
    private static async Task CheckNoTestRunningAsync(Pool pool, string vm, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var other in await pool.AllAsync<VmRecord>(ct).ConfigureAwait(false))
        {
            if (!other.IsASnapshot && FailoverTestMark.Read(other.NameLabel) is { } mark && mark.Vm == vm && mark.Until >= now)
            {
                throw new RecoveryRefusedException($"a failover test of VM {vm} may still be running: its clone {other.Uuid} is there "
                    + $"until {mark.Until:u} (if that test's node stopped, the VM's first run after then removes the clone)");
            }
        }
    }
}
