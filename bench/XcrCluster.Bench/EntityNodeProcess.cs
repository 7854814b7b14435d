using System.Diagnostics;
using System.Text.Json;

namespace XcrCluster.Bench;

/// <summary>One `xcr-bench entity-node` process of the driver: started with its stderr in a log file, asked one command line at
/// a time (each answer awaited for a bounded time), killed by its PID (SIGKILL) on every path. Its stdin closing (the driver
/// gone) stops it too.</summary>
public sealed class EntityNodeProcess : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Process process;
    private readonly Task drain;

    private EntityNodeProcess(Process process, string log)
    {
        this.process = process;
        drain = Task.Run(async () =>
        {
            await using var file = new FileStream(log, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0); // read live
            await process.StandardError.BaseStream.CopyToAsync(file);
        });
    }

    public int Pid => process.Id;

    public string Address { get; private set; } = "";

    public static async Task<EntityNodeProcess> StartAsync(string name, string dir, IEnumerable<string> options)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var arg in new[] { typeof(EntityNode).Assembly.Location, "entity-node" }.Concat(options))
        {
            psi.ArgumentList.Add(arg);
        }

        var node = new EntityNodeProcess(Process.Start(psi) ?? throw new InvalidOperationException("entity-node did not start"),
            Path.Combine(dir, name + ".log"));
        try
        {
            var ready = await node.ReadLineAsync(TimeSpan.FromMinutes(3));
            node.Address = ready.StartsWith("ready ", StringComparison.Ordinal) ? ready[6..]
                : throw new InvalidOperationException($"{name}: {ready} (see {dir}/{name}.log)");
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    public async Task<T> AskAsync<T>(string command, TimeSpan timeout)
    {
        await process.StandardInput.WriteLineAsync(command);
        await process.StandardInput.FlushAsync();
        var line = await ReadLineAsync(timeout);
        return line.Contains("\"error\"", StringComparison.Ordinal) ? throw new InvalidOperationException($"{command}: {line}")
            : JsonSerializer.Deserialize<T>(line, Json) ?? throw new InvalidOperationException($"{command}: empty answer");
    }

    /// <summary>kill -9.</summary>
    public void Kill()
    {
        process.Kill();
        process.WaitForExit(30_000);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await drain.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            process.Dispose();
        }
    }

    private async Task<string> ReadLineAsync(TimeSpan timeout)
        => await process.StandardOutput.ReadLineAsync().WaitAsync(timeout)
            ?? throw new InvalidOperationException(
                $"entity-node {process.Id} exited with {(process.WaitForExit(5000) ? process.ExitCode : -1)}");
}
