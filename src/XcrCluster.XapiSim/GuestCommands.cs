using System.Net.Http.Json;
using System.Text.Json;

namespace XcrCluster.XapiSim;

/// <summary>`xcr-xapi-sim guest-write` and `xcr-xapi-sim checksum`: clients of a running simulator's /sim/
/// routes, so scripts and the demo can act as a guest and compare disks. With --mb-per-second the guest writes continuously
/// (every disk in turn, or --disk N) until `guest-write --stop`.</summary>
public static class GuestCommands
{
    public const string Usage = """
        usage: xcr-xapi-sim guest-write --url URL --vm UUID [--disk N] (--blocks K [--seed S] | --offset BYTES ...)
               xcr-xapi-sim guest-write --url URL --vm UUID [--disk N] [--seed S] --mb-per-second N   (until --stop)
               xcr-xapi-sim guest-write --url URL --vm UUID --stop
               xcr-xapi-sim checksum --url URL --vdi UUID
        """;

    public static async Task<int> RunAsync(string command, string[] args)
    {
        Dictionary<string, List<string>> options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }

        if (!options.TryGetValue("--url", out var url) || !Uri.TryCreate(url[^1], UriKind.Absolute, out var baseUrl))
        {
            return Fail("--url URL is required");
        }

        using var http = new HttpClient { BaseAddress = baseUrl };
        HttpResponseMessage response;
        if (command == "checksum")
        {
            if (!options.TryGetValue("--vdi", out var vdi))
            {
                return Fail("--vdi UUID is required");
            }

            response = await http.GetAsync($"/sim/checksum?vdi={Uri.EscapeDataString(vdi[^1])}");
        }
        else
        {
            if (!options.TryGetValue("--vm", out var vm))
            {
                return Fail("--vm UUID is required");
            }

            if (options.ContainsKey("--stop"))
            {
                response = await http.DeleteAsync($"/sim/guest-write/continuous?vm={Uri.EscapeDataString(vm[^1])}");
                return await PrintAsync(response);
            }

            if (options.TryGetValue("--mb-per-second", out var rate))
            {
                if (!double.TryParse(rate[^1], System.Globalization.CultureInfo.InvariantCulture, out var mb) || mb <= 0)
                {
                    return Fail($"--mb-per-second {rate[^1]}: a positive number of MB (10^6 bytes) per second");
                }

                response = await http.PostAsJsonAsync("/sim/guest-write/continuous", new
                {
                    vm = vm[^1], bytesPerSecond = (long)(mb * 1_000_000),
                    disk = options.ContainsKey("--disk") ? Int(options, "--disk", 0) : (int?)null, seed = Int(options, "--seed", 1),
                });
                return await PrintAsync(response);
            }

            if (!options.ContainsKey("--blocks") && !options.ContainsKey("--offset"))
            {
                return Fail("give --blocks K, --offset BYTES, --mb-per-second N or --stop");
            }

            var request = new Dictionary<string, object>
            {
                ["vm"] = vm[^1],
                ["disk"] = Int(options, "--disk", 0),
                ["blocks"] = Int(options, "--blocks", 0),
                ["seed"] = Int(options, "--seed", Environment.TickCount),
            };
            if (options.TryGetValue("--offset", out var offsets))
            {
                request["offsets"] = offsets.Select(long.Parse).ToList();
            }

            response = await http.PostAsJsonAsync("/sim/guest-write", request);
        }

        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            return Fail($"{(int)response.StatusCode}: {body}");
        }

        using var json = JsonDocument.Parse(body);
        Console.Out.WriteLine(command == "checksum" ? json.RootElement.GetProperty("checksum").GetString() : body);
        return 0;
    }

    private static async Task<int> PrintAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            return Fail($"{(int)response.StatusCode}: {body}");
        }

        Console.Out.WriteLine(body);
        return 0;
    }

    private static int Int(Dictionary<string, List<string>> options, string name, int fallback)
        => options.TryGetValue(name, out var v) ? int.Parse(v[^1]) : fallback;

    private static Dictionary<string, List<string>> Parse(string[] args)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--stop")
            {
                result["--stop"] = ["true"];
                continue;
            }

            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"unexpected argument {args[i]}");
            }

            if (!result.TryGetValue(args[i], out var list))
            {
                result[args[i]] = list = [];
            }

            list.Add(args[++i]);
        }

        return result;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"xcr-xapi-sim: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
