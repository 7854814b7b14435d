using System.CommandLine;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>`xcr failover`, `xcr failback`, `xcr seed`: recovery commands. Each prints per VM what it did and the record id
/// `xcr run show` displays; exit 0 when every VM succeeded, 2 when some did, 1 when none did or the command was refused.</summary>
public static class RecoveryCommands
{
    /// <summary>How long `xcr` waits for a recovery command's answer (the node bounds each VM's step itself).</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromHours(13);

    public static IEnumerable<Command> Build(CliContext cli)
    {
        var vm = new Argument<string?>("vm-uuid") { Arity = ArgumentArity.ZeroOrOne };
        var job = new Option<string?>("--job") { Description = "every VM of this job (instead of one VM)" };
        var copy = new Option<bool>("--copy") { Description = "start a fast clone of the restore point: the replica and its chain stay" };
        var force = new Option<bool>("--force") { Description = "start the replica itself: it leaves its chain" };
        var yes = new Option<bool>("--yes") { Description = "confirm --force" };
        var restorePoint = new Option<string?>("--restore-point") { Description = "this restore point instead of the newest" };
        var sr = new Option<string?>("--sr") { Description = "the target SR whose replica to use (default: the newest restore point's)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "check and show the plan, change nothing" };
        var start = cli.Api("start", "start replicas on their target pools", async (r, client) =>
        {
            if (r.GetValue(copy) == r.GetValue(force))
            {
                throw new CliException("give one of --copy (start a clone; the replica stays) or --force (start the replica itself)");
            }

            var body = new
            {
                vm = r.GetValue(vm), job = r.GetValue(job), mode = r.GetValue(force) ? "force" : "copy",
                restorePoint = r.GetValue(restorePoint),
                sr = r.GetValue(sr), yes = r.GetValue(yes), dryRun = r.GetValue(dryRun),
            };
            return await PrintAsync(cli, r, await client.PostLongAsync("/api/failover", body, Wait));
        }, vm, job, copy, force, yes, restorePoint, sr, dryRun);
        yield return new Command("failover", "start replicas: a copy, the replica itself, a test, or a planned failover")
        {
            start, FailoverTestCommand.Build(cli), PlannedCommands.Planned(cli),
        };
        yield return SeedCommands.Build(cli);
        yield return FailbackCommands.Failback(cli);
    }

    /// <summary>One line per VM and the record's id; the exit code by how many VMs succeeded.</summary>
    public static async Task<int> PrintAsync(CliContext cli, ParseResult r, JsonNode record)
    {
        await cli.Print(r, record, d => d["vms"]!.AsArray().Select(v => VmLine(v!))
            .Append($"{d["kind"]} {d["id"]}: {d["status"]} (xcr run show {d["id"]})"));
        return record["status"]?.GetValue<string>() switch
        {
            "success" => 0,
            "partial" => 2,
            _ => 1,
        };
    }

    private static string VmLine(JsonNode v)
    {
        if (v["details"]?["plan"] is { } plan)
        {
            return $"VM {v["vm"]}: {plan}"; // a dry run of a whole job: the VM's place in the plan
        }

        var result = v["result"] is { } uuid ? $" -> VM {uuid}" + (v["details"]?["name"] is { } name ? $" ({name})" : "") : "";
        var summary = v["details"]?["summary"] is { } said ? $" ({said})" : "";
        return $"VM {v["vm"]}: {v["status"]}{result}{summary}{(v["error"] is { } e ? " — " + e : "")}";
    }
}
