using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace XcrCluster.Testing;

/// <summary>A real HTTP receiver of webhooks on loopback (Kestrel, a free port): every POST kept with its headers and body,
/// answered with the statuses queued by the test (then 200).</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<int> answers = new();

    private WebhookReceiver(WebApplication app) => this.app = app;

    public ConcurrentQueue<Delivery> Received { get; } = new();

    public Uri Url { get; private set; } = null!;

    /// <summary>One POST: its X-Xcr-* headers, the body as sent, the status answered.</summary>
    public sealed record Delivery(string Event, string DeliveryId, string Signature, string Body, int Answered)
    {
        public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

        /// <summary>Whether the signature is sha256= and the hex HMAC-SHA256 of the body under <paramref name="secret"/>.</summary>
        public bool SignedWith(string secret)
            => Signature == "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret),
                Encoding.UTF8.GetBytes(Body)));
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var status = receiver.answers.TryDequeue(out var queued) ? queued : 200;
            receiver.Received.Enqueue(new Delivery(request.Headers["X-Xcr-Event"].ToString(), request.Headers["X-Xcr-Delivery"].ToString(),
                request.Headers["X-Xcr-Signature"].ToString(), body, status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First() + "/hook");
        return receiver;
    }

    /// <summary>The next POSTs are answered with these statuses, in order.</summary>
    public void Answer(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            answers.Enqueue(status);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
