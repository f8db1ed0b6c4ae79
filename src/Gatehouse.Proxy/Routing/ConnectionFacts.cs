using System.Net;

namespace Gatehouse.Proxy.Routing;

/// <summary>What the router knows of a connection besides its bytes: who sent it and how it arrived.</summary>
/// <param name="Client">The client's address: the TCP peer, or for a tunnel the address resolved from the upgrade
/// request (X-Forwarded-For past trusted hops).</param>
/// <param name="Arrival">"direct", "websocket" or "raw".</param>
internal sealed record ConnectionFacts(IPAddress Client, string Arrival, string ConnectionId);
