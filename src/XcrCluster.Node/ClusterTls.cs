using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Hosting;
using Akka.Remote.Transport.DotNetty;

namespace XcrCluster.Node;

/// <summary>
/// Akka remoting over TLS with mutual authentication: every node presents the cluster certificate (or one signed by the
/// cluster's CA) and accepts only peers that do, both when it connects and when it is connected to. Without it anyone
/// who reaches the Akka port could join, register pools or take a pool's agent role and receive its disk blocks.
/// Host names are not checked: nodes are reached by addresses the certificate need not list; the CA or the pinned
/// certificate is what admits a peer.
/// </summary>
public static class ClusterTls
{
    /// <summary>The remoting options, with TLS when the node has a cluster certificate.</summary>
    public static RemoteOptions Secure(this RemoteOptions remote, NodeOptions options)
    {
        if (options.ClusterCertificate is not { } path)
        {
            return remote;
        }

        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.ClusterCertificatePassword);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"--cluster-cert {path}: holds no private key (a node must prove it owns the certificate)");
        }

        var ca = options.ClusterCa is { } caPath ? X509CertificateLoader.LoadCertificateFromFile(caPath) : null;
        remote.EnableSsl = true;
        remote.Ssl = new SslOptions
        {
            X509Certificate = certificate,
            SuppressValidation = false,
            RequireMutualAuthentication = true,
            ValidateCertificateHostname = false,
            CustomValidator = Admits(certificate, ca),
        };
        return remote;
    }

    /// <summary>Peers with a certificate chaining to the CA, or without a CA the very certificate this node holds.</summary>
    public static CertificateValidationCallback Admits(X509Certificate2 own, X509Certificate2? ca)
        => (peer, _, remote, _, log) =>
        {
            var admitted = peer is not null && (ca is null ? peer.RawData.AsSpan().SequenceEqual(own.RawData) : ChainsTo(peer, ca));
            if (!admitted)
            {
                log.Warning("cluster TLS: refused {0}: {1}", remote,
                    peer is null ? "no certificate" : $"certificate {peer.Subject} ({peer.Thumbprint}) is not the cluster's");
            }

            return admitted;
        };

    private static bool ChainsTo(X509Certificate2 peer, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }
}
