using System.IO.Pipelines;
using Gatehouse.Proxy.Routing;
using Gatehouse.Proxy.Services.Postgres;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Tests.Routing;

/// <summary>The router's look at a connection before TLS, on an in-memory transport.</summary>
public sealed class ConnectionRouterTests
{
    [Fact]
    public async Task A_client_that_leaves_while_its_hello_is_awaited_is_ordinary_traffic_not_an_unhandled_error()
    {
        // A balancer's TCP health check connects and closes; Kestrel may see the close (ConnectionClosed) before the read
        // does. That used to escape as an OperationCanceledException, logged by Kestrel as an unhandled error.
        var log = new RecordingLogger<ConnectionRouter>();
        using var metrics = new GatehouseMetrics();
        var router = new ConnectionRouter(null!, new PostgresCancels(), metrics, TimeProvider.System, log);
        var fromClient = new Pipe();
        var toClient = new Pipe();
        using var closed = new CancellationTokenSource();
        var connection = new DefaultConnectionContext("health-check", new DuplexPipe(fromClient.Reader, toClient.Writer),
            new DuplexPipe(toClient.Reader, fromClient.Writer)) { ConnectionClosed = closed.Token };
        var nextCalled = false;

        var routing = router.OnConnectionAsync(connection, _ => { nextCalled = true; return Task.CompletedTask; });
        await closed.CancelAsync();
        await routing.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(nextCalled);
        Assert.DoesNotContain(log.Lines, l => l.Level >= LogLevel.Warning);
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Debug && l.Message.Contains("closed before TLS", StringComparison.Ordinal));
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
