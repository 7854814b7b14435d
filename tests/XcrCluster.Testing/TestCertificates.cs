using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace XcrCluster.Testing;

/// <summary>Certificates a test writes to its own folder: self-signed ones, and a CA with leaves it signs.</summary>
public static class TestCertificates
{
    /// <summary>A self-signed certificate with its key, for localhost and 127.0.0.1, as DIR/NAME.pfx.</summary>
    public static string SelfSigned(string dir, string name, string? password = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var created = Request(name, key, ca: false).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return Write(dir, name, created, password);
    }

    /// <summary>A CA (DIR/NAME.pfx with its key, DIR/NAME.pem without).</summary>
    public static X509Certificate2 Authority(string dir, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var created = Request(name, key, ca: true).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllText(Path.Combine(dir, name + ".pem"), created.ExportCertificatePem());
        return created;
    }

    /// <summary>A leaf signed by <paramref name="ca"/>, with its key, as DIR/NAME.pfx.</summary>
    public static string SignedBy(X509Certificate2 ca, string dir, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serial = RandomNumberGenerator.GetBytes(8);
        using var signed = Request(name, key, ca: false).Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
        using var withKey = signed.CopyWithPrivateKey(key);
        return Write(dir, name, withKey, null);
    }

    public static string Sha256(string pfx)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfx, null);
        return Convert.ToHexString(SHA256.HashData(certificate.RawData)).ToLowerInvariant();
    }

    private static CertificateRequest Request(string name, ECDsa key, bool ca)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        if (!ca)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        return request;
    }

    private static string Write(string dir, string name, X509Certificate2 certificate, string? password)
    {
        var path = Path.Combine(dir, name + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }
}
