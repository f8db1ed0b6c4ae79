namespace Gatehouse.Proxy.Resources;

/// <summary>
/// An HTTP service behind the proxy (resources.http_apps[i]): reached at host <c>NAME.&lt;public host&gt;</c> (or
/// <see cref="PublicHost"/>) and at the path prefix <c>/apps/NAME/</c>; roles' app_labels decide who may.
/// </summary>
/// <param name="Uri">Where the app listens (http or https, with an optional base path).</param>
/// <param name="RewriteRedirects">When the app is reached by path prefix, rewrite Location headers that point at the app
/// back under <c>/apps/NAME/</c>.</param>
internal sealed record HttpApp(string Name, Uri Uri, string? PublicHost, IReadOnlyDictionary<string, string> Labels, bool RewriteRedirects)
    : IForwardedResource
{
    public string PathPrefix => $"/apps/{Name}";

    /// <summary>The audit resource name.</summary>
    public string Resource => $"http-app:{Name}";

    Uri IForwardedResource.Upstream => Uri;
}
