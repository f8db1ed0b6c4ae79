namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// The nginx directives that the end-to-end clusters' stand-in balancers share, as text for a <c>server { }</c> or
/// <c>location { }</c> block. Each cluster still writes its own blocks, from these pieces plus the directives that make
/// it differ, so that a test's configuration reads close to what nginx gets. docs/behind-a-load-balancer.md and
/// docs/alb-mtls.md show users the same directives: keep the two in step.
/// </summary>
internal static class NginxBlocks
{
    /// <summary>
    /// <c>server { }</c> listening with TLS on 127.0.0.1:<paramref name="port"/> with the balancer's own certificate,
    /// then <paramref name="server"/> (more server-level directives: client certificate checks, other locations) and
    /// <c>location / { }</c> holding <paramref name="location"/>. Both are re-indented, so callers may interpolate
    /// several multi-line pieces into them.
    /// </summary>
    public static string Server(int port, string certificate, string key, string location, string server = "")
    {
        var serverDirectives = server.Trim().Length == 0 ? "" : Indent(server, 1) + "\n";
        return $$"""
            server {
                listen 127.0.0.1:{{port}} ssl;
                ssl_certificate     {{certificate}};
                ssl_certificate_key {{key}};
            {{serverDirectives}}
                location / {
            {{Indent(location, 2)}}
                }
            }


            """;
    }

    /// <summary>Upstream is Gatehouse's TLS port: nginx checks the proxy's host certificate against the exported host CA,
    /// under the one name every host certificate carries.</summary>
    public static string ProxyToGatehouseTls(int gatehousePort, string hostCa) => $"""
        proxy_pass https://127.0.0.1:{gatehousePort};
        proxy_ssl_trusted_certificate {hostCa};   # gatehouse admin ca export --kind host
        proxy_ssl_verify on;
        proxy_ssl_name gatehouse.internal;        # every host certificate carries this name
        """;

    /// <summary>Passes WebSocket (and raw) upgrades on. Upgrade and Connection are hop-by-hop: nginx forwards them only when
    /// set again, and an upgrade needs HTTP/1.1 upstream (nginx's default is 1.0).</summary>
    public const string PassUpgrades = """
        proxy_http_version 1.1;                   # WebSocket and raw upgrades need these three lines
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        """;

    /// <summary>For the http { } level: <c>$connection_upgrade</c> is "upgrade" when the client asked for one, else "close"
    /// (see <see cref="PassUpgradesOrClose"/>).</summary>
    public const string ConnectionUpgradeMap = """
        map $http_upgrade $connection_upgrade {
            default upgrade;
            ''      close;
        }
        """;

    /// <summary>As <see cref="PassUpgrades"/>, but a request without Upgrade goes upstream with "Connection: close" (needs
    /// <see cref="ConnectionUpgradeMap"/>).</summary>
    public const string PassUpgradesOrClose = """
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        """;

    /// <summary>Server level, an AWS ALB in passthrough mode: ask for a client certificate, take any, verify nothing.</summary>
    public const string AskForAnyClientCertificate = """
        ssl_verify_client optional_no_ca;         # ask for a certificate; Gatehouse verifies it
        ssl_verify_depth  4;
        """;

    /// <summary>Location level, what an AWS ALB with mutual TLS adds to each request: the client certificate as URL-encoded
    /// PEM (format aws-alb-passthrough), and the client's address.</summary>
    public const string AlbRequestHeaders = """
        proxy_set_header X-Amzn-Mtls-Clientcert $ssl_client_escaped_cert;   # set even when empty: overwrites a client's copy
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        """;

    /// <summary>Each non-blank line of <paramref name="directives"/> trimmed and indented by <paramref name="depth"/> levels.</summary>
    private static string Indent(string directives, int depth) =>
        string.Join('\n', directives.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => new string(' ', 4 * depth) + l));
}
