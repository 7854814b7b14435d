using System.Text;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>
/// Everything as separate processes — `xcr`, `xcr-node` and two `xcr-xapi-sim` — as an operator runs them: pools
/// added with the password on standard input, a job created and run, an overlapping run refused, the run tailed,
/// another run with --wait, the restore points listed; the pool password is then looked for everywhere it must not be (the node's log, every
/// file of its data directory including the SQLite journal, every command's output, and the command line of every
/// process while they run). A schedule missed while the node was down runs exactly once after its restart.
/// </summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private const string Password = "e2e-S3cret-7f1c";
    private static readonly Dictionary<string, string> SimEnvironment = new() { ["XCR_SIM_PASSWORD"] = Password };
    private readonly string root = Path.Combine(Path.GetTempPath(), "xcr-e2e-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly List<ProgramProcess> processes = [];
    private readonly StringBuilder printed = new();
    private readonly List<string> cmdlines = [];
    private Uri alpha = null!;
    private Uri beta = null!;
    private Uri node = null!;

    private string NodeDir => Path.Combine(root, "node");

    public async Task InitializeAsync()
    {
        alpha = await StartAsync(ProgramProcess.Sim, SimEnvironment, "--listen", "127.0.0.1:0", "--data", Path.Combine(root, "alpha"), "--pool-name", "alpha", "--collector-interval", "0");
        beta = await StartAsync(ProgramProcess.Sim, SimEnvironment, "--listen", "127.0.0.1:0", "--data", Path.Combine(root, "beta"), "--pool-name", "beta", "--collector-interval", "0");
        node = await StartNodeAsync();
    }

    public Task DisposeAsync()
    {
        processes.ForEach(p => p.Dispose());
        SimHost.DeleteDataDir(root);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Pools_a_job_runs_and_replicas_through_processes_and_the_password_shows_nowhere()
    {
        foreach (var (name, url) in new[] { ("alpha", alpha), ("beta", beta) })
        {
            await XcrAsync(0, Password + "\n", "pool", "add", name, url.ToString(), "--password-stdin");
        }

        var vm = await UuidAsync(alpha, "VM", "tiny01");
        var sr = await UuidAsync(beta, "SR", "Local storage");
        var jobId = (await XcrAsync(0, null, "job", "create", "e2e", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}", "--retention", "2")).Split('\n')[0]["job ".Length..].Trim();

        // The export slowed so the first run lasts: a second run of the same job meanwhile is refused, not stacked.
        using (var http = new HttpClient())
        {
            (await http.PostAsync(new Uri(alpha, "/sim/faults"), new StringContent("""{"exportBytesPerSecond": 30000000}"""))).EnsureSuccessStatusCode();
            var first = (await XcrAsync(0, null, "job", "run", jobId)).Trim()["run ".Length..];
            var refused = await ProgramProcess.RunToEndAsync(ProgramProcess.Xcr, Client(), null, "job", "run", jobId);
            Assert.Contains("is already running", refused.Stderr);
            await Poll.UntilAsync(async () => (await XcrAsync(0, null, "run", "show", first)).Contains($"run {first}: success", StringComparison.Ordinal), "the first run to succeed");
            (await http.PostAsync(new Uri(alpha, "/sim/faults"), new StringContent("{}"))).EnsureSuccessStatusCode();
            Assert.Contains($"VM {vm}: success", await XcrAsync(0, null, "run", "tail", first));
        }

        Assert.Contains($"{vm} | success | delta", await XcrAsync(0, null, "job", "run", jobId, "--wait"));
        var replicas = JsonNode.Parse(await XcrAsync(0, null, "replica", "list", "--vm", vm, "--json"))!.AsArray();
        Assert.Equal(2, Assert.Single(replicas)!["restorePoints"]!.AsArray().Count);
        Assert.Contains($"{vm} | SR {sr} |", await XcrAsync(0, null, "replica", "list"));

        // Nowhere: logs, the data directory (SQLite journal and all), what every command printed, any command line.
        var nodeProcess = processes.Single(p => p.Stdout.Any(l => l.StartsWith("ready ", StringComparison.Ordinal)));
        Assert.DoesNotContain(Password, nodeProcess.Stderr);
        foreach (var file in Directory.EnumerateFiles(NodeDir, "*", SearchOption.AllDirectories))
        {
            Assert.False(Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file)).Contains(Password, StringComparison.Ordinal), $"the password is in {file}");
        }

        Assert.True(File.Exists(Path.Combine(NodeDir, "xcr.db")), "the journal is where it should be");
        Assert.DoesNotContain(Password, printed.ToString());
        Assert.NotEmpty(cmdlines);
        Assert.DoesNotContain(cmdlines, c => c.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_schedule_missed_while_the_node_was_down_runs_once_after_the_restart_and_never_again()
    {
        foreach (var (name, url) in new[] { ("alpha", alpha), ("beta", beta) })
        {
            await XcrAsync(0, Password + "\n", "pool", "add", name, url.ToString(), "--password-stdin");
        }

        // Once a day, at a second 15 s from now (UTC): the node is down then.
        var due = DateTimeOffset.UtcNow.AddSeconds(15);
        var vm = await UuidAsync(alpha, "VM", "tiny01");
        var jobId = (await XcrAsync(0, null, "job", "create", "daily", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{await UuidAsync(beta, "SR", "Local storage")}",
            "--cron", $"{due.Second} {due.Minute} {due.Hour} * * *")).Split('\n')[0]["job ".Length..].Trim();
        await StopNodeAsync();
        await Poll.UntilAsync(() => DateTimeOffset.UtcNow > due.AddSeconds(2), "the due time to pass while the node is down", TimeSpan.FromSeconds(60));

        node = await StartNodeAsync();
        await Poll.UntilAsync(async () => (await RunsAsync(jobId)).Count == 1, "the missed run after the restart", TimeSpan.FromSeconds(60));

        // Another restart neither repeats it nor runs it a second time.
        await StopNodeAsync();
        node = await StartNodeAsync();
        var idle = DateTimeOffset.UtcNow.AddSeconds(4);
        await Poll.UntilAsync(async () => (await RunsAsync(jobId)).Count != 1 || DateTimeOffset.UtcNow > idle, "a few scheduler ticks", TimeSpan.FromSeconds(30));
        Assert.Single(await RunsAsync(jobId));
    }

    private async Task<JsonArray> RunsAsync(string jobId) => JsonNode.Parse(await XcrAsync(0, null, "run", "list", "--job", jobId, "--json"))!.AsArray();

    private Dictionary<string, string> Client() => new() { ["XCR_NODE"] = node.ToString(), ["XCR_TOKEN"] = File.ReadAllText(Path.Combine(NodeDir, "token")).Trim() };

    /// <summary>Runs `xcr` as a process and expects its exit code; while it runs, every process's command line is
    /// read from /proc.</summary>
    private async Task<string> XcrAsync(int code, string? stdin, params string[] args)
    {
        using var run = ProgramProcess.Start(ProgramProcess.Xcr, Client(), stdin, args);
        while (!run.HasExited)
        {
            SampleCommandLines();
            await Task.Delay(20);
        }

        var exit = await run.WaitForExitAsync();
        var stdout = string.Join('\n', run.Stdout);
        printed.Append(stdout).Append(run.Stderr);
        Assert.True(exit == code, $"xcr {string.Join(' ', args)} exited {exit}, not {code}: {run.Stderr}");
        return stdout;
    }

    private void SampleCommandLines()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                cmdlines.Add(File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' '));
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private async Task<Uri> StartNodeAsync() => await StartAsync(ProgramProcess.Node, null, "--data", NodeDir);

    private async Task StopNodeAsync()
    {
        var running = processes.Single(p => !p.HasExited && p.Stdout.Any(l => l.StartsWith("ready ", StringComparison.Ordinal)));
        Assert.Equal(0, await running.SignalAsync("TERM"));
        processes.Remove(running);
        running.Dispose();
    }

    private async Task<Uri> StartAsync(ProgramProcess.Program program, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var (process, url) = await ProgramProcess.StartAsync(program, environment, args);
        processes.Add(process);
        SampleCommandLines();
        return url;
    }

    private static async Task<string> UuidAsync(Uri pool, string cls, string name)
    {
        using var rpc = new RpcClient(pool, RpcClient.Transport.Json);
        await rpc.LoginAsync("root", Password);
        return await rpc.UuidAsync(cls, name);
    }
}
