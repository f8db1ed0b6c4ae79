namespace Gatehouse.Proxy.Resources;

/// <summary>A resource the web side forwards HTTP requests to (an HTTP app, a Kubernetes API server): what the one
/// forwarding middleware needs to know of any of them.</summary>
internal interface IForwardedResource
{
    /// <summary>The name in the configuration, in refusals and in logs.</summary>
    string Name { get; }

    /// <summary>The audit resource name, <c>kind:name</c>.</summary>
    string Resource { get; }

    /// <summary>Where its requests go (a base path is kept).</summary>
    Uri Upstream { get; }

    /// <summary>The path prefix it is reached under on any of the proxy's names, without a trailing slash.</summary>
    string PathPrefix { get; }
}
