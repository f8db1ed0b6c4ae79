using System.Diagnostics.Metrics;
using System.Net;
using Gatehouse.ForwardedCerts;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Proxy.Routing;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Proxy.Tests.Routing;

/// <summary>The plain-HTTP listener's connection middleware on in-memory connections: who goes on to HTTP, who is
/// closed, and what is counted.</summary>
public sealed class TrustedPeerGateTests : IDisposable
{
    private readonly GatehouseMetrics _metrics = new();
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, string Tag)> _counted = [];
    private readonly TrustedPeerGate _gate;

    public TrustedPeerGateTests()
    {
        var format = ForwardedCertificateFormats.ById["aws-alb-passthrough"];
        var front = new TrustedFront("alb", format, [IPNetwork.Parse("10.0.0.0/16")], format.DefaultHeaders, null);
        var options = new ProxyOptions(ProxyOptions.DefaultListen, ["localhost"])
        {
            TrustedFronts = [front],
            TrustedProxies = [IPNetwork.Parse("192.0.2.7/32")],
        };
        _gate = new TrustedPeerGate(options, _metrics, NullLogger<TrustedPeerGate>.Instance);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _metrics.Meter) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            foreach (var tag in tags) _counted.Add((instrument.Name, $"{tag.Key}={tag.Value}"));
        });
        _listener.Start();
    }

    [Theory]
    [InlineData("10.0.3.4")]          // a front's source network
    [InlineData("::ffff:10.0.3.4")]   // the same, as a dual-stack socket reports it
    [InlineData("192.0.2.7")]         // a trusted proxy
    public async Task A_trusted_peer_goes_on_to_http(string peer)
    {
        var connection = new RecordingConnection(peer);
        var next = false;
        await _gate.OnConnectionAsync(connection, _ => { next = true; return Task.CompletedTask; });

        Assert.True(next);
        Assert.Null(connection.AbortedWith);
        Assert.Contains(("gatehouse.connections", "route=http"), _counted);
    }

    [Theory]
    [InlineData("10.1.0.1")]
    [InlineData("192.0.2.8")]
    [InlineData("2001:db8::1")]
    public async Task Any_other_peer_is_closed_before_http_and_counted(string peer)
    {
        var connection = new RecordingConnection(peer);
        var next = false;
        await _gate.OnConnectionAsync(connection, _ => { next = true; return Task.CompletedTask; });

        Assert.False(next);
        Assert.NotNull(connection.AbortedWith);
        Assert.Equal([("gatehouse.handshake.failures", "reason=untrusted_peer")], _counted);
    }

    [Fact]
    public async Task A_connection_without_a_peer_address_is_closed()
    {
        var connection = new RecordingConnection(null);
        await _gate.OnConnectionAsync(connection, _ => throw new InvalidOperationException("must not reach HTTP"));
        Assert.NotNull(connection.AbortedWith);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _metrics.Dispose();
    }

    private sealed class RecordingConnection : DefaultConnectionContext
    {
        public RecordingConnection(string? peer)
        {
            RemoteEndPoint = peer is null ? null : new IPEndPoint(IPAddress.Parse(peer), 40000);
        }

        public ConnectionAbortedException? AbortedWith { get; private set; }

        public override void Abort(ConnectionAbortedException abortReason) => AbortedWith = abortReason;
    }
}
