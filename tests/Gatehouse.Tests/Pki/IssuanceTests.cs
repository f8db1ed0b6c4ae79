using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki;

/// <summary>What the cluster issues, checked by openssl — the same judge balancers and servers use.</summary>
public sealed class IssuanceTests
{
    private static Gatehouse.Identity.Identity Alice => new() { User = "alice", Cluster = "", Roles = ["dev"], Logins = ["ubuntu"] };

    [Fact]
    public async Task Openssl_accepts_a_user_certificate_for_client_auth_with_the_documented_shape()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.File("data"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var before = DateTimeOffset.UtcNow;
        using var certificate = await cluster.Issuer.IssueUserAsync(Alice, new PublicKey(key), CertificateIssuer.DefaultUserTtl, CancellationToken.None);
        await File.WriteAllTextAsync(dir.File("ca.pem"), cluster.Authorities.User.Certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.File("alice.pem"), certificate.ExportCertificatePem());

        var verify = await Peer.RunAsync("openssl", "verify", "-CAfile", dir.File("ca.pem"), "-purpose", "sslclient", dir.File("alice.pem"));
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains(": OK", verify.Stdout);
        var wrongPurpose = await Peer.RunAsync("openssl", "verify", "-CAfile", dir.File("ca.pem"), "-purpose", "sslserver", dir.File("alice.pem"));
        Assert.NotEqual(0, wrongPurpose.ExitCode);

        Assert.Equal("CN=alice, O=test-cluster", certificate.Subject);
        Assert.InRange(certificate.SerialNumberBytes.Length, 16, 17);
        Assert.InRange(certificate.NotBefore.ToUniversalTime(), before.AddMinutes(-1).AddSeconds(-5).UtcDateTime, before.AddMinutes(-1).AddSeconds(5).UtcDateTime);
        Assert.Equal(TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1), certificate.NotAfter - certificate.NotBefore);
        var text = (await Peer.RunAsync("openssl", "x509", "-in", dir.File("alice.pem"), "-noout", "-text")).Stdout;
        Assert.Contains("TLS Web Client Authentication", text);
        Assert.Contains("1.3.9999.4791.1:", text);
        Assert.DoesNotContain("1.3.9999.4791.1: critical", text);
        Assert.Contains("Version: 3", text);
    }

    [Fact]
    public async Task No_user_certificate_outlives_the_ceiling_unless_the_caller_says_so_explicitly()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.Path, maxUserCertTtl: TimeSpan.FromHours(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var twoHours = TimeSpan.FromHours(2);

        Assert.Equal(TimeSpan.FromHours(1), cluster.Issuer.MaxUserTtl);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await cluster.Issuer.IssueUserAsync(Alice, new PublicKey(key), twoHours, CancellationToken.None));
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await cluster.Issuer.IssueSshUserAsync(Alice, key, twoHours, CancellationToken.None));
        Assert.Contains("pki.max_user_cert_ttl", e.Message);

        // Only an operator's explicit choice (admin certs issue --allow-ttl-above-max) passes.
        using var above = await cluster.Issuer.IssueUserAsync(Alice, new PublicKey(key), twoHours, CancellationToken.None, allowAboveMax: true);
        var ssh = await cluster.Issuer.IssueSshUserAsync(Alice, key, twoHours, CancellationToken.None, allowAboveMax: true);
        Assert.Equal(twoHours + TimeSpan.FromMinutes(1), above.NotAfter - above.NotBefore);
        Assert.Equal(twoHours + TimeSpan.FromMinutes(1), ssh.ValidBefore - ssh.ValidAfter);
    }

    [Fact]
    public async Task Serial_numbers_are_random_128_bit_and_recorded()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.Path);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serials = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            using var certificate = await cluster.Issuer.IssueUserAsync(Alice, new PublicKey(key), TimeSpan.FromMinutes(5), CancellationToken.None);
            var serial = SerialNumbers.Of(certificate);
            Assert.Equal(32, serial.Length); // 16 significant octets, never negative
            Assert.True(certificate.SerialNumberBytes.Span[0] < 0x80);
            Assert.True(serials.Add(serial));
            Assert.NotNull(await cluster.Store.FindIssuedAsync(serial, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Openssl_accepts_a_host_certificate_for_every_public_name()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.File("data"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = await cluster.Issuer.IssueHostAsync(["gatehouse.example.com", "203.0.113.7"], new PublicKey(key),
            CertificateIssuer.DefaultHostTtl, CancellationToken.None);
        await File.WriteAllTextAsync(dir.File("host-ca.pem"), cluster.Authorities.Host.Certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.File("host.pem"), certificate.ExportCertificatePem());

        foreach (var (flag, name) in new[] { ("-verify_hostname", "gatehouse.example.com"), ("-verify_hostname", "grafana.gatehouse.example.com"),
                     ("-verify_hostname", "kube-gatehouse.gatehouse.example.com"), ("-verify_ip", "203.0.113.7") })
        {
            var verify = await Peer.RunAsync("openssl", "verify", "-CAfile", dir.File("host-ca.pem"), "-purpose", "sslserver", flag, name, dir.File("host.pem"));
            Assert.True(verify.ExitCode == 0, $"{name}: {verify.Output}");
        }
        var other = await Peer.RunAsync("openssl", "verify", "-CAfile", dir.File("host-ca.pem"), "-verify_hostname", "evil.example.net", dir.File("host.pem"));
        Assert.NotEqual(0, other.ExitCode);
        // The host CA is not the user CA: a host certificate is no client identity.
        await File.WriteAllTextAsync(dir.File("user-ca.pem"), cluster.Authorities.User.Certificate.ExportCertificatePem());
        Assert.NotEqual(0, (await Peer.RunAsync("openssl", "verify", "-CAfile", dir.File("user-ca.pem"), dir.File("host.pem"))).ExitCode);
    }

    [Fact]
    public async Task An_apps_own_host_name_is_named_exactly_with_no_wildcard_under_it()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.File("data"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = await cluster.Issuer.IssueHostAsync(["gatehouse.example.com"], new PublicKey(key), CertificateIssuer.DefaultHostTtl,
            CancellationToken.None, exactNames: ["grafana.example.org"]);
        await File.WriteAllTextAsync(dir.File("host-ca.pem"), cluster.Authorities.Host.Certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.File("host.pem"), certificate.ExportCertificatePem());

        async Task<int> VerifyAsync(string name) =>
            (await Peer.RunAsync("openssl", "verify", "-CAfile", dir.File("host-ca.pem"), "-purpose", "sslserver", "-verify_hostname", name, dir.File("host.pem"))).ExitCode;
        Assert.Equal(0, await VerifyAsync("grafana.example.org"));
        Assert.NotEqual(0, await VerifyAsync("x.grafana.example.org"));
        Assert.NotEqual(0, await VerifyAsync("kube-gatehouse.grafana.example.org"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cluster.Issuer.IssueHostAsync(["gatehouse.example.com"], new PublicKey(key),
            CertificateIssuer.DefaultHostTtl, CancellationToken.None, exactNames: ["not a name"]));
    }

    [Fact]
    public async Task Openssl_verifies_the_crl_and_sees_revoked_serials_and_increasing_numbers()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.File("data"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var revoked = await cluster.Issuer.IssueUserAsync(Alice, new PublicKey(key), TimeSpan.FromHours(1), CancellationToken.None);
        using var kept = await cluster.Issuer.IssueUserAsync(Alice, new PublicKey(key), TimeSpan.FromHours(1), CancellationToken.None);
        var result = await cluster.Revocation.RevokeAsync(SerialNumbers.Of(revoked), X509RevocationReason.KeyCompromise, CancellationToken.None);
        Assert.Equal(Gatehouse.Pki.Revocation.RevokeStatus.Revoked, result.Status);
        Assert.Equal(Gatehouse.Pki.Revocation.RevokeStatus.AlreadyRevoked,
            (await cluster.Revocation.RevokeAsync(SerialNumbers.Of(revoked), X509RevocationReason.KeyCompromise, CancellationToken.None)).Status);
        Assert.Equal(Gatehouse.Pki.Revocation.RevokeStatus.UnknownSerial,
            (await cluster.Revocation.RevokeAsync("0102030405", X509RevocationReason.Unspecified, CancellationToken.None)).Status);

        await File.WriteAllTextAsync(dir.File("ca.pem"), cluster.Authorities.User.Certificate.ExportCertificatePem());
        await File.WriteAllBytesAsync(dir.File("1.crl"), await cluster.Revocation.BuildCrlAsync(TimeSpan.FromDays(7), CancellationToken.None));
        await File.WriteAllBytesAsync(dir.File("2.crl"), await cluster.Revocation.BuildCrlAsync(TimeSpan.FromDays(7), CancellationToken.None));

        var crl = await Peer.RunAsync("openssl", "crl", "-inform", "DER", "-in", dir.File("2.crl"), "-CAfile", dir.File("ca.pem"), "-verify", "-noout", "-text");
        Assert.True(crl.ExitCode == 0, crl.Output);
        Assert.Contains("verify OK", crl.Output);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(crl.Stdout, $"Serial Number: (00)?{SerialNumbers.Of(revoked)}"), crl.Stdout); // openssl shows the DER sign octet
        Assert.DoesNotContain(SerialNumbers.Of(kept), crl.Stdout);
        Assert.Contains("Key Compromise", crl.Stdout);
        Assert.Contains("X509v3 CRL Number: \n                2", crl.Stdout.Replace("\r", ""));
        Assert.Contains("Next Update", crl.Stdout);

        // openssl, given the CRL, refuses the revoked certificate and accepts the other.
        var der = await File.ReadAllBytesAsync(dir.File("2.crl"));
        await File.WriteAllTextAsync(dir.File("crl.pem"), PemEncoding.WriteString("X509 CRL", der));
        await File.WriteAllTextAsync(dir.File("revoked.pem"), revoked.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.File("kept.pem"), kept.ExportCertificatePem());
        var refused = await Peer.RunAsync("openssl", "verify", "-CAfile", dir.File("ca.pem"), "-CRLfile", dir.File("crl.pem"), "-crl_check", dir.File("revoked.pem"));
        Assert.Contains("certificate revoked", refused.Output);
        var accepted = await Peer.RunAsync("openssl", "verify", "-CAfile", dir.File("ca.pem"), "-CRLfile", dir.File("crl.pem"), "-crl_check", dir.File("kept.pem"));
        Assert.True(accepted.ExitCode == 0, accepted.Output);
    }
}
