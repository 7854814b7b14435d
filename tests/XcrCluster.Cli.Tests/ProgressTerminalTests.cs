using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace XcrCluster.Cli.Tests;

/// <summary>A real run's progress as the operator sees it: `job run --wait` on a terminal (a Spectre console writing to a
/// string, 100 columns) draws the rows `run tail` draws, by name, before its usual result; redirected it prints only that
/// result, as before; the event stream's JSON keeps the uuids beside the names.</summary>
public sealed partial class ProgressTerminalTests : NodeAndPools
{
    [Fact]
    public async Task Job_run_wait_on_a_terminal_shows_the_progress_by_name_before_its_result_and_redirected_only_the_result()
    {
        var (vm, sr, jobId) = await JobAsync();
        Alpha.Pool.Faults.ExportBytesPerSecond = 3L << 20; // the disk's blocks take a few seconds: several samples
        var (code, screen) = await OnTerminalAsync("job", "run", jobId, "--wait");
        Alpha.Pool.Faults.Clear();
        Assert.True(code == 0, screen);

        var lines = Escapes().Replace(screen, "").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).ToList(); // each drawing
        var result = lines.FindIndex(l => l.StartsWith("run ", StringComparison.Ordinal));
        Assert.True(result > 0, screen);
        Assert.Equal($"{vm} | success | full", lines[result + 1]);
        var rows = lines[..result];
        Assert.Contains(rows, l => Regex.IsMatch(l, @"^tiny01 tiny01 disk 0 → Local storage [█░]+ +\d+% +\d+\.\d/\d+\.\d MiB "));
        Assert.Contains(rows, l => Regex.IsMatch(l, @"^tiny01 tiny01 disk 0 → Local storage █+ +100% .* (commit|success)$"));
        Assert.All(rows, l => Assert.DoesNotContain(vm, l));
        Assert.All(rows, l => Assert.DoesNotContain(sr, l));
        Assert.All(lines, l => Assert.InRange(TextWidth.Of(l), 0, 100));

        // Redirected (or with --json): nothing until the end, then the result, as it always was.
        var plain = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.True(plain.Code == 0, plain.Stderr);
        Assert.Matches($@"^run \S+\n{vm} \| success \| delta\n$", plain.Stdout.ReplaceLineEndings("\n"));
        var json = JsonNode.Parse((await XcrAsync("", "job", "run", jobId, "--wait", "--json")).Stdout)!;
        Assert.Equal(vm, json["vms"]![0]!["vm"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_run_event_stream_carries_the_vm_and_sr_names_beside_their_uuids()
    {
        var (vm, sr, jobId) = await JobAsync();
        Alpha.Pool.Faults.ExportBytesPerSecond = 3L << 20;
        var started = await XcrAsync("", "job", "run", jobId);
        Assert.True(started.Code == 0, started.Stderr);
        var tail = await XcrAsync("", "run", "tail", started.Stdout.Trim()["run ".Length..], "--json").WaitAsync(TimeSpan.FromMinutes(2));
        Alpha.Pool.Faults.Clear();
        Assert.True(tail.Code == 0, tail.Stdout + tail.Stderr);

        var progress = tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)
            .Where(e => e["event"]!.GetValue<string>() == "progress").Select(e => e["data"]!).ToList();
        var export = progress.Where(d => (string?)d["phase"] == "export").ToList();
        Assert.NotEmpty(export);
        Assert.All(progress, d => Assert.Equal((vm, "tiny01"), ((string)d["vm"]!, (string?)d["vmName"])));
        Assert.All(export, d => Assert.Equal((sr, "Local storage", "tiny01 disk 0"),
            ((string)d["sr"]!, (string?)d["srName"], (string?)d["diskName"])));
        Assert.Contains(progress, d => (string?)d["phase"] == "commit" && (string?)d["srName"] == "Local storage");
    }

    private async Task<(string Vm, string Sr, string JobId)> JobAsync()
    {
        await AddPoolsAsync();
        var vm = await Alpha.UuidAsync("VM", "tiny01");
        var sr = await Beta.UuidAsync("SR", "Local storage");
        var created = await XcrAsync("", "job", "create", "watched", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}");
        Assert.True(created.Code == 0, created.Stderr);
        return (vm, sr, created.Stdout.Split('\n')[0]["job ".Length..].Trim());
    }

    /// <summary>xcr with a terminal as its output: what the screen received (escape sequences included), and the exit code.</summary>
    private async Task<(int Code, string Screen)> OnTerminalAsync(params string[] args)
    {
        var screen = new StringWriter();
        var terminal = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(screen),
        });
        terminal.Profile.Width = 100;
        terminal.Profile.Capabilities.Unicode = true;
        var code = await XcrCommand.RunAsync([.. args, "--node", Url, "--token", Token], screen, screen, new StringReader(""), terminal)
            .WaitAsync(TimeSpan.FromMinutes(2));
        AssertNoPassword(screen.ToString());
        return (code, screen.ToString());
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex Escapes();
}
