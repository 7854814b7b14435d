using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>A node's HTTP API as `xcr` uses it: the URL and token from --node/--token, else XCR_NODE/XCR_TOKEN,
/// else the node's data directory on this machine (XCR_DATA or ~/.local/share/xcr: files endpoint and token).
/// Every failure is one clear line (<see cref="CliException"/>).</summary>
public sealed class NodeClient : IDisposable
{
    private readonly HttpClient http;

    private NodeClient(Uri url, string token)
    {
        http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public static NodeClient Connect(string? node, string? token)
    {
        var dir = Environment.GetEnvironmentVariable("XCR_DATA") is { Length: > 0 } data ? data
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "xcr");
        node ??= Environment.GetEnvironmentVariable("XCR_NODE") is { Length: > 0 } n ? n
            : File.Exists(Path.Combine(dir, "endpoint")) ? File.ReadAllLines(Path.Combine(dir, "endpoint")).FirstOrDefault(l => l.StartsWith("http=", StringComparison.Ordinal))?[5..] : null;
        token ??= Environment.GetEnvironmentVariable("XCR_TOKEN") is { Length: > 0 } t ? t
            : File.Exists(Path.Combine(dir, "token")) ? File.ReadAllText(Path.Combine(dir, "token")).Trim() : null;
        if (node is null || !Uri.TryCreate(node, UriKind.Absolute, out var url))
        {
            throw new CliException($"no node to talk to: give --node URL or XCR_NODE, or run xcr where the node's data directory ({dir}) is");
        }

        return new NodeClient(url, token ?? throw new CliException($"no token for {url}: give --token or XCR_TOKEN, or read it from the node's data directory"));
    }

    public Task<JsonNode> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<JsonNode> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, body);

    public Task<JsonNode> PatchAsync(string path, object body) => SendAsync(HttpMethod.Patch, path, body);

    public Task<JsonNode> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public void Dispose() => http.Dispose();

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new CliException($"cannot reach the node at {http.BaseAddress}: {e.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            var json = text.Length == 0 ? null : JsonNode.Parse(text);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException(json?["error"]?.GetValue<string>() ?? $"{(int)response.StatusCode} {response.ReasonPhrase}");
            }

            return json ?? new JsonObject();
        }
    }
}

/// <summary>A command failed for a reason the operator can act on: printed as one line, exit code 1.</summary>
public sealed class CliException(string message) : Exception(message);
