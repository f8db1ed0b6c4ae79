using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary><c>gatehouse edge</c> with a configuration it cannot use: every problem at once, each with its key path, and no
/// listener opened.</summary>
public sealed class EdgeConfigTests
{
    [Fact]
    public async Task Every_problem_in_edge_yaml_is_reported_with_its_key_path()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("edge.yaml"), """
            attributes: { routing.http.xff_header_processing.mode: replace, idle_timeout.timeout_seconds: "0" }
            listeners:
              - listen: 127.0.0.1:notaport
                certificate: { cert_file: front.pem }
                mutual_authentication: { mode: verify }
                rules:
                  - { path: "/*", target_group: nowhere }
                attributes: { routing.http.request.x_amzn_mtls_clientcert.header_name: "Bad Name" }
            target_groups:
              - name: app
                protocol: HTTPS
                targets: [10.0.0.1]
                health_check: { interval: 10 }
            """);
        var result = await new GatehouseCli(dir.Path).RunAsync("edge", "--config", "edge.yaml");

        Assert.Equal(2, result.ExitCode);
        foreach (var expected in (string[])[
                     "attributes.routing.http.xff_header_processing.mode: 'replace' is not one of append, preserve, remove",
                     "attributes.idle_timeout.timeout_seconds: '0' is not a number of seconds from 1 to 4000",
                     "listeners[0].listen: '127.0.0.1:notaport' is not an address:port",
                     "listeners[0].certificate: cert_file and key_file are required",
                     "listeners[0].mutual_authentication.trust_store: verify mode needs a trust store",
                     "listeners[0].rules[0].target_group: 'nowhere' is not the name of one of target_groups",
                     "listeners[0].attributes.routing.http.request.x_amzn_mtls_clientcert.header_name: 'Bad Name' is not a header name",
                     "target_groups[0].targets[0]: '10.0.0.1' is not host:port",
                     "target_groups[0].tls.ca_file: HTTPS targets need the CA",
                     "target_groups[0].health_check.interval: '10' is not a duration",
                 ])
            Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
    }
}
