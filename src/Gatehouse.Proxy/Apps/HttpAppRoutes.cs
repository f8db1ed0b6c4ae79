using System.Net;
using Gatehouse.Proxy.Forwarding;
using Gatehouse.Proxy.Resources;

namespace Gatehouse.Proxy.Apps;

/// <summary>
/// Finds the HTTP app a request is for: host <c>NAME.&lt;public host&gt;</c> for every DNS name in proxy.public_addr, or
/// the app's public_host, or else the path prefix <c>/apps/NAME/</c> (for a balancer with one certificate and one name).
/// </summary>
internal sealed class HttpAppRoutes
{
    private readonly Dictionary<string, HttpApp> _byHost = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, HttpApp> _byName = new(StringComparer.OrdinalIgnoreCase);

    public HttpAppRoutes(IReadOnlyList<HttpApp> apps, IReadOnlyList<string> publicAddresses)
    {
        var publicHosts = publicAddresses.Where(a => !IPAddress.TryParse(a, out _)).ToList();
        foreach (var app in apps)
        {
            _byName[app.Name] = app;
            foreach (var host in publicHosts) _byHost.TryAdd($"{app.Name}.{host}", app);
            if (app.PublicHost is { } own) _byHost[own] = app;
        }
    }

    private string Names => _byName.Count == 0 ? "none" : string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal));

    /// <summary>The app for this request, or null: the request is the proxy's own (<paramref name="notFound"/> null), or
    /// names an app under /apps/ that does not exist (<paramref name="notFound"/> says so, for a 404 rather than falling
    /// through). By path prefix with nothing after the name, <see cref="ResourceMatch{T}.RemainingPath"/> is empty.</summary>
    public ResourceMatch<HttpApp>? Match(HttpRequest request, out string? notFound)
    {
        notFound = null;
        if (_byHost.TryGetValue(request.Host.Host, out var byHost)) return new ResourceMatch<HttpApp>(byHost, false, request.Path);
        if (!ResourcePaths.TryName(request.Path, "/apps", out var name, out var remaining)) return null;
        if (!_byName.TryGetValue(name, out var app))
        {
            notFound = $"there is no HTTP app named '{name}' (this proxy serves: {Names})";
            return null;
        }
        return new ResourceMatch<HttpApp>(app, true, remaining);
    }
}
