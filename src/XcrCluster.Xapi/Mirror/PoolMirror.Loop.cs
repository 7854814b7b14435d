using System.Collections.Immutable;
using System.Diagnostics;
using System.Net.Sockets;

namespace XcrCluster.Xapi.Mirror;

/// <summary>The mirror's loop: log in, load, follow events; any failure of the stream (reset, XAPI error, EVENTS_LOST,
/// session gone, a malformed batch) drops the view, logs in again and reloads after a bounded, growing pause.</summary>
public sealed partial class PoolMirror
{
    private async Task RunAsync(CancellationToken stop)
    {
        // The last master seen: after a master change the client has followed HOST_IS_SLAVE there, and the registered
        // address may be the old master, now gone.
        var master = Endpoint;
        while (!stop.IsCancellationRequested)
        {
            XapiClient? client = null;
            try
            {
                client = await ConnectAsync(master, stop).ConfigureAwait(false);
                master = client.Endpoint;
                Master = master;
                var view = await LoadAsync(client, stop).ConfigureAwait(false);
                Interlocked.Increment(ref loads);
                Volatile.Write(ref failures, 0);
                Publish(view);
                Log($"loaded, token {view.Token}");
                await FollowAsync(client, view, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is XapiException or HttpRequestException or IOException or SocketException
                or TimeoutException or OperationCanceledException or XapiProtocolException or FormatException or InvalidCastException)
            {
                var failed = Interlocked.Increment(ref failures);
                Publish(null);
                var pause = Backoff(failed);
                Log($"event stream failed ({e.GetType().Name}: {e.Message}); reloading in {pause.TotalMilliseconds:0} ms");
                try
                {
                    await Task.Delay(pause, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            finally
            {
                if (client is not null)
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        Publish(null);
    }

    /// <summary>The last master first, then the registered address (which redirects to the master if it is a member).</summary>
    private async Task<XapiClient> ConnectAsync(XapiEndpoint master, CancellationToken stop)
    {
        if (master != Endpoint)
        {
            try
            {
                return await XapiClient.ConnectAsync(master, options.Client, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is XapiException or HttpRequestException or IOException or SocketException or TimeoutException)
            {
                Log($"the last master {master.Url.Authority} does not answer ({e.Message}); trying {Endpoint.Url.Authority}");
            }
        }

        return await XapiClient.ConnectAsync(Endpoint, options.Client, stop).ConfigureAwait(false);
    }

    /// <summary>A whole view: the token is taken first (event.inject on the pool object), then every class is read, so a
    /// change made while reading is after the token and comes again as an event.</summary>
    private static async Task<MirrorState> LoadAsync(XapiClient client, CancellationToken stop)
    {
        var pools = await client.CallAsync("pool.get_all", [], stop).ConfigureAwait(false) as List<object?>;
        var poolRef = pools is [string first, ..] ? first : throw client.Malformed("pool.get_all", "no pool object");
        var token = client.AsString("event.inject", await client.CallAsync("event.inject", ["pool", poolRef], stop).ConfigureAwait(false));
        var classes = MirrorState.Empty.ToBuilder();
        foreach (var cls in MirroredClass.All)
        {
            var method = $"{cls.Name}.get_all_records";
            var records = client.AsMap(method, await client.CallAsync(method, [], stop).ConfigureAwait(false));
            classes[cls.Name] = records.ToImmutableDictionary(p => p.Key, p => cls.Decode(p.Key, client.AsMap(method, p.Value)),
                StringComparer.Ordinal);
        }

        return new MirrorState(classes.ToImmutable(), poolRef, token);
    }

    private async Task FollowAsync(XapiClient client, MirrorState view, CancellationToken stop)
    {
        var names = MirroredClass.All.Select(c => (object?)c.Name.ToLowerInvariant()).ToList();
        while (true)
        {
            var calledAt = Stopwatch.GetTimestamp();
            var batch = client.AsMap("event.from", await client.CallAsync("event.from",
                [names, view.Token, options.EventTimeout.TotalSeconds], stop, options.EventTimeout + TimeSpan.FromSeconds(15))
                .ConfigureAwait(false));
            var events = batch.GetValueOrDefault("events") as List<object?> ?? [];
            var token = client.AsString("event.from", batch.GetValueOrDefault("token"));
            view = view.Apply(events, token, client.AsMap);
            Publish(view);
            await PaceAsync(calledAt, stop).ConfigureAwait(false);
        }
    }

    private TimeSpan Backoff(int failed)
        => TimeSpan.FromMilliseconds(Math.Min(options.MaxReloadDelay.TotalMilliseconds,
            options.ReloadDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failed - 1, 20))));
}
