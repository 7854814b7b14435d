using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Testing;

/// <summary>
/// A broken or hostile "pool" on loopback, for testing that a client stays bounded: raw HTTP/1.1 over a
/// <see cref="TcpListener"/> (no web server in between, so it can lie about Content-Length or never end a body).
/// Every request goes to the handler, which picks a <see cref="HostileReply"/>; by default every call, login
/// included, is answered with a JSON-RPC body that never ends. Stopped, with all its connections, on dispose.
/// </summary>
public sealed class HostileXapiServer : IAsyncDisposable
{
    private const int MaxHeaderBytes = 64 * 1024;
    private const int MaxRequestBodyBytes = 1 << 20;

    private readonly TcpListener listener;
    private readonly Func<HostileRequest, HostileReply> handler;
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentBag<Task> connections = [];
    private readonly ConcurrentQueue<string> requests = new();
    private readonly Task acceptLoop;
    private long bytesSent;

    private HostileXapiServer(IPAddress address, Func<HostileRequest, HostileReply> handler)
    {
        this.handler = handler;
        listener = new TcpListener(address, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Url = new Uri($"http://{address}:{port}/");
        acceptLoop = AcceptAsync();
    }

    public Uri Url { get; }

    /// <summary>host:port, as the client's errors name an endpoint.</summary>
    public string Authority => $"{Url.Host}:{Url.Port}";

    /// <summary>What was asked, in order: the RPC method name, or "GET /path" for other requests.</summary>
    public IReadOnlyCollection<string> Requests => requests;

    /// <summary>Body bytes written so far (endless replies included).</summary>
    public long BytesSent => Interlocked.Read(ref bytesSent);

    /// <param name="address">A loopback address (127.0.0.x), so two servers can stand for two hosts.</param>
    public static HostileXapiServer Start(Func<HostileRequest, HostileReply>? handler = null, string address = "127.0.0.1")
        => new(IPAddress.Parse(address), handler ?? (_ => HostileReply.Endless()));

    /// <summary>Answers login and logout like a pool, everything else with <paramref name="reply"/>.</summary>
    public static Func<HostileRequest, HostileReply> LoginThen(Func<HostileRequest, HostileReply> reply)
        => r => r.RpcMethod switch
        {
            "session.login_with_password" => HostileReply.Result("OpaqueRef:hostile-session"),
            "session.logout" => HostileReply.Result(""),
            _ => reply(r),
        };

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await acceptLoop;
        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10));
        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var socket = await listener.AcceptSocketAsync(stop.Token);
                connections.Add(ServeAsync(socket));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            while (await ReadRequestAsync(stream) is { } request)
            {
                requests.Enqueue(request.RpcMethod ?? $"{request.HttpMethod} {request.Target}");
                var keepOpen = await handler(request).WriteAsync(stream, request, n => Interlocked.Add(ref bytesSent, n), stop.Token);
                if (!keepOpen)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client gave up (what these tests want) or the server is stopping.
        }
    }

    private async Task<HostileRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            if (await stream.ReadAsync(one, stop.Token) == 0)
            {
                return null;
            }

            head.Add(one[0]);
            if (head.Count > MaxHeaderBytes)
            {
                throw new IOException("request head too large");
            }
        }

        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
        var requestLine = lines[0].Split(' ');
        var length = lines.Skip(1).Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => long.Parse(p[1].Trim())).FirstOrDefault();
        if (length > MaxRequestBodyBytes)
        {
            throw new IOException("request body too large for this test server");
        }

        var body = new byte[length];
        await stream.ReadExactlyAsync(body, stop.Token);
        if (requestLine[0] != "POST" || body.Length == 0)
        {
            return new HostileRequest(requestLine[0], requestLine[1], null, [], null);
        }

        if (body[0] == '{')
        {
            var json = JsonRpc.DecodeRequest(body);
            return new HostileRequest(requestLine[0], requestLine[1], json.Method, json.Params, json);
        }

        var (method, parameters) = XmlRpc.DecodeCall(Encoding.UTF8.GetString(body));
        return new HostileRequest(requestLine[0], requestLine[1], method, parameters, null);
    }
}

/// <summary>One request as the hostile server saw it: an RPC call (JSON-RPC when <see cref="Json"/> is set,
/// else XML-RPC) or another HTTP request (<see cref="RpcMethod"/> null).</summary>
public sealed record HostileRequest(string HttpMethod, string Target, string? RpcMethod, IReadOnlyList<object?> Params,
    JsonRpc.Request? Json);
