using System.CommandLine;
using Spectre.Console;

namespace XcrCluster.Cli;

/// <summary>
/// `xcr`: pools, jobs, runs and the cluster through a node's HTTP API, in pbm's output conventions, plus
/// `xcr demo`. Data commands take --json (stable field names); errors are one line and a non-zero exit code
/// (1 for a failed operation, 2 for bad usage); a pool password never goes on a command line. Each palette
/// lives in a file of its own (PoolCommands, JobCommands, ...).
/// </summary>
public static class XcrCommand
{
    public const string Usage = "usage: xcr (pool add|list, sr list, vm list, job create|set|list|show|run|enable|disable|delete|schedule, run list|show|tail, "
        + "replica list, failover start|test|planned, failback, seed, seed export|import, rpo, "
        + "cluster show|tail|leave|down|down-unreachable, sharding regions|region-stats, demo) [--json] [--node URL] [--token T]; "
        + "xcr --help";

    /// <summary>Runs xcr; <paramref name="terminal"/>: the terminal the output goes to (by default the console's, when not
    /// redirected).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TextReader input,
        IAnsiConsole? terminal = null)
    {
        var cli = new CliContext(output, error, input, terminal);
        var root = new RootCommand("xcr: incremental replication of XCP-ng / XenServer VMs") { cli.Node, cli.Token, cli.Json };
        var palettes = new[]
        {
            PoolCommands.Build(cli), InventoryCommands.Build(cli), JobCommands.Build(cli), RunCommands.Build(cli), ClusterCommands.Build(cli),
            RecoveryCommands.Build(cli), NotifyCommands.Build(cli),
        };
        foreach (var command in palettes.SelectMany(p => p))
        {
            root.Subcommands.Add(command);
        }

        var keep = new Option<bool>("--keep") { Description = "leave the pools and the node running and print how to use xcr against them" };
        var dataDir = new Option<string?>("--data");
        var demo = new Command("demo", "simulated pools, a one-node cluster, a full then a delta replication") { keep, dataDir };
        demo.SetAction(async (result, _) => await Demo.RunAsync([.. result.GetValue(keep) ? ["--keep"] : Array.Empty<string>(), .. result.GetValue(dataDir) is { } d ? ["--data", d] : Array.Empty<string>()], output));
        root.Subcommands.Add(demo);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 || args.Length == 0)
        {
            foreach (var e in parsed.Errors)
            {
                await error.WriteLineAsync($"xcr: {e.Message}");
            }

            await error.WriteLineAsync(Usage);
            return 2;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }
}
