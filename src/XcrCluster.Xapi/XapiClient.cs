using System.Net.Sockets;
using Polly;
using Polly.Retry;
using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Transport;

namespace XcrCluster.Xapi;

/// <summary>
/// A logged-in XAPI session on a pool master. Calls put the session first; SESSION_INVALID triggers one
/// transparent re-login and retry; HOST_IS_SLAVE moves the client to the master (same scheme and port);
/// read-only calls are retried with backoff on connection errors, calls that change state never are.
/// </summary>
public sealed partial class XapiClient : IAsyncDisposable
{
    private readonly XapiClientOptions options;
    private readonly HttpClient http;
    private readonly ResiliencePipeline readRetry;
    private readonly SemaphoreSlim loginGate = new(1, 1);
    private IXapiTransport transport;
    private string? session;
    private long writes;

    private XapiClient(XapiEndpoint endpoint, XapiClientOptions options)
    {
        Validate(options);
        Endpoint = endpoint;
        this.options = options;
        http = CreateHttpClient(endpoint.Tls, options);
        transport = CreateTransport(endpoint.Url);
        readRetry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(1, options.ReadRetries),
            Delay = options.RetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>(e => e.StatusCode is null).Handle<IOException>()
                .Handle<SocketException>(),
            OnRetry = args =>
            {
                Log($"retrying a read after {args.Outcome.Exception?.GetType().Name} (attempt {args.AttemptNumber + 1})");
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    /// <summary>The pool master this client talks to (after any HOST_IS_SLAVE redirect).</summary>
    public XapiEndpoint Endpoint { get; private set; }

    public string TransportName => transport.Name;

    /// <summary>host:port of the master, as errors name the pool.</summary>
    public string EndpointName => XapiProtocolException.Name(Endpoint.Url);

    public static async Task<XapiClient> ConnectAsync(XapiEndpoint endpoint, XapiClientOptions? options = null,
        CancellationToken ct = default)
    {
        if (endpoint.Credentials is null)
        {
            throw new ArgumentException($"no credentials for {endpoint}", nameof(endpoint));
        }

        var client = new XapiClient(endpoint, options ?? new XapiClientOptions());
        try
        {
            await client.LoginAsync(null, ct).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Calls a method with the session as its first parameter.</summary>
    public async Task<object?> CallAsync(string method, params object?[] args)
        => await CallAsync(method, args, CancellationToken.None).ConfigureAwait(false);

    public async Task<object?> CallAsync(string method, IReadOnlyList<object?> args, CancellationToken ct, TimeSpan? timeout = null)
    {
        var readOnly = IsReadOnly(method);
        if (readOnly || method == "event.inject")
        {
            return await SendAsync(method, args, readOnly, ct, timeout).ConfigureAwait(false);
        }

        // Counted when sent and again when answered: a barrier taken while the write was under way (another task on this
        // session) does not stand for it once it has landed.
        NoteWrite();
        try
        {
            return await SendAsync(method, args, readOnly, ct, timeout).ConfigureAwait(false);
        }
        finally
        {
            NoteWrite();
        }
    }

    private async Task<object?> SendAsync(string method, IReadOnlyList<object?> args, bool readOnly, CancellationToken ct,
        TimeSpan? timeout)
    {
        for (var attempt = 0; ; attempt++)
        {
            var used = session ?? await LoginAsync(null, ct).ConfigureAwait(false);
            try
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
                bounded.CancelAfter(timeout ?? options.CallTimeout);
                Task<object?> Once(CancellationToken token) => transport.CallAsync(method, [used, .. args], token);
                return readOnly
                    ? await readRetry.ExecuteAsync(async token => await Once(token).ConfigureAwait(false), bounded.Token)
                        .ConfigureAwait(false)
                    : await Once(bounded.Token).ConfigureAwait(false);
            }
            catch (XapiException e) when (e.Code == "SESSION_INVALID" && attempt == 0)
            {
                Log($"{method}: session invalid, logging in again");
                await LoginAsync(used, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw CallTimedOut(method, timeout ?? options.CallTimeout);
            }
        }
    }

    public async Task<T> GetRecordAsync<T>(string @ref, CancellationToken ct = default)
        where T : IXapiRecord<T>
    {
        var method = $"{T.ClassName}.get_record";
        return T.From(@ref, AsMap(method, await CallAsync(method, [@ref], ct).ConfigureAwait(false)));
    }

    public async Task<IReadOnlyList<T>> GetAllRecordsAsync<T>(CancellationToken ct = default)
        where T : IXapiRecord<T>
    {
        var method = $"{T.ClassName}.get_all_records";
        return AsMap(method, await CallAsync(method, [], ct).ConfigureAwait(false)).Select(p => T.From(p.Key, AsMap(method, p.Value)))
            .ToList();
    }

    public async Task<string> GetRefByUuidAsync<T>(string uuid, CancellationToken ct = default)
        where T : IXapiRecord<T>
    {
        var method = $"{T.ClassName}.get_by_uuid";
        return AsString(method, await CallAsync(method, [uuid], ct).ConfigureAwait(false));
    }

    public async ValueTask DisposeAsync()
    {
        if (session is { } s)
        {
            try
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await transport.CallAsync("session.logout", [s], quick.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is XapiException or HttpRequestException or OperationCanceledException or IOException)
            {
            }
        }

        http.Dispose();
        loginGate.Dispose();
    }

    /// <summary>Calls made that may change the pool (counted before they are sent; event.inject is not one): a reader of a
    /// pool mirror needs a barrier only when this moved since its last one (read-your-writes).</summary>
    public long Writes => Interlocked.Read(ref writes);

    internal void NoteWrite() => Interlocked.Increment(ref writes);

    internal string Session => session ?? throw new InvalidOperationException("not logged in");

    internal HttpClient Http => http;

    internal XapiClientOptions Options => options;

    internal void Log(string line) => options.Log?.Invoke(line);

    /// <summary>Calls that only read: field getters, records, lookups and event waits.</summary>
    private static bool IsReadOnly(string method)
    {
        var dot = method.IndexOf('.');
        var name = dot < 0 ? method : method[(dot + 1)..];
        return !method.StartsWith("Async.", StringComparison.Ordinal)
            && (name.StartsWith("get_", StringComparison.Ordinal) || method == "event.from");
    }
}
