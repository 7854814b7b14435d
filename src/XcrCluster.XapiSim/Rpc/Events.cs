using System.Diagnostics;
using System.Globalization;
using XcrCluster.Xapi;
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
            // XAPI touches the row at generation g and answers g - 1 (ocaml/xapi/xapi_event.ml, inject;
            // ocaml/database/db_cache_types.ml, touch): every change made before the call is at or below the token,
            // and event.from from it reports the touched object at once.
            return Token(call.Db.Touch(call.Get(schema, 1)) - 1);
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
        var streams = call.Pool.Faults.EventStreams;
        while (true)
        {
            // Taken before the check, so a kill in between still wakes the wait below.
            var killed = streams.Killed;
            if (streams.Follow(call.Session ?? ""))
            {
                throw new XapiException("EVENTS_LOST");
            }

            var next = call.Db.NextChange();
            var asked = Stopwatch.GetTimestamp();
            lock (call.Db.Sync)
            {
                call.Waited += Stopwatch.GetElapsedTime(asked);
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
                // Idle while it waits: a long poll costs the simulator nothing until a change wakes it.
                var waiting = Stopwatch.GetTimestamp();
                call.Pool.Stats.Idle();
                try
                {
                    await Task.WhenAny(next, Task.Delay(remaining), killed).ConfigureAwait(false);
                }
                finally
                {
                    call.Pool.Stats.Serving();
                    call.Waited += Stopwatch.GetElapsedTime(waiting);
                }
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
