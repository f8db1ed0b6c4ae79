using Gatehouse.Testing;

namespace Gatehouse.EndToEnd.Apps;

/// <summary><c>gatehouse app login</c>: the files it writes, and the curl line it prints, run as printed.</summary>
[Collection(HttpAppsCollection.Name)]
public sealed class AppLoginTests(HttpAppsCluster cluster)
{
    [Fact]
    public async Task App_login_writes_the_files_and_its_curl_line_reaches_the_app()
    {
        using var client = new ClientMachine();
        var address = cluster.Proxy.Address;
        (await client.Cli.RunAsync("login", "--proxy", address, "--identity", Path.GetDirectoryName(cluster.Alice.Certificate)!, "--ca", cluster.HostCa))
            .EnsureSuccess("login --identity");
        var output = client.File("echo-files");

        var result = await client.Cli.RunAsync("app", "login", "echo", "--proxy", address, "--out", output);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("direct", result.Stdout, StringComparison.Ordinal);
        foreach (var file in new[] { "cert.pem", "key.pem", "host-ca.pem" }) Assert.True(File.Exists(Path.Combine(output, file)), file);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(output, "key.pem")));
        Assert.Equal(await File.ReadAllTextAsync(cluster.Alice.Certificate), await File.ReadAllTextAsync(Path.Combine(output, "cert.pem")));
        var curl = result.Stdout.Split('\n').Single(l => l.StartsWith("curl ", StringComparison.Ordinal)).Trim();
        Assert.Contains("--cacert", curl, StringComparison.Ordinal);
        Assert.EndsWith($"https://{address}/apps/echo/", curl, StringComparison.Ordinal);

        var run = await Peer.RunAsync("bash", "-c", curl + " -sS --max-time 20 -o /dev/null -w '%{http_code}'");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("200", run.Stdout.Trim());
    }
}
