using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace XcrCluster.Node.Tests;

/// <summary>The HTTP API over HTTPS when the node has a certificate (xcr on the machine pins it from DIR/endpoint), and
/// `xcr-node token rotate` taking effect on the running node: the old token refused at once, or after a grace.</summary>
public sealed class HttpsTokenTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "xcr-https-" + Guid.NewGuid().ToString("N")[..12]);

    public HttpsTokenTests() => Directory.CreateDirectory(root);

    public void Dispose() => SimHost.DeleteDataDir(root);

    [Fact]
    public async Task With_a_certificate_the_api_speaks_https_only_and_xcr_on_the_machine_pins_it()
    {
        var certificate = TestCertificates.SelfSigned(root, "api");
        var dir = Path.Combine(root, "node");
        var (process, url) = await ProgramProcess.StartAsync(ProgramProcess.Node, "--data", dir, "--http-cert", certificate);
        using var node = process;
        Assert.Equal("https", url.Scheme);
        var pin = TestCertificates.Sha256(certificate);
        Assert.Equal(pin, NodeProcess.Endpoint(dir)["http-fingerprint"]);

        using var https = Client(url, pin, Token(dir));
        using (var answer = await https.GetAsync("/api/node"))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        using var plain = new HttpClient { BaseAddress = new UriBuilder(url) { Scheme = "http" }.Uri, Timeout = TimeSpan.FromSeconds(30) };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("/api/node"));

        var (code, stdout, stderr) = await ProgramProcess.RunToEndAsync(ProgramProcess.Xcr,
            new Dictionary<string, string> { ["XCR_DATA"] = dir }, null, ["cluster", "show"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("Up", stdout);
    }

    [Fact]
    public async Task A_rotated_token_is_taken_by_the_running_node_and_the_old_one_refused_unless_kept_for_a_grace()
    {
        var dir = Path.Combine(root, "node");
        using var node = await NodeProcess.StartAsync(dir);
        var first = Token(dir);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node.Url, first));

        var second = await RotateAsync(dir);
        Assert.Equal(second, Token(dir));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node.Url, first));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node.Url, second));

        var third = await RotateAsync(dir, "--keep-previous", "10m");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node.Url, third));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node.Url, second));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node.Url, first));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node.Url, ""));
    }

    private static async Task<string> RotateAsync(string dir, params string[] extra)
    {
        var (code, stdout, stderr) = await ProgramProcess.RunToEndAsync(ProgramProcess.Node, null, null,
            ["token", "rotate", "--data", dir, .. extra]);
        Assert.True(code == 0, stderr);
        return Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static async Task<HttpStatusCode> StatusAsync(Uri url, string token)
    {
        using var http = Client(url, null, token);
        using var answer = await http.GetAsync("/api/node");
        return answer.StatusCode;
    }

    private static string Token(string dir) => File.ReadAllText(Path.Combine(dir, "token")).Trim();

    private static HttpClient Client(Uri url, string? pin, string token)
    {
        var handler = new SocketsHttpHandler();
        if (pin is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null
                && Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())).ToLowerInvariant() == pin;
        }

        var http = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
