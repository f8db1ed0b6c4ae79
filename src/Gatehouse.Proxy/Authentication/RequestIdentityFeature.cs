using System.Net;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;

namespace Gatehouse.Proxy.Authentication;

/// <summary>
/// What the header guard learned about a request before anything else read it: the real client address, the front
/// it came through (if any) and that front's certificate headers, taken out of the request.
/// </summary>
internal sealed class RequestIdentityFeature(IPAddress client, TrustedFront? front, ReceivedHeaders? frontHeaders)
{
    public IPAddress Client { get; } = client;
    public TrustedFront? Front { get; } = front;
    public ReceivedHeaders? FrontHeaders { get; } = frontHeaders;

    /// <summary>Set once by the authentication handler.</summary>
    public ForwardedAuthentication? Verdict { get; set; }
}
