using System.Net;
using Gatehouse.ForwardedCerts;

namespace Gatehouse.Proxy.Tunnel;

/// <summary>What the router knows of a connection besides its bytes: who sent it and how it arrived.</summary>
/// <param name="Client">The client's address: the TCP peer, or for a tunnel the address resolved from the upgrade
/// request (X-Forwarded-For past trusted hops).</param>
/// <param name="Arrival">"direct", "websocket" or "raw".</param>
/// <param name="Outer">For a tunnel whose upgrade request came from a trusted front with bind_tunnel_identity required
/// and carried a forwarded certificate: the verdict on it, which the inner certificate must match (ARCHITECTURE §4).</param>
internal sealed record ConnectionFacts(IPAddress Client, string Arrival, string ConnectionId, OuterIdentity? Outer = null);

/// <summary>The identity a trusted front forwarded on a tunnel's upgrade request: the front's name and the verdict
/// on its certificate (authenticated, or refused — then no inner certificate can be bound to it).</summary>
internal sealed record OuterIdentity(string Front, ForwardedAuthentication Verdict);
