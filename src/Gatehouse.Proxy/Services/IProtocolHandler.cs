using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services;

/// <summary>
/// One gatehouse-* protocol of the one TLS port (ARCHITECTURE §3): what happens after the service router has finished
/// TLS, judged the client certificate, applied the tunnel binding and read the dial frame. A handler decides with the
/// roles, answers the dial (<see cref="ServiceConnection.AnswerAsync"/>), connects and relays. Adding a protocol is a new
/// folder under Services/ with its handler, and one registration in the proxy's host.
/// </summary>
internal interface IProtocolHandler
{
    /// <summary>The protocol served, without the <c>-ping</c> suffix: one of <see cref="Gatehouse.Routing.AlpnProtocols"/>.</summary>
    string Protocol { get; }

    /// <summary>Serves one dialled connection until it ends. The router owns (and disposes) the connection's stream.</summary>
    Task ServeAsync(ServiceConnection connection, CancellationToken cancellationToken);
}

/// <summary>
/// A protocol whose own clients reach the one TLS port without Gatehouse's client (plain psql, ARCHITECTURE §3): they
/// send no dial frame and read no dial answer, so every refusal — by the service router or the handler — is told in the
/// protocol's own words (<see cref="ServiceConnection.AnswerAsync(DialAnswer, CancellationToken)"/> routes it here).
/// </summary>
internal interface INativeProtocol
{
    /// <summary>Tells a native client it is refused, as its protocol does (for PostgreSQL, an ErrorResponse).</summary>
    Task RefuseNativelyAsync(Stream tls, DialAnswer refusal, CancellationToken cancellationToken);
}
