using System.CommandLine;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>`xcr pool`: register and list pools (a password never goes on a command line).</summary>
public static class PoolCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        // pool add|list
        var poolName = new Argument<string>("name");
        var poolUrl = new Argument<string>("xapi-url");
        var username = new Option<string>("--username") { DefaultValueFactory = _ => "root" };
        var passwordStdin =
            new Option<bool>("--password-stdin") { Description = "read the password from standard input (else XCR_POOL_PASSWORD)" };
        var allowUnauthorized = new Option<bool>("--allow-unauthorized");
        var fingerprint = new Option<string?>("--fingerprint") { Description = "the pool master's certificate SHA-256" };
        var replace = new Option<bool>("--replace") { Description = "replace the pool registered under this name (else refused)" };
        var poolAdd = cli.Api("add", "register a pool", async (r, client) =>
        {
            var url = r.GetValue(poolUrl)!;
            var password = r.GetValue(passwordStdin) ? (await cli.Input.ReadLineAsync())?.TrimEnd('\r')
                : Environment.GetEnvironmentVariable("XCR_POOL_PASSWORD");
            if (Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.UserInfo.Contains(':', StringComparison.Ordinal))
            {
                await cli.Error.WriteLineAsync("xcr: warning: a password in the URL ends up in shell history and process lists; "
                    + "prefer --password-stdin");
            }
            else if (password is null)
            {
                throw new CliException("no password: give --password-stdin or XCR_POOL_PASSWORD (never on the command line)");
            }

            var body = new
            {
                name = r.GetValue(poolName), url, username = parsed?.UserInfo.Length > 0 ? null : r.GetValue(username), password,
                fingerprint = r.GetValue(fingerprint), allowUnauthorized = r.GetValue(allowUnauthorized), replace = r.GetValue(replace),
            };
            var reply = await client.PostAsync("/api/pools", body);
            return await cli.Print(r, reply, d => [$"pool {d["id"]} registered"]);
        }, poolName, poolUrl, username, passwordStdin, allowUnauthorized, fingerprint, replace);
        var poolList = cli.Api("list", "registered pools", async (r, client) => await cli.Print(r, await client.GetAsync("/api/pools"),
            d => d.AsArray().Select(p => $"{p!["name"]} | {p["url"]} | {p["username"]}").Append($"Count: {d.AsArray().Count} pools")));
        yield return new Command("pool", "pools") { poolAdd, poolList };
    }
}
