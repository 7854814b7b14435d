using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>A node's HTTP API as `xcr` uses it: the URL and token from --node/--token, else XCR_NODE/XCR_TOKEN,
/// else the node's data directory on this machine (XCR_DATA or ~/.local/share/xcr: files endpoint and token). An HTTPS
/// node's certificate is pinned by its SHA-256 (XCR_FINGERPRINT, or the local endpoint file), else checked as usual.
/// Every failure is one clear line (<see cref="CliException"/>).</summary>
public sealed class NodeClient : IDisposable
{
    private readonly HttpClient http;

    private NodeClient(Uri url, string token, string? fingerprint)
    {
        // Each request has its own bound (SendAsync): a recovery command may take hours, any other answers within a minute.
        http = new HttpClient(NodeTls.Handler(fingerprint)) { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public static NodeClient Connect(string? node, string? token)
    {
        var dir = Environment.GetEnvironmentVariable("XCR_DATA") is { Length: > 0 } data ? data
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "xcr");
        var endpoint = File.Exists(Path.Combine(dir, "endpoint")) ? File.ReadAllLines(Path.Combine(dir, "endpoint")) : [];
        string? Local(string key) => endpoint.FirstOrDefault(l => l.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..];
        var fingerprint = Environment.GetEnvironmentVariable("XCR_FINGERPRINT") is { Length: > 0 } f ? f
            : node is null ? Local("http-fingerprint") : null;
        node ??= Environment.GetEnvironmentVariable("XCR_NODE") is { Length: > 0 } n ? n : Local("http");
        token ??= Environment.GetEnvironmentVariable("XCR_TOKEN") is { Length: > 0 } t ? t
            : File.Exists(Path.Combine(dir, "token")) ? File.ReadAllText(Path.Combine(dir, "token")).Trim() : null;
        if (node is null || !Uri.TryCreate(node, UriKind.Absolute, out var url))
        {
            throw new CliException($"no node to talk to: give --node URL or XCR_NODE, or run xcr where the node's data "
                + $"directory ({dir}) is");
        }

        return new NodeClient(url,
            token ?? throw new CliException($"no token for {url}: give --token or XCR_TOKEN, or read it from the node's data directory"),
            fingerprint);
    }

    public Task<JsonNode> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<JsonNode> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, body);

    /// <summary>How long a request is waited for, unless it says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A request the node answers when the work is done (a recovery command), waited for up to
    /// <paramref name="timeout"/>.</summary>
    public Task<JsonNode> PostLongAsync(string path, object body, TimeSpan timeout) => SendAsync(HttpMethod.Post, path, body, timeout);

    public Task<JsonNode> PatchAsync(string path, object body) => SendAsync(HttpMethod.Patch, path, body);

    public Task<JsonNode> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public void Dispose() => http.Dispose();

    /// <summary>A server-sent event stream: each event's name and JSON data as it arrives (comments skipped),
    /// until the node ends the stream or <paramref name="ct"/> (Ctrl-C) stops it with an OperationCanceledException.</summary>
    public async IAsyncEnumerable<ServerEvent> EventsAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            await ReadAsync(response);
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        string? name = null;
        var data = new StringBuilder();
        while (await ReadLineAsync(reader, ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    yield return new ServerEvent(name ?? "message", ParseEvent(data.ToString()));
                }

                (name, data.Length) = (null, 0);
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
            if (field == "event")
            {
                name = value;
            }
            else if (field == "data")
            {
                data.Append(data.Length > 0 ? "\n" : "").Append(value);
            }
        }
    }

    private static JsonNode ParseEvent(string data)
    {
        try
        {
            return JsonNode.Parse(data) ?? new JsonObject();
        }
        catch (System.Text.Json.JsonException)
        {
            throw new CliException($"the node sent an event that is not JSON: {Cut(data)}");
        }
    }

    private async Task<string?> ReadLineAsync(StreamReader reader, CancellationToken ct)
    {
        try
        {
            return await reader.ReadLineAsync(ct);
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !ct.IsCancellationRequested)
        {
            throw new CliException($"the node at {http.BaseAddress} cut the stream: {e.Message}");
        }
    }

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, object? body, TimeSpan? timeout = null)
    {
        var bound = timeout ?? DefaultTimeout;
        using var limit = new CancellationTokenSource(bound);
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, limit.Token);
            return await ReadAsync(response);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            throw new CliException($"the node at {http.BaseAddress} did not answer within {bound.TotalSeconds:F0} s");
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach the node at {http.BaseAddress}: {e.Message}");
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, completion, ct);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            throw new CliException($"cannot reach the node at {http.BaseAddress}: {e.Message}");
        }
    }

    /// <summary>The body as JSON, or the node's error as a <see cref="CliException"/>. Something that is not JSON (a proxy's
    /// HTML page, a truncated body) is one line too: the status and the start of the body.</summary>
    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json;
        try
        {
            json = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            throw new CliException(
                $"the node answered {(int)response.StatusCode} {response.ReasonPhrase} with something that is not JSON: {Cut(text)}");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new CliException(json?["error"]?.GetValue<string>() ?? $"{(int)response.StatusCode} {response.ReasonPhrase}");
        }

        return json ?? new JsonObject();
    }

    /// <summary>The start of a body on one line (whitespace runs collapsed), at most 100 characters.</summary>
    internal static string Cut(string text)
    {
        var line = string.Join(' ', text.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= 100 ? line : line[..100] + "...";
    }
}

/// <summary>One server-sent event: its name (event: line) and its data as JSON.</summary>
public sealed record ServerEvent(string Name, JsonNode Data);

/// <summary>A command failed for a reason the operator can act on: printed as one line, exit code 1.</summary>
public sealed class CliException(string message) : Exception(message);
