using System.Text.Json.Nodes;
using Spectre.Console;

namespace XcrCluster.Cli;

/// <summary>How a run's event stream is shown, for `xcr run tail` and `xcr job run --wait` alike: on a terminal a
/// <see cref="ProgressBoard"/> redrawn in place (Spectre.Console's live display); redirected, lines (at most one per disk
/// and SR a second, and the line that reaches the total); with --json every event as one JSON line. Each returns the VMs'
/// statuses from the end event, null when the stream stopped before it.</summary>
public static class ProgressDisplay
{
    /// <summary>The board, redrawn at each event at the terminal's width of the moment. With <paramref name="ended"/> the VMs'
    /// end lines follow it (`run tail`); `job run --wait` prints its own result instead.</summary>
    public static async Task<List<string>?> LiveAsync(IAnsiConsole console, IAsyncEnumerable<ServerEvent> events, Func<int> width,
        bool ended)
    {
        var board = new ProgressBoard(console.Profile.Capabilities.Unicode);
        await console.Live(new Text("")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async ctx =>
        {
            await foreach (var e in events)
            {
                if (board.Apply(e))
                {
                    ctx.UpdateTarget(new Rows(board.Rows(width()).Select(r => new Text(r)))); // and draws it
                }

                if (board.Statuses is not null)
                {
                    return;
                }
            }
        });
        if (ended)
        {
            board.Ended.ForEach(console.WriteLine);
        }

        return board.Statuses;
    }

    public static async Task<List<string>?> LinesAsync(CliContext cli, IAsyncEnumerable<ServerEvent> events)
    {
        var board = new ProgressBoard(unicode: false);
        var printed = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        var width = cli.TerminalWidth();
        await foreach (var e in events)
        {
            if (board.Line(e, lane => Due(printed, lane), width) is { } line)
            {
                await cli.Output.WriteLineAsync(line);
            }

            if (board.Statuses is not null)
            {
                return board.Statuses;
            }
        }

        return null;
    }

    public static async Task<List<string>?> JsonLinesAsync(CliContext cli, IAsyncEnumerable<ServerEvent> events)
    {
        await foreach (var e in events)
        {
            await cli.Output.WriteLineAsync(JsonLine(e));
            if (e.Name == "end")
            {
                return [.. e.Data["vms"]!.AsArray().Select(v => v!["status"]!.GetValue<string>())];
            }
        }

        return null;
    }

    /// <summary>An event as one JSON line, its data as the node sent it (uuids and names).</summary>
    public static string JsonLine(ServerEvent e) => new JsonObject { ["event"] = e.Name, ["data"] = e.Data.DeepClone() }.ToJsonString();

    /// <summary>Whether this lane may print: not when it printed less than a second ago.</summary>
    private static bool Due(Dictionary<string, DateTime> printed, string lane)
    {
        var now = DateTime.UtcNow;
        if (printed.TryGetValue(lane, out var last) && now - last < TimeSpan.FromSeconds(1))
        {
            return false;
        }

        printed[lane] = now;
        return true;
    }
}
