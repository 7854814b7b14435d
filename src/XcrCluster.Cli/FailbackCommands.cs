using System.CommandLine;

namespace XcrCluster.Cli;

/// <summary>`xcr failback`: the blocks a started replica changed sent back to the original; --resume then re-enables the
/// original direction.</summary>
public static class FailbackCommands
{
    public static Command Failback(CliContext cli)
    {
        var vm = new Argument<string>("vm-uuid");
        var resume = new Option<bool>("--resume")
        {
            Description = "then unblock the original VM's start so the job replicates it again (alone: after a failback, only that)",
        };
        return cli.Api("failback", "send back the blocks a started replica changed, into the original VM or a new one",
            async (r, client) => await RecoveryCommands.PrintAsync(cli, r, await client.PostLongAsync("/api/failback",
                new { vm = r.GetValue(vm), resume = r.GetValue(resume) }, RecoveryCommands.Wait)), vm, resume);
    }
}
