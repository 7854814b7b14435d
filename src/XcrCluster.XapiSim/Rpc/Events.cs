using XcrCluster.Xapi;
using System.Diagnostics;
using System.Globalization;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>event.inject and event.from: tokens are "%020d,%020d" (generation, message generation); event.from
/// holds the request until something matches or the timeout passes, without holding the database lock.</summary>
public static class Events
{
    public static string Token(long generation) => $"{generation:D20},{0:D20}";

    public static void Register(MethodTable table)
    {
        table.Add("event.inject", 2, call =>
        {
            var schema = Schemas.TryGetByEventClass(call.Args.String(0), out var s) ? s : throw new XapiException("HANDLE_INVALID", call.Args.String(0), call.Args.String(1));
            call.Db.Touch(call.Get(schema, 1));
            return Token(call.Db.Generation);
        });
        table.Add(new MethodSpec("event.from", 3, AsyncHandler: From, AsyncCapable: false));
    }

    private static async Task<object?> From(Call call)
    {
        var classes = call.Args.Set(0).Select(c => c as string ?? "").ToList();
        var token = call.Args.String(1);
        var timeout = TimeSpan.FromSeconds(Math.Clamp(call.Args.Double(2), 0, 3600));
        var since = Parse(token);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var next = call.Db.NextChange();
            lock (call.Db.Sync)
            {
                var events = call.Db.EventsSince(since, classes);
                if (events.Count > 0 || DateTime.UtcNow >= deadline)
                {
                    return new Dictionary<string, object?>
                    {
                        ["events"] = events,
                        ["valid_ref_counts"] = call.Db.Counts().ToDictionary(p => p.Key, p => (object?)(int)p.Value!),
                        ["token"] = Token(call.Db.Generation),
                    };
                }
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining > TimeSpan.Zero)
            {
                var waiting = Stopwatch.GetTimestamp();
                await Task.WhenAny(next, Task.Delay(remaining)).ConfigureAwait(false);
                call.Waited += Stopwatch.GetElapsedTime(waiting);
            }
        }
    }

    private static long Parse(string token)
    {
        if (token.Length == 0)
        {
            return 0;
        }

        var first = token.Split(',')[0];
        return long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var gen) ? gen : throw new XapiException("EVENT_FROM_TOKEN_PARSE_FAILURE", token);
    }
}
