using System.Net.Security;
using System.Security.Cryptography;

namespace XcrCluster.Cli;

/// <summary>How xcr trusts an HTTPS node: a node with a self-signed certificate is pinned by the certificate's SHA-256
/// (hex, as the node writes it to DIR/endpoint as http-fingerprint); without a pin the system's CAs decide.</summary>
public static class NodeTls
{
    public static HttpMessageHandler Handler(string? fingerprint)
    {
        var handler = new SocketsHttpHandler();
        if (fingerprint is { } pin)
        {
            var expected = pin.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null
                    && Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())).ToLowerInvariant() == expected,
            };
        }

        return handler;
    }
}
