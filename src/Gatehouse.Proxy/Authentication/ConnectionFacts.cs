using System.Net;
using Gatehouse.ForwardedCerts;

namespace Gatehouse.Proxy.Authentication;

/// <summary>What the router knows of a connection besides its bytes: who sent it and how it arrived. With the tunnel
/// records below and <see cref="TunnelBinding"/>, what decides whose identity a connection may carry.</summary>
/// <param name="Client">The client's address: the TCP peer, or for a tunnel the address resolved from the upgrade
/// request (X-Forwarded-For past trusted hops).</param>
/// <param name="Arrival">"direct", "websocket" or "raw".</param>
/// <param name="Outer">For a tunnel whose upgrade request came from a trusted front with bind_tunnel_identity required
/// and carried a forwarded certificate: the verdict on it, which the inner certificate must match (ARCHITECTURE §4).</param>
internal sealed record ConnectionFacts(IPAddress Client, string Arrival, string ConnectionId, OuterIdentity? Outer = null);

/// <summary>The identity a trusted front forwarded on a tunnel's upgrade request: the front's name and the verdict
/// on its certificate (authenticated, or refused — then no inner certificate can be bound to it).</summary>
internal sealed record OuterIdentity(string Front, ForwardedAuthentication Verdict);

/// <summary>A connection feature on tunnelled inner connections: who opened the tunnel and how, and the identity the
/// front vouched for on the upgrade (to bind the inner certificate to). Nothing inside a tunnel is a trusted front.</summary>
/// <param name="Client">The address resolved from the upgrade request (X-Forwarded-For past trusted hops).</param>
/// <param name="Arrival">"websocket" or "raw".</param>
internal sealed record TunnelledConnection(IPAddress Client, string Arrival, OuterIdentity? Outer);
