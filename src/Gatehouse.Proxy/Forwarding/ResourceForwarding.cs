using Gatehouse.Proxy.Authentication;
using Gatehouse.Proxy.Resources;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy.Forwarding;

/// <summary>How a request reached a resource: by a host name of its own (the whole path is the resource's) or under its
/// path prefix (which the upstream does not see).</summary>
internal sealed record ResourceMatch<TResource>(TResource Target, bool ByPathPrefix, PathString RemainingPath)
    where TResource : IForwardedResource
{
    /// <summary>The audit's <c>arrival</c> detail.</summary>
    public string Arrival => ByPathPrefix ? "path-prefix" : "host";
}

/// <summary>What the roles said about a request; for an allowed one, <paramref name="Grant"/> is what forwarding needs
/// from the decision (for Kubernetes: whom to impersonate).</summary>
/// <param name="AuditDetails">Added to the access decision's audit details.</param>
internal sealed record ForwardingDecision<TGrant>(bool Allowed, string Reason, TGrant Grant, IReadOnlyDictionary<string, string>? AuditDetails = null);

/// <summary>Why the proxy answers a forwarded request itself instead of the resource; each kind writes it in its own
/// form (an HTML or JSON page for apps, a Kubernetes Status for the API).</summary>
internal enum ForwardingRefusal
{
    /// <summary>The path names a resource of this kind that does not exist.</summary>
    NotFound,

    /// <summary>No identity, or a refused one.</summary>
    Unauthenticated,

    /// <summary>The roles do not allow it.</summary>
    Forbidden,

    /// <summary>The resource could not be reached.</summary>
    Unreachable,

    /// <summary>The resource did not answer in time.</summary>
    TimedOut,
}

/// <summary>
/// One kind of resource the web side forwards to — HTTP apps, Kubernetes API servers — as the one
/// <see cref="ForwardingMiddleware{TResource, TGrant}"/> needs it: how a request is matched, who may be the caller when
/// there is no certificate, how access is decided, how the request is transformed, which upstream client and request
/// settings carry it, and how a refusal is written. Everything else (the order of the steps, the audit, the end at the
/// credential's expiry, forwarding errors) is the middleware's and the same for every kind.
/// </summary>
internal abstract class ResourceForwarding<TResource, TGrant> where TResource : class, IForwardedResource
{
    /// <summary>The kind in a sentence and in logs: "HTTP app", "kubernetes cluster".</summary>
    public abstract string Kind { get; }

    /// <summary>The resource this request is for; null when it is not for this kind at all (<paramref name="notFound"/>
    /// null) or names no resource of it (<paramref name="notFound"/> says so, for a 404).</summary>
    public abstract ResourceMatch<TResource>? Match(HttpContext context, out string? notFound);

    /// <summary>The 401 sentence when the request carried no client certificate (and nothing else stood in for one).</summary>
    public abstract string NoCertificateHint { get; }

    /// <summary>Who the caller is when the request carried no client certificate at all: nobody, unless the kind takes
    /// another credential (apps: a browser's web session). <c>Answered</c>: the kind has written the response itself
    /// (a redirect to sign in, a refusal), and the request ends there.</summary>
    public virtual ValueTask<(Caller? Caller, bool Answered)> CallerWithoutCertificateAsync(HttpContext context, ResourceMatch<TResource> match) =>
        ValueTask.FromResult<(Caller?, bool)>((null, false));

    /// <summary>May <paramref name="caller"/> reach <paramref name="match"/>'s resource, and as what.</summary>
    public abstract ValueTask<ForwardingDecision<TGrant>> DecideAsync(Caller caller, ResourceMatch<TResource> match, CancellationToken cancellationToken);

    /// <summary>How this request and its answer look on the far side (one per request).</summary>
    public abstract HttpTransformer Transformer(Caller caller, ResourceMatch<TResource> match, TGrant grant);

    /// <summary>The connection pool to the resource (a singleton, disposed with the host).</summary>
    public abstract HttpMessageInvoker Client(TResource resource);

    /// <summary>YARP's per-request settings for this kind (timeouts, HTTP version).</summary>
    public abstract ForwarderRequestConfig RequestConfig { get; }

    /// <summary>The sentence for a resource that could not be reached or did not answer in time (<paramref name="cause"/>:
    /// the socket error or the exception, in a few words).</summary>
    public abstract string FailureSentence(TResource resource, ForwardingRefusal refusal, string cause);

    /// <summary>Writes the proxy's own answer: status, and a body in the form the kind's clients read.
    /// <paramref name="resource"/> is null when none was found.</summary>
    public abstract Task WriteRefusalAsync(HttpContext context, ForwardingRefusal refusal, string sentence, TResource? resource);
}
