using System.Text;
using Gatehouse.Access.Users;

namespace Gatehouse.Tests.Access.Users;

public sealed class TotpTests
{
    private static readonly byte[] Rfc6238Secret = Encoding.ASCII.GetBytes("12345678901234567890");

    // RFC 6238 Appendix B, SHA-1 rows; the 8-digit values' last six digits are the 6-digit codes.
    [Theory]
    [InlineData(59L, "287082")]
    [InlineData(1111111109L, "081804")]
    [InlineData(1111111111L, "050471")]
    [InlineData(1234567890L, "005924")]
    [InlineData(2000000000L, "279037")]
    [InlineData(20000000000L, "353130")]
    public void Codes_match_the_rfc_test_vectors(long unixSeconds, string code) =>
        Assert.Equal(code, Totp.Code(Rfc6238Secret, DateTimeOffset.FromUnixTimeSeconds(unixSeconds)));

    [Fact]
    public void One_step_of_skew_is_accepted_and_no_more()
    {
        var secret = Totp.NewSecret();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var code = Totp.Code(secret, now);
        Assert.True(Totp.Verify(secret, code, now, out _));
        Assert.True(Totp.Verify(secret, code, now.AddSeconds(30), out _));
        Assert.True(Totp.Verify(secret, code, now.AddSeconds(-30), out _));
        Assert.False(Totp.Verify(secret, code, now.AddSeconds(90), out _));
        Assert.False(Totp.Verify(secret, "12345", now, out _));
        Assert.False(Totp.Verify(secret, "abcdef", now, out _));
        Assert.False(Totp.Verify(secret, null, now, out _));
    }

    [Fact]
    public void Verify_tells_the_step_the_code_belongs_to_whichever_neighbour_matched()
    {
        var secret = Totp.NewSecret();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000); // step 60 000 000 exactly
        var code = Totp.Code(secret, now);

        foreach (var seconds in new[] { -30, 0, 30 })
        {
            Assert.True(Totp.Verify(secret, code, now.AddSeconds(seconds), out var step));
            Assert.Equal(60_000_000, step);
        }
        // Codes that could still be accepted are remembered, with room for proxies' clocks to differ.
        Assert.True(Totp.OldestRememberedStep(now.AddSeconds(30)) < 60_000_000);
    }

    [Fact]
    public void Otpauth_uri_carries_the_base32_secret()
    {
        // RFC 4648 §10 test vector.
        Assert.Equal("MZXW6YTBOI", Totp.Base32("foobar"u8.ToArray()));
        var uri = Totp.Uri(Rfc6238Secret, "Gatehouse prod", "alice");
        Assert.StartsWith("otpauth://totp/Gatehouse%20prod:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", uri);
        Assert.Contains("digits=6", uri);
    }
}
