using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki.Trust;
using Gatehouse.Proxy.Resources;

namespace Gatehouse.Proxy.Services.Databases;

/// <summary>
/// The TLS handshake with a database, once its protocol has asked for TLS (PostgreSQL's SSLRequest, MySQL's): the
/// server checked as resources.databases[].tls says, and the db client certificate for <c>dbUser</c> presented when the
/// database logs the proxy in by certificate.
/// </summary>
internal static class DatabaseTlsClient
{
    /// <returns>The TLS stream, or the sentence why the handshake failed (the stream is then disposed).</returns>
    public static async Task<(SslStream? Tls, string? Failure)> AuthenticateAsync(Stream stream, Database database, string dbUser,
        DbClientCertificates certificates, CancellationToken cancellationToken)
    {
        var clientCertificates = new X509CertificateCollection();
        if (database.Auth is CertificateDatabaseAuth) clientCertificates.Add(await certificates.ForAsync(dbUser, cancellationToken));
        var serverName = database.Tls.ServerName ?? database.Host;
        string? refusal = null;
        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                ClientCertificates = clientCertificates,
                LocalCertificateSelectionCallback = (_, _, local, _, _) => local.Count > 0 ? local[0] : null!,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                {
                    if (database.Tls.Mode == UpstreamTlsMode.Require) return true;
                    refusal = certificate is null ? "it presented no certificate"
                        : (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 ? $"its certificate does not name '{serverName}' (set tls.server_name to the name it carries)"
                        : !Chains.ChainsTo(database.Tls.Roots, certificate, Chains.ServerAuth, chain?.ChainPolicy.ExtraStore) ? "its certificate does not chain to tls.ca_file"
                        : null;
                    return refusal is null;
                },
            }, cancellationToken);
            return (tls, null);
        }
        catch (AuthenticationException e)
        {
            await tls.DisposeAsync();
            return (null, $"the TLS handshake with database '{database.Name}' at {database.Address} failed: {refusal ?? e.Message}");
        }
    }
}
