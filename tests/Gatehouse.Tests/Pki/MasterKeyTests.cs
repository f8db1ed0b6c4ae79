using System.Security.Cryptography;
using Gatehouse.Pki;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki;

public sealed class MasterKeyTests
{
    [Fact]
    public void Sealed_data_opens_with_the_same_key_and_purpose_only()
    {
        using var dir = new TempDirectory();
        using var key = MasterKey.Load(dir.Path, null, createIfMissing: true);
        var secret = RandomNumberGenerator.GetBytes(100);
        var sealedData = key.Seal(secret, "gatehouse-ca:user");

        Assert.True(key.TryUnseal(sealedData, "gatehouse-ca:user", out var opened, out _));
        Assert.Equal(secret, opened);
        Assert.False(key.TryUnseal(sealedData, "gatehouse-ca:host", out _, out var swapped));
        Assert.Contains("does not decrypt", swapped);

        using var other = MasterKey.FromBytes(RandomNumberGenerator.GetBytes(32), "test");
        Assert.False(other.TryUnseal(sealedData, "gatehouse-ca:user", out _, out var wrong));
        Assert.Contains("does not decrypt", wrong);
        Assert.False(key.TryUnseal(sealedData.AsSpan(0, 10), "gatehouse-ca:user", out _, out var corrupt));
        Assert.Contains("corrupt", corrupt);
    }

    [Fact]
    public void Key_file_is_created_once_owner_only_and_reused()
    {
        using var dir = new TempDirectory();
        using var first = MasterKey.Load(dir.Path, null, createIfMissing: true);
        var path = dir.File(MasterKey.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var sealedData = first.Seal([1, 2, 3], "p");
        using var second = MasterKey.Load(dir.Path, null, createIfMissing: true);
        Assert.True(second.TryUnseal(sealedData, "p", out var opened, out _));
        Assert.Equal([1, 2, 3], opened);
        Assert.Single(Directory.GetFiles(dir.Path)); // no temp files left behind
    }

    [Fact]
    public void Environment_key_wins_and_bad_values_are_named()
    {
        using var dir = new TempDirectory();
        var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var key = MasterKey.Load(dir.Path, value, createIfMissing: true);
        Assert.Equal(MasterKey.EnvironmentVariable, key.Source);
        Assert.False(File.Exists(dir.File(MasterKey.FileName)));

        var tooShort = Assert.Throws<SetupException>(() => MasterKey.Load(dir.Path, "c2hvcnQ=", createIfMissing: true));
        Assert.Contains(MasterKey.EnvironmentVariable, tooShort.Message);
        Assert.Contains("openssl rand -base64 32", tooShort.Message);

        var missing = Assert.Throws<SetupException>(() => MasterKey.Load(dir.Path, null, createIfMissing: false));
        Assert.Contains("master.key is missing", missing.Message);
    }
}
