using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki;
using Gatehouse.Testing;
using Microsoft.Data.Sqlite;

namespace Gatehouse.Tests.Pki;

public sealed class AuthoritiesTests
{
    [Fact]
    public async Task First_open_creates_the_authorities_and_later_opens_load_the_same()
    {
        using var dir = new TempDirectory();
        string user, host, ssh, sshHost;
        await using (var first = await TestCluster.OpenAsync(dir.Path))
        {
            user = first.Authorities.User.Certificate.Thumbprint;
            host = first.Authorities.Host.Certificate.Thumbprint;
            ssh = first.Authorities.SshUser.PublicKeyLine;
            sshHost = first.Authorities.SshHost.PublicKeyLine;
            Assert.NotEqual(user, host);
            Assert.NotEqual(ssh.Split(' ')[1], sshHost.Split(' ')[1]);
            Assert.Equal(Authorities.SshHostKind, first.Authorities.SshHost.Kind);
            using (var ec = first.Authorities.User.Certificate.GetECDsaPublicKey()) Assert.Equal(256, ec!.KeySize);
            Assert.Contains("O=test-cluster", first.Authorities.User.Certificate.Subject);
        }
        Assert.True(File.Exists(dir.File("gatehouse.db")));
        Assert.True(File.Exists(dir.File("master.key")));
        await using var second = await TestCluster.OpenAsync(dir.Path, create: false);
        Assert.Equal(user, second.Authorities.User.Certificate.Thumbprint);
        Assert.Equal(host, second.Authorities.Host.Certificate.Thumbprint);
        Assert.Equal(ssh, second.Authorities.SshUser.PublicKeyLine);
        Assert.Equal(sshHost, second.Authorities.SshHost.PublicKeyLine);
    }

    [Fact]
    public async Task A_cluster_from_before_the_ssh_host_ca_gets_one_on_its_next_start_and_keeps_the_rest()
    {
        using var dir = new TempDirectory();
        string user, ssh;
        await using (var first = await TestCluster.OpenAsync(dir.Path))
            (user, ssh) = (first.Authorities.User.Certificate.Thumbprint, first.Authorities.SshUser.PublicKeyLine);
        Assert.Equal(1, await ExecuteAsync(dir, "DELETE FROM authorities WHERE kind = 'ssh-host'"));

        string sshHost;
        await using (var next = await TestCluster.OpenAsync(dir.Path, create: false))
        {
            sshHost = next.Authorities.SshHost.PublicKeyLine;
            Assert.Equal(user, next.Authorities.User.Certificate.Thumbprint);
            Assert.Equal(ssh, next.Authorities.SshUser.PublicKeyLine);
        }
        await using var after = await TestCluster.OpenAsync(dir.Path, create: false);
        Assert.Equal(sshHost, after.Authorities.SshHost.PublicKeyLine); // created once, then loaded
    }

    [Fact]
    public async Task A_wrong_cluster_name_adds_no_authority_to_the_store()
    {
        using var dir = new TempDirectory();
        await (await TestCluster.OpenAsync(dir.Path)).DisposeAsync();
        Assert.Equal(1, await ExecuteAsync(dir, "DELETE FROM authorities WHERE kind = 'ssh-host'"));

        await Assert.ThrowsAsync<SetupException>(() => TestCluster.OpenAsync(dir.Path, cluster: "other", create: false));
        Assert.Equal(0, await ExecuteAsync(dir, "DELETE FROM authorities WHERE kind = 'ssh-host'"));
    }

    [Fact]
    public async Task Rsa_is_selectable()
    {
        using var dir = new TempDirectory();
        await using var cluster = await TestCluster.OpenAsync(dir.Path, algorithm: KeyAlgorithm.Rsa3072);
        using var rsa = cluster.Authorities.User.Certificate.GetRSAPublicKey();
        Assert.Equal(3072, rsa!.KeySize);
        Assert.StartsWith("ssh-rsa ", cluster.Authorities.SshUser.PublicKeyLine);
    }

    [Fact]
    public async Task Private_keys_are_not_stored_in_clear()
    {
        using var dir = new TempDirectory();
        byte[] pkcs8;
        await using (var cluster = await TestCluster.OpenAsync(dir.Path))
            pkcs8 = cluster.Authorities.User.ExportPrivateKey();
        var database = await File.ReadAllBytesAsync(dir.File("gatehouse.db"));
        Assert.True(database.AsSpan().IndexOf(pkcs8.AsSpan(pkcs8.Length - 32)) < 0, "the user CA's private key appears in the store unencrypted");
    }

    [Fact]
    public async Task Wrong_master_key_is_a_clear_error()
    {
        using var dir = new TempDirectory();
        await (await TestCluster.OpenAsync(dir.Path)).DisposeAsync();
        var wrong = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var error = await Assert.ThrowsAsync<SetupException>(() => TestCluster.OpenAsync(dir.Path, masterKey: wrong, create: false));
        Assert.Contains("cannot decrypt the user CA key", error.Message);
        Assert.Contains("GATEHOUSE_MASTER_KEY", error.Message);
    }

    [Fact]
    public async Task Corrupt_ca_record_and_renamed_cluster_are_clear_errors()
    {
        using var dir = new TempDirectory();
        await (await TestCluster.OpenAsync(dir.Path)).DisposeAsync();

        var renamed = await Assert.ThrowsAsync<SetupException>(() => TestCluster.OpenAsync(dir.Path, cluster: "other", create: false));
        Assert.Contains("cluster_name", renamed.Message);
        Assert.Contains("'test-cluster'", renamed.Message);

        Assert.Equal(1, await ExecuteAsync(dir,
            "UPDATE authorities SET public_part = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' WHERE kind = 'host'"));
        var corrupt = await Assert.ThrowsAsync<SetupException>(() => TestCluster.OpenAsync(dir.Path, create: false));
        Assert.Contains("host CA certificate in the store is corrupt", corrupt.Message);
    }

    [Fact]
    public async Task Opening_a_directory_that_was_never_started_says_so()
    {
        using var dir = new TempDirectory();
        var error = await Assert.ThrowsAsync<SetupException>(() => TestCluster.OpenAsync(dir.Path, create: false));
        Assert.Contains("gatehouse start", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    /// <summary>Runs one statement on the cluster's SQLite store; returns the rows it changed.</summary>
    private static async Task<int> ExecuteAsync(TempDirectory dir, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={dir.File("gatehouse.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteNonQueryAsync();
    }
}
