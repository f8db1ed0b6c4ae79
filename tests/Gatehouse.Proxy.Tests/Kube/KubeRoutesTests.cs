using Gatehouse.Proxy.Resources;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Kube;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy.Tests.Kube;

/// <summary>Which cluster a request is for: host kube-gatehouse.* (kube_default or the only one) or /kube/NAME/.</summary>
public sealed class KubeRoutesTests
{
    private static KubeCluster Cluster(string name) =>
        new(name, new Uri($"https://{name}.internal:6443"), new Dictionary<string, string>(), new X509Certificate2Collection(), "t", null);

    private static HttpRequest Request(string host, string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString(host);
        context.Request.Path = path;
        return context.Request;
    }

    [Fact]
    public void The_path_prefix_names_the_cluster_and_is_removed()
    {
        var routes = new KubeRoutes([Cluster("dev"), Cluster("prod")], null);

        var match = routes.Match(Request("gatehouse.example.com", "/kube/prod/api/v1/pods"), null, out var notFound);

        Assert.Null(notFound);
        Assert.Equal("prod", match!.Target.Name);
        Assert.True(match.ByPathPrefix);
        Assert.Equal("/api/v1/pods", match.RemainingPath.Value);
        Assert.Equal("/", routes.Match(Request("gatehouse.example.com", "/kube/dev"), null, out _)!.RemainingPath.Value);
    }

    [Fact]
    public void An_unknown_name_is_not_found_with_the_names_served()
    {
        var routes = new KubeRoutes([Cluster("dev"), Cluster("prod")], null);

        Assert.Null(routes.Match(Request("gatehouse.example.com", "/kube/staging/api"), null, out var notFound));
        Assert.Equal("there is no Kubernetes cluster named 'staging' (this proxy serves: dev, prod)", notFound);
    }

    [Fact]
    public void Other_requests_are_not_kube_ones()
    {
        var routes = new KubeRoutes([Cluster("dev")], null);

        Assert.Null(routes.Match(Request("gatehouse.example.com", "/apps/echo/"), null, out var notFound));
        Assert.Null(notFound);
        Assert.Null(routes.Match(Request("gatehouse.example.com", "/kubernetes/dev"), null, out notFound));
        Assert.Null(notFound);
    }

    [Fact]
    public void The_kube_host_reaches_the_only_cluster_or_kube_default_and_otherwise_says_what_to_do()
    {
        Assert.Equal("dev", new KubeRoutes([Cluster("dev")], null).Match(Request("kube-gatehouse.example.com", "/api"), null, out _)!.Target.Name);

        var two = new KubeRoutes([Cluster("dev"), Cluster("prod")], "prod");
        var match = two.Match(Request("KUBE-GATEHOUSE.example.com", "/api"), null, out _);
        Assert.Equal("prod", match!.Target.Name);
        Assert.False(match.ByPathPrefix);
        Assert.Equal("/api", match.RemainingPath.Value);

        Assert.Null(new KubeRoutes([Cluster("dev"), Cluster("prod")], null).Match(Request("kube-gatehouse.example.com", "/api"), null, out var notFound));
        Assert.Contains("proxy.kube_default", notFound, StringComparison.Ordinal);
        Assert.Contains("dev, prod", notFound, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tls_server_name_routes_like_the_host()
    {
        var routes = new KubeRoutes([Cluster("dev")], null);
        Assert.Equal("dev", routes.Match(Request("127.0.0.1", "/api"), "kube-gatehouse.gatehouse.example.com", out _)!.Target.Name);
        Assert.Null(routes.Match(Request("127.0.0.1", "/api"), "gatehouse.internal", out var notFound));
        Assert.Null(notFound);
    }
}
