using Gatehouse.Proxy.Resources;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy.Apps;

/// <summary>How a request reached an app: by its own host name (the whole path is the app's) or under /apps/NAME/.</summary>
internal sealed record HttpAppMatch(HttpApp App, bool ByPathPrefix, PathString RemainingPath);

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

    public bool IsEmpty => _byName.Count == 0;

    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);

    /// <summary>The app for this request, or null (the request is the proxy's own). <paramref name="unknownName"/> is set for
    /// /apps/NAME with no such app, so the caller can answer 404 rather than fall through.</summary>
    public HttpAppMatch? Match(HttpRequest request, out string? unknownName)
    {
        unknownName = null;
        if (_byHost.TryGetValue(request.Host.Host, out var byHost)) return new HttpAppMatch(byHost, false, request.Path);
        if (!request.Path.StartsWithSegments("/apps", StringComparison.Ordinal, out var rest) || !rest.HasValue) return null;
        var value = rest.Value!;
        var end = value.IndexOf('/', 1);
        var name = end < 0 ? value[1..] : value[1..end];
        if (!_byName.TryGetValue(name, out var app))
        {
            unknownName = name;
            return null;
        }
        return new HttpAppMatch(app, true, end < 0 ? PathString.Empty : new PathString(value[end..]));
    }
}
