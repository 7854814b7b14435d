using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace XcrCluster.Xapi;

/// <summary>How an https pool is trusted: the system's verification (default), a pinned SHA-256 certificate
/// fingerprint (XCP-ng hosts ship self-signed certificates), or explicitly anything.</summary>
public sealed record XapiTls
{
    public static readonly XapiTls Verify = new();

    public static XapiTls AllowUnauthorized => new() { AllowAnyCertificate = true };

    public bool AllowAnyCertificate { get; init; }

    /// <summary>Hex SHA-256 of the server certificate, colons and case ignored.</summary>
    public string? PinnedSha256 { get; init; }

    public static XapiTls Pinned(string sha256) => new() { PinnedSha256 = NormalizeFingerprint(sha256) };

    public static string NormalizeFingerprint(string fingerprint)
    {
        var hex = fingerprint.Replace(":", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? hex : throw new ArgumentException("a SHA-256 fingerprint is 64 hex digits (colons allowed)", nameof(fingerprint));
    }

    public static string Fingerprint(X509Certificate certificate) => Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())).ToLowerInvariant();

    internal bool Validate(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (AllowAnyCertificate)
        {
            return true;
        }

        if (PinnedSha256 is not null)
        {
            return certificate is not null && Fingerprint(certificate) == PinnedSha256;
        }

        return errors == SslPolicyErrors.None;
    }
}
