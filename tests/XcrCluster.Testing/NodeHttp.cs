using System.Net.Http.Headers;

namespace XcrCluster.Testing;

/// <summary>An HTTP client on an `xcr-node`'s API, holding the bearer token the node wrote to DIR/token.</summary>
public static class NodeHttp
{
    public static HttpClient Create(Uri url, string dataDir, TimeSpan timeout)
    {
        var http = new HttpClient { BaseAddress = url, Timeout = timeout };
        http.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(dataDir, "token")).Trim());
        return http;
    }
}
