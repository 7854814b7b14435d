using System.CommandLine;

namespace XcrCluster.Cli;

/// <summary>`xcr failover planned`: the source shut down cleanly, a final run, the replica started, the source blocked.</summary>
public static class PlannedCommands
{
    public static Command Planned(CliContext cli)
    {
        var vm = new Argument<string?>("vm-uuid") { Arity = ArgumentArity.ZeroOrOne };
        var job = new Option<string?>("--job") { Description = "every VM of this job (instead of one VM)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "check and show the plan, change nothing" };
        return cli.Api("planned", "zero-loss failover: shut the source down, a final run, start the replica, block the source",
            async (r, client) =>
            {
                if (r.GetValue(vm) is null == (r.GetValue(job) is null))
                {
                    throw new CliException("give one of <vm-uuid> or --job <id>");
                }

                var body = new { vm = r.GetValue(vm), job = r.GetValue(job), dryRun = r.GetValue(dryRun) };
                return await RecoveryCommands.PrintAsync(cli, r,
                    await client.PostLongAsync("/api/failover/planned", body, RecoveryCommands.Wait));
            }, vm, job, dryRun);
    }
}
