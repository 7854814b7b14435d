using System.CommandLine;

namespace XcrCluster.Cli;

/// <summary>`xcr run tail` and `xcr cluster tail`: the node's event streams, live; a run's as
/// <see cref="ProgressDisplay"/> shows it (bars on a terminal, lines redirected, JSON lines with --json).</summary>
public static class TailCommands
{
    public static Command RunTail(CliContext cli)
    {
        var runId = new Argument<string>("run-id");
        return cli.Api("tail", "live progress of a run until it ends; exit 0 when every VM succeeded, 2 when some were skipped or failed, 1 when all failed",
            async (r, client, ct) =>
            {
                var events = client.EventsAsync($"/api/runs/{CliContext.Segment(r.GetValue(runId))}/events", ct);
                try
                {
                    var statuses = r.GetValue(cli.Json) ? await ProgressDisplay.JsonLinesAsync(cli, events)
                        : cli.Terminal() is { } terminal ? await ProgressDisplay.LiveAsync(terminal, events, cli.TerminalWidth, ended: true)
                        : await ProgressDisplay.LinesAsync(cli, events);
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
                await cli.Output.WriteLineAsync(r.GetValue(cli.Json) ? ProgressDisplay.JsonLine(e)
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
}
