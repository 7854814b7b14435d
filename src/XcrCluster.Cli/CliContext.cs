using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace XcrCluster.Cli;

/// <summary>What every `xcr` command shares: the global options (--node, --token, --json), the console streams,
/// and the two helpers each palette builds on — a command talking to a node, and printing data as lines or JSON.
/// <paramref name="terminal"/>: the output is this terminal (tests pass one writing to a string); by default the console
/// when stdout is not redirected.</summary>
public sealed class CliContext(TextWriter output, TextWriter error, TextReader input, IAnsiConsole? terminal = null)
{
    /// <summary>The width rows are laid out to when the terminal does not say (and for redirected lines).</summary>
    public const int DefaultWidth = 100;

    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public Option<string?> Node { get; } = new("--node") { Description = "the node's HTTP URL (default: XCR_NODE, then the local node's data directory)", Recursive = true };

    public Option<string?> Token { get; } = new("--token") { Description = "bearer token (default: XCR_TOKEN, then the local node's data directory)", Recursive = true };

    public Option<bool> Json { get; } = new("--json") { Description = "print JSON with stable field names", Recursive = true };

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public TextReader Input { get; } = input;

    /// <summary>A command that talks to a node; a <see cref="CliException"/> becomes one line on stderr and exit code 1.</summary>
    public Command Api(string name, string description, Func<ParseResult, NodeClient, Task<int>> action, params Symbol[] symbols)
        => Api(name, description, (r, client, _) => action(r, client), symbols);

    /// <summary>The same for a command that runs until stopped: the token is cancelled by Ctrl-C.</summary>
    public Command Api(string name, string description, Func<ParseResult, NodeClient, CancellationToken, Task<int>> action, params Symbol[] symbols)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }

        command.SetAction(async (result, ct) =>
        {
            try
            {
                using var client = NodeClient.Connect(result.GetValue(Node), result.GetValue(Token));
                return await action(result, client, ct);
            }
            catch (CliException e)
            {
                await Error.WriteLineAsync($"xcr: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Prints the data as indented JSON with --json, else as the given lines; exit code 0.</summary>
    public async Task<int> Print(ParseResult result, JsonNode data, Func<JsonNode, IEnumerable<string>> lines)
    {
        foreach (var line in result.GetValue(Json) ? [data.ToJsonString(Indented)] : lines(data))
        {
            await Output.WriteLineAsync(line);
        }

        return 0;
    }

    /// <summary>The terminal the output is, for live displays (progress bars) instead of lines; null when redirected.</summary>
    public IAnsiConsole? Terminal()
    {
        if (terminal is not null || !ReferenceEquals(Output, Console.Out) || Console.IsOutputRedirected)
        {
            return terminal;
        }

        if (ConsoleWidth() is null)
        {
            AnsiConsole.Console.Profile.Width = DefaultWidth; // Spectre's own guess would be 80: rows laid out to 100 would wrap
        }

        return AnsiConsole.Console;
    }

    /// <summary>The terminal's width now (it may be resized while a run goes), else <see cref="DefaultWidth"/>.</summary>
    public int TerminalWidth() => terminal?.Profile.Width ?? (ReferenceEquals(Output, Console.Out) ? ConsoleWidth() : null) ?? DefaultWidth;

    private static int? ConsoleWidth()
    {
        try
        {
            return Console.IsOutputRedirected || Console.WindowWidth <= 0 ? null : Console.WindowWidth;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>A path segment from user input.</summary>
    public static string Segment(string? value) => Uri.EscapeDataString(value ?? "");
}
