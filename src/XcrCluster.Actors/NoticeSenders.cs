using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;

namespace XcrCluster.Actors;

/// <summary>One attempt's outcome: delivered, or why not and whether another attempt may do better (a timeout, a 5xx, a
/// 4xx from SMTP) or not (a 4xx from a webhook, a 5xx from SMTP: the same request would be refused again).</summary>
public sealed record AttemptResult(bool Delivered, bool Retry, int? Code, string? Error);

/// <summary>Sends one notice to one target, once: webhooks by HTTP POST of the JSON payload signed with HMAC-SHA256 of the
/// body under the target's secret, email by SMTP (MailKit) with the readable summary. Secrets are decrypted here only.</summary>
public sealed class NoticeSenders(ClusterKey key, string cluster, string node, TimeSpan timeout) : IDisposable
{
    // No redirects: a POST redirected would become a GET, and the signature is for the URL the operator gave.
    private readonly HttpClient http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };

    public async Task<AttemptResult> SendAsync(NotifyTarget target, INotice notice, string deliveryId, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout);
        try
        {
            return target switch
            {
                { Webhook: { } w } => await PostAsync(w, notice, deliveryId, bounded.Token).ConfigureAwait(false),
                { Email: { } m } => await MailAsync(m, notice, deliveryId, bounded.Token).ConfigureAwait(false),
                _ => new AttemptResult(false, false, null, $"target {target.Id} has no {target.Kind} settings"),
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new AttemptResult(false, true, null, $"no answer within {timeout.TotalSeconds:0} s");
        }
        catch (SmtpCommandException e)
        {
            var code = (int)e.StatusCode;
            return new AttemptResult(false, code < 500, code, $"SMTP {code}: {e.Message}");
        }
        catch (AuthenticationException e)
        {
            return new AttemptResult(false, false, null, $"SMTP login refused: {e.Message}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException
            or ProtocolException or SslHandshakeException)
        {
            return new AttemptResult(false, true, null, e.Message);
        }
    }

    /// <summary>The signature a receiver checks: sha256= and the lower-case hex HMAC-SHA256 of the body.</summary>
    public static string Signature(string secret, byte[] body)
        => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private async Task<AttemptResult> PostAsync(WebhookTarget w, INotice notice, string deliveryId, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(NoticeText.Payload(notice, deliveryId, cluster, node));
        using var request = new HttpRequestMessage(HttpMethod.Post, w.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("X-Xcr-Event", notice.Kind);
        request.Headers.Add("X-Xcr-Delivery", deliveryId);
        request.Headers.Add("X-Xcr-Signature", Signature(key.Decrypt(w.EncryptedSecret), body));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        var code = (int)response.StatusCode;
        return response.IsSuccessStatusCode ? new AttemptResult(true, false, code, null)
            : new AttemptResult(false, code is 408 or 429 or >= 500, code, $"HTTP {code} {response.ReasonPhrase}");
    }

    private async Task<AttemptResult> MailAsync(EmailTarget m, INotice notice, string deliveryId, CancellationToken ct)
    {
        using var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(m.From));
        message.To.AddRange(m.To.Select(MailboxAddress.Parse));
        message.Subject = NoticeText.Subject(notice);
        message.Headers.Add("X-Xcr-Event", notice.Kind);
        message.Headers.Add("X-Xcr-Delivery", deliveryId);
        message.Body = new TextPart("plain") { Text = NoticeText.Body(notice, cluster, node) };
        using var client = new SmtpClient { Timeout = (int)timeout.TotalMilliseconds };
        var tls = m.Tls switch
        {
            "none" => SecureSocketOptions.None,
            "starttls" => SecureSocketOptions.StartTls,
            "tls" => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.Auto, // implicit TLS on 465, else STARTTLS when the server offers it
        };
        await client.ConnectAsync(m.Host, m.Port, tls, ct).ConfigureAwait(false);
        if (m is { User.Length: > 0, EncryptedPassword: { } password })
        {
            await client.AuthenticateAsync(m.User, key.Decrypt(password), ct).ConfigureAwait(false);
        }

        await client.SendAsync(message, ct).ConfigureAwait(false);
        await client.DisconnectAsync(true, ct).ConfigureAwait(false);
        return new AttemptResult(true, false, 250, null);
    }

    public void Dispose() => http.Dispose();
}
