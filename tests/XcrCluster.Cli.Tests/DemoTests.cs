namespace XcrCluster.Cli.Tests;

/// <summary>`xcr demo` end to end (simulated pools, one-node cluster on SQLite, full then delta), on pools of
/// the default shape with small disks so it takes seconds.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_demo_replicates_full_then_delta_and_verifies_the_replica()
    {
        var output = new StringWriter();
        var code = await Demo.RunAsync([], output, System.Text.Json.JsonSerializer.Serialize(SimHost.SmallFixture));
        var text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("run 1: success, full", text);
        Assert.Contains("run 2: success, delta, 16.0 MiB exported by alpha, 16.0 MiB imported by beta", text);
        Assert.Equal(2, text.Split("equals the source snapshot").Length - 1);
    }

    [Fact]
    public async Task An_unknown_command_prints_the_usage_and_exits_2()
    {
        var (code, _, stderr) = await RunAsync("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("usage: xcr", stderr);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["-k", "5", "60", "dotnet", Path.Combine(AppContext.BaseDirectory, "xcr.dll"), .. args])
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
