namespace Gatehouse.EndToEnd.Routing;

/// <summary>
/// Issue 7, client side: nginx with <c>ssl_verify_client on</c> (an ALB in verify mode) in front of the TLS port. The
/// client offers its Gatehouse certificate — or a company certificate given with <c>--outer-cert/--outer-key</c> — on
/// the outer TLS when nginx asks; without one, a password login says why and what to do.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class VerifyModeTests(RoutingCluster cluster)
{
    private static readonly TimeSpan CloseDeadline = TimeSpan.FromSeconds(30);
    private static readonly Dictionary<string, string> Always = new() { ["GATEHOUSE_TUNNEL"] = "always" };

    [Fact]
    public async Task Login_with_an_identity_diag_and_a_tunnelled_app_work_through_a_verify_mode_front()
    {
        var nginx = $"127.0.0.1:{cluster.NginxVerifyPort}";
        using var client = await cluster.LoggedInClientAsync(nginx, "verify-alice", Always);

        var diag = await client.Cli.RunAsync("diag", "tunnel", "--proxy", nginx, "--format", "json");
        Assert.Contains("\"outer_certificate_requested\": true", diag.Stdout);
        Assert.Contains("\"outer_certificate_offered\": true", diag.Stdout);
        Assert.Contains("\"upgrade\": \"websocket\"", diag.Stdout);

        await EchoAsync(client, nginx);
    }

    [Fact]
    public async Task A_first_password_login_without_a_certificate_says_why_and_what_to_do()
    {
        await cluster.Proxy.AddUserAsync("verify-bob", "--roles", "dev");
        var nginx = $"127.0.0.1:{cluster.NginxVerifyPort}";
        using var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = cluster.BalancerCa });

        var login = await client.LoginAsync(nginx, "verify-bob", ProxyUnderTest.Password, "--ca", cluster.HostCa);
        Assert.Equal(1, login.ExitCode);
        Assert.Equal(
            $"gatehouse: the balancer in front of {nginx} requires a client certificate (mutual TLS in verify mode) and this machine has none for it. " +
            "Log in with `gatehouse login --identity DIR` using a certificate from `gatehouse admin certs issue`, or give a company certificate " +
            "the balancer trusts with `--outer-cert FILE --outer-key FILE`.", login.Stderr.Trim());

        var diag = await client.Cli.RunAsync("diag", "tunnel", "--proxy", nginx, "--ca", cluster.HostCa, "--format", "json");
        Assert.Contains("\"outer_certificate_requested\": true", diag.Stdout);
        Assert.Contains("\"outer_certificate_offered\": false", diag.Stdout);
    }

    [Fact]
    public async Task A_company_certificate_goes_on_the_outer_TLS_and_the_Gatehouse_one_on_the_inner()
    {
        // This front trusts only the company CA: everything through it works only if the outer TLS offers the company
        // certificate, and the dial only if the inner TLS still offers alice's Gatehouse certificate.
        var nginx = $"127.0.0.1:{cluster.NginxCompanyOnlyPort}";
        var (companyCert, companyKey) = cluster.CompanyClient;
        using var client = await cluster.LoggedInClientAsync(nginx, "company-alice", Always, "--outer-cert", companyCert, "--outer-key", companyKey);

        var profile = client.ProfileOf(nginx);
        Assert.Equal(await File.ReadAllTextAsync(companyCert), await File.ReadAllTextAsync(Path.Combine(profile, "outer-cert.pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(profile, "outer-key.pem")));

        var diag = await client.Cli.RunAsync("diag", "tunnel", "--proxy", nginx, "--format", "json");
        Assert.Contains("\"outer_certificate_requested\": true", diag.Stdout);
        Assert.Contains("\"outer_certificate_source\": \"outer-cert\"", diag.Stdout);

        await EchoAsync(client, nginx);
    }

    [Fact]
    public async Task A_password_login_with_a_company_certificate_gets_through()
    {
        await cluster.Proxy.AddUserAsync("company-carol", "--roles", "dev");
        var nginx = $"127.0.0.1:{cluster.NginxCompanyOnlyPort}";
        var (companyCert, companyKey) = cluster.CompanyClient;
        using var client = new ClientMachine(new Dictionary<string, string> { ["SSL_CERT_FILE"] = cluster.BalancerCa, ["GATEHOUSE_TUNNEL"] = "always" });

        var login = await client.LoginAsync(nginx, "company-carol", ProxyUnderTest.Password, "--ca", cluster.HostCa,
            "--outer-cert", companyCert, "--outer-key", companyKey);
        Assert.True(login.ExitCode == 0, login.Output);
        await EchoAsync(client, nginx);
    }

    private static async Task EchoAsync(ClientMachine client, string proxy)
    {
        await using var forward = await LocalForward.StartAsync(client, "echo", proxy);
        using (var socket = await forward.ConnectAsync())
        {
            await EchoCheck.SmallAndBulkAsync(socket.GetStream());
        }
        await forward.WaitForClosedAsync(1, CloseDeadline);
        Assert.Contains("connected to 'echo' (WebSocket)", forward.Output);
    }
}
