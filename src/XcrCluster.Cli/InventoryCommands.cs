using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>`xcr sr` and `xcr vm`: what the pools hold, read live by their agents (one pool with --pool, else every
/// registered pool).</summary>
public static class InventoryCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        var srPool = PoolOption();
        var srList = cli.Api("list", "storage repositories: pool | uuid | name | type | size | free", async (r, client) => await cli.Print(r,
            await client.GetAsync(PathOf("srs", r.GetValue(srPool))),
            d => d.AsArray().Select(s => $"{s!["pool"]} | {s["id"]} | {s["name"]} | {s["type"]} | {HumanSize(s["size"]!.GetValue<long>())} | {HumanSize(s["free"]!.GetValue<long>())}")
                .Append($"Count: {d.AsArray().Count} SRs")), srPool);
        yield return new Command("sr", "storage repositories") { srList };

        var vmPool = PoolOption();
        var vmList = cli.Api("list", "VMs: pool | uuid | name | power state | disks | tags | replication status", async (r, client) => await cli.Print(r,
            await client.GetAsync(PathOf("vms", r.GetValue(vmPool))),
            d => d.AsArray().Select(v => $"{v!["pool"]} | {v["id"]} | {v["name"]} | {v["powerState"]} | {v["disks"]!.AsArray().Count} disks | "
                + $"{Tags(v["tags"]!)} | {Status(v)}").Append($"Count: {d.AsArray().Count} VMs")), vmPool);
        yield return new Command("vm", "VMs") { vmList };
    }

    /// <summary>Binary units with one decimal, as pbm prints them: 512 B, 1.2 GiB.</summary>
    public static string HumanSize(long bytes)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        if (Math.Abs(bytes) < 1024)
        {
            return $"{bytes} B";
        }

        var value = (double)bytes;
        var unit = -1;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    private static Option<string?> PoolOption() => new("--pool") { Description = "one registered pool (default: all)" };

    private static string PathOf(string what, string? pool) => pool is null ? $"/api/{what}" : $"/api/pools/{CliContext.Segment(pool)}/{what}";

    private static string Tags(JsonNode tags) => tags.AsArray().Count == 0 ? "-" : string.Join(", ", tags.AsArray().Select(t => t!.GetValue<string>()));

    private static string Status(JsonNode vm)
        => vm["isReplica"]!.GetValue<bool>() ? "replica"
            : vm["running"] is { } run ? $"running {run}"
            : vm["lastStatus"] is { } last ? $"{last}, last success {vm["lastSuccess"]?.ToString() ?? "never"}"
            : "not replicated";
}
