using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace XcrCluster.Cli;

/// <summary>`xcr run tail` and `xcr cluster tail`: the node's event streams, live. On a terminal a run's tail
/// draws progress bars per VM, disk and target SR; redirected it prints lines (at most one per disk and SR a
/// second, and the line that reaches the total); with --json every event as one JSON line.</summary>
public static class TailCommands
{
    private const double MiB = 1024 * 1024;

    public static Command RunTail(CliContext cli)
    {
        var runId = new Argument<string>("run-id");
        return cli.Api("tail", "live progress of a run until it ends; exit 0 when every VM succeeded, 2 when some were skipped or failed, 1 when all failed",
            async (r, client, ct) =>
            {
                var events = client.EventsAsync($"/api/runs/{CliContext.Segment(r.GetValue(runId))}/events", ct);
                try
                {
                    var statuses = r.GetValue(cli.Json) ? await JsonLinesAsync(cli, events) : cli.IsTerminal ? await BarsAsync(events) : await LinesAsync(cli, events);
                    return ExitCode(statuses ?? throw new CliException("the node ended the stream before the run ended"));
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return 130; // Ctrl-C: the run goes on without us
                }
            }, runId);
    }

    public static Command ClusterTail(CliContext cli) => cli.Api("tail", "member changes as they happen, the current members first, until Ctrl-C", async (r, client, ct) =>
    {
        try
        {
            await foreach (var e in client.EventsAsync("/api/cluster/events", ct))
            {
                var d = e.Data;
                await cli.Output.WriteLineAsync(r.GetValue(cli.Json) ? Line(e)
                    : $"{d["address"]} | [{string.Join(", ", d["roles"]!.AsArray().Select(x => x!.GetValue<string>()))}] | {d["status"]}");
                await cli.Output.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 0;
        }

        throw new CliException("the node ended the stream");
    });

    /// <summary>As `job run --wait`: 0 when every VM succeeded, 2 when some succeeded or were skipped, 1 otherwise.</summary>
    public static int ExitCode(IReadOnlyCollection<string> statuses)
        => statuses.All(s => s == "success") ? 0 : statuses.Any(s => s is "success" or "skipped") ? 2 : 1;

    /// <summary>The VMs' statuses from the end event; null when the stream stopped before it.</summary>
    private static List<string>? Statuses(ServerEvent e) => e.Name == "end" ? [.. e.Data["vms"]!.AsArray().Select(v => v!["status"]!.GetValue<string>())] : null;

    private static string Line(ServerEvent e) => new JsonObject { ["event"] = e.Name, ["data"] = e.Data.DeepClone() }.ToJsonString();

    private static async Task<List<string>?> JsonLinesAsync(CliContext cli, IAsyncEnumerable<ServerEvent> events)
    {
        await foreach (var e in events)
        {
            await cli.Output.WriteLineAsync(Line(e));
            if (Statuses(e) is { } statuses)
            {
                return statuses;
            }
        }

        return null;
    }

    private static async Task<List<string>?> LinesAsync(CliContext cli, IAsyncEnumerable<ServerEvent> events)
    {
        var printed = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        await foreach (var e in events)
        {
            var d = e.Data;
            var line = e.Name switch
            {
                "progress" when d["disk"] is not null => Throttled(printed, Lane(d), d, $"{Lane(d)}: {Amounts(d)}"),
                "progress" when (string?)d["phase"] is "snapshot" => $"VM {d["vm"]}: snapshot",
                "progress" when (string?)d["phase"] is "commit" => $"VM {d["vm"]} -> SR {d["sr"]}: commit",
                "vm-end" => $"VM {d["vm"]}: {d["status"]}",
                _ => null,
            };
            if (line is not null)
            {
                await cli.Output.WriteLineAsync(line);
            }

            if (Statuses(e) is { } statuses)
            {
                return statuses;
            }
        }

        return null;
    }

    /// <summary>The line, unless this lane printed one less than a second ago (the line at the total always goes).</summary>
    private static string? Throttled(Dictionary<string, DateTime> printed, string lane, JsonNode d, string line)
    {
        var now = DateTime.UtcNow;
        if (printed.TryGetValue(lane, out var last) && now - last < TimeSpan.FromSeconds(1) && (long)d["bytes"]! < (long)d["total"]!)
        {
            return null;
        }

        printed[lane] = now;
        return line;
    }

    private static string Lane(JsonNode d) => $"VM {d["vm"]} disk {(string?)d["diskName"] ?? (string?)d["disk"]} -> SR {d["sr"]}";

    private static string Amounts(JsonNode d)
    {
        var rate = (double?)d["bytesPerSecond"] is { } r ? $"{r / 1e6:F1} MB/s" : "- MB/s";
        var eta = (double?)d["etaSeconds"] is { } s ? $"ETA {Math.Ceiling(s):F0} s" : "ETA -";
        return $"{(long)d["bytes"]! / MiB:F1}/{(long)d["total"]! / MiB:F1} MiB {rate} {eta}";
    }

    /// <summary>Spectre.Console bars (a terminal only): one per VM, disk and SR, marked with the VM's status when it ends.</summary>
    private static async Task<List<string>?> BarsAsync(IAsyncEnumerable<ServerEvent> events)
    {
        List<string>? statuses = null;
        var ended = new List<string>();
        await AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var bars = new Dictionary<string, (string Vm, ProgressTask Task)>(StringComparer.Ordinal);
                await foreach (var e in events)
                {
                    var d = e.Data;
                    if (e.Name == "progress" && d["disk"] is not null)
                    {
                        var lane = Lane(d);
                        if (!bars.TryGetValue(lane, out var bar))
                        {
                            bar = ((string)d["vm"]!, ctx.AddTask(Markup.Escape(lane), maxValue: Math.Max(1, (long)d["total"]!)));
                            bars[lane] = bar;
                        }

                        bar.Task.Value = (long)d["bytes"]!;
                    }
                    else if (e.Name == "vm-end")
                    {
                        ended.Add($"VM {d["vm"]}: {d["status"]}");
                        foreach (var (_, task) in bars.Values.Where(b => b.Vm == (string?)d["vm"]))
                        {
                            task.Description += $" ({Markup.Escape((string)d["status"]!)})";
                            task.StopTask();
                        }
                    }
                    else if (Statuses(e) is { } end)
                    {
                        statuses = end;
                        return;
                    }
                }
            });
        ended.ForEach(AnsiConsole.WriteLine);
        return statuses;
    }
}
