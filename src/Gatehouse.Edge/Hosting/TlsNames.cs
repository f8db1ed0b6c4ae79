using System.Net.Security;
using System.Security.Authentication;

namespace Gatehouse.Edge.Hosting;

/// <summary>TLS versions and cipher suites as ALB logs them: OpenSSL's names (<c>TLSv1.2</c>, <c>ECDHE-RSA-AES128-GCM-SHA256</c>);
/// TLS 1.3 suites keep their IANA names, as OpenSSL does.</summary>
internal static class TlsNames
{
    private static readonly Dictionary<TlsCipherSuite, string> OpenSsl = new()
    {
        [TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256] = "ECDHE-ECDSA-AES128-GCM-SHA256",
        [TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384] = "ECDHE-ECDSA-AES256-GCM-SHA384",
        [TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256] = "ECDHE-RSA-AES128-GCM-SHA256",
        [TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384] = "ECDHE-RSA-AES256-GCM-SHA384",
        [TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256] = "ECDHE-ECDSA-CHACHA20-POLY1305",
        [TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256] = "ECDHE-RSA-CHACHA20-POLY1305",
        [TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256] = "ECDHE-ECDSA-AES128-SHA256",
        [TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256] = "ECDHE-RSA-AES128-SHA256",
        [TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384] = "ECDHE-ECDSA-AES256-SHA384",
        [TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384] = "ECDHE-RSA-AES256-SHA384",
    };

    public static string Protocol(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => "-",
    };

    public static string Cipher(TlsCipherSuite suite) => OpenSsl.TryGetValue(suite, out var name) ? name : suite.ToString();
}
