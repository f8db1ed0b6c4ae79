using Gatehouse.Client.Dialing;

namespace Gatehouse.Client.Tests.Dialing;

public sealed class TunnelSettingTests
{
    private static readonly ProxyAddress Proxy = new("proxy.example.com", 443), Other = new("other.example.com", 8443);

    [Theory]
    [InlineData(null, "Auto", "Auto")]
    [InlineData("", "Auto", "Auto")]
    [InlineData("auto", "Auto", "Auto")]
    [InlineData("always", "Always", "Always")]
    [InlineData(" NEVER ", "Never", "Never")]
    [InlineData("proxy.example.com:443=always", "Always", "Auto")]
    [InlineData("Proxy.Example.COM:443=always", "Always", "Auto")]              // host names are case-insensitive
    [InlineData("never;proxy.example.com:443=always", "Always", "Never")]       // a bare default plus an entry
    [InlineData("proxy.example.com:443=always;other.example.com:8443=never", "Always", "Never")]
    [InlineData("proxy.example.com:443 = never ; ;", "Never", "Auto")]          // spaces and empty entries
    [InlineData("proxy.example.com:80=always", "Auto", "Auto")]                 // the port counts
    public void Modes_per_address(string? text, string forProxy, string forOther)
    {
        var setting = TunnelSetting.Parse(text);
        Assert.Empty(setting.Errors);
        Assert.Equal(forProxy, setting.ModeFor(Proxy).ToString());
        Assert.Equal(forOther, setting.ModeFor(Other).ToString());
    }

    [Fact]
    public void Ipv6_addresses_are_keys_too()
    {
        var setting = TunnelSetting.Parse("[2001:db8::1]:443=always");
        Assert.Empty(setting.Errors);
        Assert.Equal(TunnelMode.Always, setting.ModeFor(ProxyAddress.TryParse("[2001:db8::1]:443")!));
    }

    [Fact]
    public void Every_bad_entry_is_reported()
    {
        var setting = TunnelSetting.Parse("sometimes;proxy:443=maybe;noport=always;always;never;a:1=never;a:1=always");
        Assert.Collection(setting.Errors,
            e => Assert.Contains("'sometimes'", e),
            e => Assert.Contains("'maybe'", e),
            e => Assert.Contains("'noport' in 'noport=always' is not HOST:PORT", e),
            e => Assert.Contains("second default", e),
            e => Assert.Contains("a:1 is given twice", e));
        Assert.All(setting.Errors, e => Assert.StartsWith("GATEHOUSE_TUNNEL: ", e));
    }

    [Theory]
    [InlineData(null, "WebSocket")]
    [InlineData("websocket", "WebSocket")]
    [InlineData("RAW", "Raw")]
    [InlineData("tcp", null)]
    public void Tunnel_kind(string? text, string? expected) => Assert.Equal(expected, TunnelSetting.ParseKind(text)?.ToString());
}
