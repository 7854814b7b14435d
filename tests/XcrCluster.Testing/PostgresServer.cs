using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace XcrCluster.Testing;

/// <summary>
/// A real PostgreSQL server of the test's own: initdb in a temporary directory, postgres on a free loopback port
/// (as the postgres user when the tests run as root, which PostgreSQL refuses), stopped by PID and deleted on
/// dispose. Debian's postgresql package provides the binaries (.ci/prereqs installs it).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly Process server;
    private readonly string dir;

    private PostgresServer(Process server, string dir, int port)
    {
        this.server = server;
        this.dir = dir;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=xcr;Database=postgres;Pooling=true";
    }

    public string ConnectionString { get; }

    /// <summary>With a password, the server asks for it (scram-sha-256) instead of trusting every local connection, and
    /// <see cref="ConnectionString"/> does not carry it.</summary>
    public static async Task<PostgresServer> StartAsync(string? password = null)
    {
        var bin = FindBin();
        var dir = Path.Combine(Path.GetTempPath(), "xcr-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", "postgres:postgres", dir);
        }

        var data = Path.Combine(dir, "data");
        string[] auth = ["--auth=trust"];
        if (password is not null)
        {
            var pwfile = Path.Combine(dir, "pwfile");
            await File.WriteAllTextAsync(pwfile, password + "\n");
            if (asRoot)
            {
                await RunAsync("chown", "postgres:postgres", pwfile);
            }

            auth = ["--auth=scram-sha-256", "--pwfile=" + pwfile];
        }

        await RunAsync(AsPostgres(asRoot, [Path.Combine(bin, "initdb"), "-D", data, "-U", "xcr", .. auth, "--no-sync", "-E", "UTF8"]));
        // The port is probed, then bound by postgres: a parallel test lane may take it in between, and postgres
        // then exits at once, so a few attempts with a new port each.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var pg = new PostgresServer(Launch(asRoot, bin, data, dir, port), dir, port);
            try
            {
                await pg.AwaitReadyAsync(Path.Combine(bin, "pg_isready"), port);
                return pg;
            }
            catch (PostgresExitedException) when (attempt < 3)
            {
                await pg.StopAsync();
            }
            catch
            {
                await pg.DisposeAsync();
                throw;
            }
        }
    }

    private static Process Launch(bool asRoot, string bin, string data, string dir, int port)
    {
        var psi = new ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] postgres = [Path.Combine(bin, "postgres"), "-D", data, "-p", port.ToString(), "-h", "127.0.0.1", "-k", dir, "-c", "fsync=off"];
        foreach (var arg in (string[])["-k", "5", "1800", .. AsPostgres(asRoot, postgres)])
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("postgres did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task StopAsync()
    {
        try
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            server.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class PostgresExitedException(int code) : Exception($"postgres exited with {code}");

    private async Task AwaitReadyAsync(string pgIsReady, int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (server.HasExited)
            {
                throw new PostgresExitedException(server.ExitCode);
            }

            var (code, _) = await TryRunAsync(pgIsReady, "-h", "127.0.0.1", "-p", port.ToString(), "-U", "xcr");
            if (code == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("postgres did not accept connections within 60 s");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Debian's versioned directory; PostgreSQL is required, not optional: a missing one fails the test.</summary>
    private static string FindBin()
    {
        var root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException("PostgreSQL not found under /usr/lib/postgresql: run .ci/prereqs (apt-get install postgresql)");
    }

    private static string[] AsPostgres(bool asRoot, params string[] command)
        => asRoot ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", .. command] : command;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(params string[] command)
    {
        var (code, output) = await TryRunAsync(command);
        if (code != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} exited with {code}: {output}");
        }
    }

    private static async Task<(int Code, string Output)> TryRunAsync(params string[] command)
    {
        var psi = new ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["-k", "5", "120", .. command])
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
