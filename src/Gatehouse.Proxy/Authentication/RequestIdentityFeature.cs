using System.Net;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// What the header guard learned about a request before anything else read it: the real client address, the front
/// it came through (if any) and that front's certificate headers, taken out of the request.
/// </summary>
internal sealed class RequestIdentityFeature(ForwardedClient address, TrustedFront? front, ReceivedHeaders? frontHeaders)
{
    /// <summary>The client's address: the peer, or X-Forwarded-For walked past trusted hops (<see cref="ClientAddress"/>).</summary>
    public IPAddress Client { get; } = address.Client;

    /// <summary>The X-Forwarded-For entries left of <see cref="Client"/>: claims, passed on to apps and Kubernetes as such.</summary>
    public IEnumerable<string> ClaimedForwardedFor => address.Claimed();

    public TrustedFront? Front { get; } = front;
    public ReceivedHeaders? FrontHeaders { get; } = frontHeaders;

    /// <summary>The certificate headers that arrived (lower case) — the guard has taken them all out of the request, but
    /// /v1/ping still reports what it saw.</summary>
    public IReadOnlyList<string> ArrivedCertificateHeaders { get; init; } = [];

    /// <summary>The judgement of the request's client certificate; set once by the authentication handler.</summary>
    public ForwardedAuthentication? Verdict { get; set; }

    /// <summary>Who the accepted certificate stands for; set with <see cref="Verdict"/> when it is accepted.</summary>
    public Caller? Caller { get; set; }
}
