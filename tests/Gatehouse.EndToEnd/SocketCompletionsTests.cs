using Gatehouse.Cli;

namespace Gatehouse.EndToEnd;

/// <summary>Inline socket completions are for the local database proxy only (its relay never blocks); the proxy itself
/// and every other command keep the runtime's default, and an operator's own setting wins. The relay through
/// <c>proxy db</c> with them on is what the database tests (DbClientTests, MySqlTests) run through psql and mariadb.</summary>
public sealed class SocketCompletionsTests
{
    [Theory]
    [InlineData(new[] { "proxy", "db", "orders", "--port", "0" }, null, true)]
    [InlineData(new[] { "proxy", "db", "orders" }, "0", false)]
    [InlineData(new[] { "proxy", "db", "orders" }, "1", false)]
    [InlineData(new[] { "proxy", "app", "grafana" }, null, false)]
    [InlineData(new[] { "start", "--config", "gatehouse.yaml" }, null, false)]
    [InlineData(new[] { "db", "config", "orders" }, null, false)]
    [InlineData(new string[0], null, false)]
    public void Only_proxy_db_runs_socket_completions_inline_unless_the_operator_chose(string[] args, string? operatorValue, bool inline)
    {
        Assert.Equal(inline, SocketCompletions.Applies(args, operatorValue));
    }
}
