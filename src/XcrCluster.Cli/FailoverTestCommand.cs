using System.CommandLine;
using XcrCluster.Domain;

namespace XcrCluster.Cli;

/// <summary>`xcr failover test &lt;vm-uuid&gt;|--job &lt;id&gt; [--network &lt;uuid&gt;] [--timeout 10m]`: each VM's newest restore
/// point cloned, started on an isolated network (or none), waited on until its guest answers, and destroyed.</summary>
public static class FailoverTestCommand
{
    public static Command Build(CliContext cli)
    {
        var vm = new Argument<string?>("vm-uuid") { Arity = ArgumentArity.ZeroOrOne };
        var job = new Option<string?>("--job") { Description = "test every VM of this job (instead of one VM)" };
        var network = new Option<string?>("--network")
        {
            Description = "an isolated network (no PIF) of the replica's pool for the clone's VIFs (default: no VIF)",
        };
        var timeout = new Option<string>("--timeout")
        {
            Description = "how long each guest may take to answer once started", DefaultValueFactory = _ => "10m",
        };
        return cli.Api("test", "start a clone of each VM's newest restore point, wait for its guest, destroy it", async (r, client) =>
        {
            if ((r.GetValue(vm) is null) == (r.GetValue(job) is null))
            {
                throw new CliException("give a VM uuid or --job <id>");
            }

            var text = r.GetValue(timeout)!;
            var wait = Units.ParseDuration(text) ?? throw new CliException($"--timeout {text}: expected {Units.DurationHint}");
            var body = new
            {
                vm = r.GetValue(vm), job = r.GetValue(job), network = r.GetValue(network),
                timeoutSeconds = (long)Math.Ceiling(wait.TotalSeconds),
            };
            var record = await client.PostLongAsync("/api/failover/test", body, RecoveryCommands.Wait);
            return await RecoveryCommands.PrintAsync(cli, r, record);
        }, vm, job, network, timeout);
    }
}
