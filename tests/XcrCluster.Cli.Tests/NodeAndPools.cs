namespace XcrCluster.Cli.Tests;

/// <summary>What the `xcr` tests run against: a real xcr-node process (its own data directory) and two simulated
/// pools, alpha and beta, whose password must never show in anything xcr prints.</summary>
public abstract class NodeAndPools : IAsyncLifetime
{
    protected const string Password = "cli-Pa55-9b3e";

    protected string DataDir { get; } = Path.Combine(Path.GetTempPath(), "xcr-cli-" + Guid.NewGuid().ToString("N")[..10]);

    protected SimHost Alpha { get; private set; } = null!;

    protected SimHost Beta { get; private set; } = null!;

    protected ProgramProcess Node { get; private set; } = null!;

    protected string Url { get; private set; } = "";

    protected string Token { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha", Password = Password });
        Beta = await SimHost.StartAsync(o => o with { PoolName = "beta", Password = Password });
        Uri uri;
        (Node, uri) = await ProgramProcess.StartAsync(ProgramProcess.Node, "--data", DataDir);
        Url = uri.ToString();
        Token = File.ReadAllText(Path.Combine(DataDir, "token")).Trim();
    }

    public async Task DisposeAsync()
    {
        Node.Dispose();
        await Alpha.DisposeAsync();
        await Beta.DisposeAsync();
        SimHost.DeleteDataDir(DataDir);
    }

    protected async Task AddPoolsAsync()
    {
        Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "alpha", Alpha.Url.ToString(), "--password-stdin")).Code);
        Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "beta", Beta.Url.ToString(), "--password-stdin")).Code);
    }

    /// <summary>Runs xcr in-process against the node; its output never holds the pool password.</summary>
    protected async Task<(int Code, string Stdout, string Stderr)> XcrAsync(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await XcrCommand.RunAsync([.. args, "--node", Url, "--token", Token], output, error, new StringReader(stdin));
        AssertNoPassword(output.ToString() + error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>xcr that must succeed; its stdout.</summary>
    protected async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await XcrAsync("", args);
        Assert.True(code == 0, $"xcr {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    /// <summary>The node's HTTP API with the bearer token (null: without any).</summary>
    protected HttpClient Http(string? token = "")
    {
        var http = new HttpClient { BaseAddress = new Uri(Url) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Length == 0 ? Token : token);
        }

        return http;
    }

    protected static void AssertNoPassword(string text) => Assert.DoesNotContain(Password, text);
}
