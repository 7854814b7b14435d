using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

public sealed class TlsTests
{
    [Fact]
    public async Task Https_with_a_pinned_fingerprint_connects_and_other_choices_behave()
    {
        await using var sim = await ClientPools.StartAsync(o => o with { Tls = true });
        Assert.Equal("https", sim.Url.Scheme);
        var fingerprint = sim.Server.CertificateFingerprint!;

        await using (var pinned = await ClientPools.ConnectAsync(sim, tls: XapiTls.Pinned(fingerprint)))
        {
            Assert.NotEmpty(await pinned.GetAllRecordsAsync<VmRecord>());
        }

        await using (var trusting = await ClientPools.ConnectAsync(sim, tls: XapiTls.AllowUnauthorized))
        {
            Assert.NotEmpty(await trusting.GetAllRecordsAsync<SrRecord>());
        }

        var wrong = new string(fingerprint.Select(c => c == '0' ? '1' : '0').ToArray());
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => ClientPools.ConnectAsync(sim, tls: XapiTls.Pinned(wrong)));
        Assert.DoesNotContain(ClientPools.Password, refused.ToString());

        // The default verifies against the system's roots, which a self-signed pool certificate fails.
        await Assert.ThrowsAsync<HttpRequestException>(() => ClientPools.ConnectAsync(sim));
    }
}
