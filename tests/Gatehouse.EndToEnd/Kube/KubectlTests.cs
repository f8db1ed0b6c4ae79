using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Kube;

/// <summary>Plain kubectl (the real program) against Gatehouse's /kube/NAME/ path, straight and through nginx playing an
/// mTLS ALB; the API server is <see cref="KubeApiStandIn"/>, which records the impersonation it is asked for. kubectl
/// presents company certificates mapped to users, and Gatehouse-issued ones.</summary>
[Collection(KubeAccessCollection.Name)]
public sealed class KubectlTests(KubeAccessCluster cluster)
{
    [Fact]
    public async Task Kubectl_get_pods_lists_the_pod_and_the_api_server_sees_alice_impersonated_with_her_groups()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);
        var before = cluster.Api.Seen.Count;

        var result = await KubeAccessCluster.KubectlAsync(env, "get", "pods");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, result.Stdout, StringComparison.Ordinal);
        var seen = cluster.Api.Seen.Skip(before).ToList();
        Assert.Contains(seen, r => r.Path == "/api/v1/namespaces/default/pods");
        Assert.All(seen, r =>
        {
            Assert.Equal(["alice"], r.ImpersonateUser);
            // Two header lines, as client-go sends them: the API server does not split a folded "developers, viewers".
            Assert.Equal(["developers", "viewers"], r.ImpersonateGroup);
            Assert.Empty(r.OtherImpersonate);
        });
    }

    [Fact]
    public async Task Kubectl_loads_a_gatehouse_issued_certificate_and_gets_pods_as_its_user()
    {
        // Go's x509 parser (kubectl) refuses a certificate whose extension OID has an arc beyond 2^31; this is the
        // guard that the identity extension stays loadable by Go clients.
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.Alice);
        var before = cluster.Api.Seen.Count;

        var result = await KubeAccessCluster.KubectlAsync(env, "get", "pods");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, result.Stdout, StringComparison.Ordinal);
        Assert.All(cluster.Api.Seen.Skip(before), r =>
        {
            Assert.Equal(["alice"], r.ImpersonateUser);
            Assert.Equal(["developers", "viewers"], r.ImpersonateGroup);
        });
    }

    [Fact]
    public async Task Impersonation_asked_for_by_the_client_is_replaced_by_the_roles_answer()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);
        var before = cluster.Api.Seen.Count;

        // kubectl sends Impersonate-User: root, Impersonate-Group: system:masters and Impersonate-Extra-*: Gatehouse must drop them all.
        var result = await KubeAccessCluster.KubectlAsync(env, "--as=root", "--as-group=system:masters", "--as-uid=0", "get", "pods");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, result.Stdout, StringComparison.Ordinal);
        var seen = cluster.Api.Seen.Skip(before).ToList();
        Assert.NotEmpty(seen);
        Assert.All(seen, r =>
        {
            Assert.Equal(["alice"], r.ImpersonateUser);
            Assert.Equal(["developers", "viewers"], r.ImpersonateGroup);
            Assert.Empty(r.OtherImpersonate);
        });
    }

    [Fact]
    public async Task Underscore_spellings_of_impersonation_and_the_proxys_headers_never_reach_the_api_server()
    {
        // An API server behind a CGI-style front, or an aggregated API in one, would read Impersonate_User as Impersonate-User.
        var before = cluster.Api.Seen.Count;

        var (code, _) = await CurlAsync("/kube/dev/api/v1/namespaces/default/pods",
            "-H", "Impersonate_User: root", "-H", "Impersonate_Group: system:masters", "-H", "Impersonate-Extra_scopes: all",
            "-H", "Gatehouse_Jwt_Assertion: forged", "-H", "X_Amzn_Mtls_Clientcert: forged", "-H", "X_Forwarded_For: 203.0.113.66",
            "-H", $"{KubeAccessCluster.SecretHeader.Replace('-', '_')}: {cluster.AlbSecret}");

        Assert.Equal(200, code);
        var seen = Assert.Single(cluster.Api.Seen.Skip(before));
        Assert.Equal(["alice"], seen.ImpersonateUser);
        Assert.Equal(["developers", "viewers"], seen.ImpersonateGroup);
        Assert.DoesNotContain(seen.HeaderNames, n => n.Contains('_', StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_service_behind_the_api_servers_proxy_cannot_set_the_proxys_session_cookie()
    {
        // /kube/NAME/ shares the proxy's origin with the apps and the sign-in: a pod must not plant a session there (issue 11).
        var headersFile = cluster.Proxy.File($"kube-headers-{Guid.NewGuid():N}.txt");

        var (code, _) = await CurlAsync("/kube/dev/api/v1/namespaces/default/services/web/proxy/", "-D", headersFile);

        Assert.Equal(200, code);
        Assert.Equal([KubeApiStandIn.ServiceCookie], new Apps.ResponseHeaders(await File.ReadAllTextAsync(headersFile)).All("Set-Cookie"));
    }

    [Fact]
    public async Task Kubectl_get_pods_watch_prints_the_event_streamed_by_the_api_server()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.AliceCorp);

        await using var kubectl = BackgroundProcess.Start(Peer.Require("kubectl"), ["get", "pods", "-w"], env);

        // The listed pod comes from the list; the watched one only from the watch stream, which stays open afterwards.
        await kubectl.WaitForOutputAsync(KubeApiStandIn.WatchedPod, TimeSpan.FromSeconds(30));
        Assert.Contains(KubeApiStandIn.ListedPod, kubectl.Output, StringComparison.Ordinal);
        Assert.False(kubectl.HasExited, kubectl.Output);
    }

    [Fact]
    public async Task A_role_without_the_clusters_labels_gets_kubectls_Forbidden_with_gatehouses_reason()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, cluster.BobCorp);
        var before = cluster.Api.Seen.Count;

        var result = await KubeAccessCluster.KubectlAsync(env, "get", "pods");

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(result.Stderr.Contains("Error from server (Forbidden)", StringComparison.Ordinal), result.Stderr);
        Assert.True(result.Stderr.Contains($"kubernetes cluster '{KubeAccessCluster.ClusterName}'", StringComparison.Ordinal), result.Stderr);
        Assert.Equal(before, cluster.Api.Seen.Count);

        var audit = await cluster.Proxy.AuditAsync("--type", "access.decision", "--user", "bob");
        Assert.Contains(audit, e => e.GetProperty("resource").GetString() == $"kube:{KubeAccessCluster.ClusterName}"
            && e.GetProperty("decision").GetString() == "denied");
    }

    [Fact]
    public async Task Without_a_certificate_kubectl_is_told_it_is_unauthorized()
    {
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, user: null);

        var result = await KubeAccessCluster.KubectlAsync(env, "get", "pods");

        Assert.NotEqual(0, result.ExitCode);
        // kubectl words a 401 itself, whatever the Status says.
        Assert.True(result.Stderr.Contains("You must be logged in to the server", StringComparison.Ordinal), result.Stderr);
    }

    [Fact]
    public async Task Through_an_mTLS_balancer_plain_kubectl_works_as_alice()
    {
        var env = await cluster.KubeconfigAsync(cluster.AlbServer, cluster.BalancerCa, cluster.AliceCorp);
        var before = cluster.Api.Seen.Count;

        var result = await KubeAccessCluster.KubectlAsync(env, "get", "pods");

        Assert.True(result.ExitCode == 0, result.Output + cluster.Nginx.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, result.Stdout, StringComparison.Ordinal);
        var seen = cluster.Api.Seen.Skip(before).ToList();
        Assert.NotEmpty(seen);
        Assert.All(seen, r => Assert.Equal(["alice"], r.ImpersonateUser));
    }

    [Fact]
    public async Task An_unknown_cluster_name_is_a_404_Status_naming_the_clusters()
    {
        // kubectl replaces a 404's message with its own ("the server could not find the requested resource"), so curl reads the Status.
        var (code, status) = await CurlStatusAsync("/kube/nope/api/v1/namespaces/default/pods");

        Assert.Equal(404, code);
        Assert.Equal("Status", status.GetProperty("kind").GetString());
        Assert.Equal("NotFound", status.GetProperty("reason").GetString());
        Assert.Equal(404, status.GetProperty("code").GetInt32());
        Assert.Contains($"no Kubernetes cluster named 'nope' (this proxy serves: {KubeAccessCluster.ClusterName}, {KubeAccessCluster.CertClusterName}, down)",
            status.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_reached_with_the_proxys_client_certificate_serves_kubectl()
    {
        var env = await cluster.KubeconfigAsync($"https://127.0.0.1:{cluster.Proxy.Port}/kube/{KubeAccessCluster.CertClusterName}", cluster.HostCa,
            cluster.AliceCorp);
        var before = cluster.CertApi.Seen.Count;

        var result = await KubeAccessCluster.KubectlAsync(env, "get", "pods");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(KubeApiStandIn.ListedPod, result.Stdout, StringComparison.Ordinal);
        Assert.All(cluster.CertApi.Seen.Skip(before), r => Assert.Equal(["alice"], r.ImpersonateUser));
    }

    [Fact]
    public async Task An_api_server_that_does_not_answer_is_a_ServiceUnavailable_status_naming_the_cluster()
    {
        var env = await cluster.KubeconfigAsync($"https://127.0.0.1:{cluster.Proxy.Port}/kube/down", cluster.HostCa, cluster.AliceCorp);

        var result = await KubeAccessCluster.KubectlAsync(env, "get", "pods");

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(result.Stderr.Contains("Error from server (ServiceUnavailable)", StringComparison.Ordinal), result.Stderr);
        // kubectl words a 503 itself; the Status says which cluster and why.
        var (code, status) = await CurlStatusAsync("/kube/down/api/v1/namespaces/default/pods");
        Assert.Equal(503, code);
        Assert.Equal("ServiceUnavailable", status.GetProperty("reason").GetString());
        Assert.Contains("kubernetes cluster 'down' is not reachable from the proxy", status.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>curl as alice (company certificate) straight at Gatehouse: the HTTP status and the Status object answered.</summary>
    private async Task<(int Code, System.Text.Json.JsonElement Status)> CurlStatusAsync(string path)
    {
        var (code, body) = await CurlAsync(path);
        Assert.Equal("Status", body.GetProperty("kind").GetString());
        return (code, body);
    }

    /// <summary>curl as alice (company certificate) straight at Gatehouse: the HTTP status and the JSON answered.</summary>
    private async Task<(int Code, System.Text.Json.JsonElement Body)> CurlAsync(string path, params string[] options)
    {
        var result = await Peer.RunAsync("curl", ["-sS", "--max-time", "20", "--cert", cluster.AliceCorp.Certificate, "--key", cluster.AliceCorp.Key,
            "--cacert", cluster.HostCa, "-w", "\n%{http_code}", .. options, $"https://127.0.0.1:{cluster.Proxy.Port}{path}"]);
        result.EnsureSuccess("curl");
        var cut = result.Stdout.LastIndexOf('\n');
        using var document = System.Text.Json.JsonDocument.Parse(result.Stdout[..cut]);
        return (int.Parse(result.Stdout[(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture), document.RootElement.Clone());
    }

    [Fact]
    public async Task A_watch_ends_when_the_certificate_it_was_allowed_for_expires()
    {
        var shortLived = await cluster.Proxy.IssueAsync("alice", "--roles", "dev", "--ttl", "15s");
        var env = await cluster.KubeconfigAsync(cluster.DirectServer, cluster.HostCa, shortLived);

        await using var kubectl = BackgroundProcess.Start(Peer.Require("kubectl"), ["get", "pods", "-w"], env);
        await kubectl.WaitForOutputAsync(KubeApiStandIn.WatchedPod, TimeSpan.FromSeconds(30));

        // The API server stand-in keeps a watch open until the client goes; only the proxy can end it.
        await kubectl.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await cluster.Proxy.WaitForOutputAsync("Ended alice's open request to kube:dev: the certificate it was allowed for expired");
    }
}
