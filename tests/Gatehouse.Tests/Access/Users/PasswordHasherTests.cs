using Gatehouse.Access.Users;

namespace Gatehouse.Tests.Access.Users;

public sealed class PasswordHasherTests
{
    [Fact]
    public void Hash_verifies_only_its_password_and_is_salted()
    {
        var hash = PasswordHasher.Hash("correct horse battery staple");
        Assert.StartsWith("$pbkdf2-sha256$i=600000$", hash);
        Assert.True(PasswordHasher.Verify("correct horse battery staple", hash));
        Assert.False(PasswordHasher.Verify("correct horse battery stapl", hash));
        Assert.NotEqual(hash, PasswordHasher.Hash("correct horse battery staple"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("$pbkdf2-sha256$i=0$AAAA$AAAA")]
    [InlineData("$pbkdf2-sha256$i=10$not base64$AAAA")]
    [InlineData("plain")]
    public void Missing_or_malformed_hashes_never_match(string? stored) => Assert.False(PasswordHasher.Verify("anything at all", stored));
}
