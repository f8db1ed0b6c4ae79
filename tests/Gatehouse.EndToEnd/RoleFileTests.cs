using System.Text.Json;
using Gatehouse.Cluster;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;
using Gatehouse.Testing;

namespace Gatehouse.EndToEnd;

/// <summary>`admin roles` and `admin users` refuse what would leave the cluster half-configured, naming the file, line and key.</summary>
public sealed class RoleFileTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private GatehouseCli _cli = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_dir.File("gatehouse.yaml"), "cluster_name: roles-e2e\ndata_dir: data\n");
        // The cluster exists once `start` has run; opening it directly is the same code path, without a listener.
        await using var cluster = await ClusterState.OpenAsync(new ClusterOptions("roles-e2e", _dir.File("data"), KeyAlgorithm.EcdsaP256,
            TrustOptions.None, new ValidationOptions(), null), TimeProvider.System, create: true, CancellationToken.None);
        _cli = new GatehouseCli(_dir.Path);
    }

    [Fact]
    public async Task A_file_with_problems_is_refused_whole_naming_file_line_and_key()
    {
        await File.WriteAllTextAsync(_dir.File("team.yaml"), """
            kind: role
            name: ops
            allow:
              logins: [root]
            ---
            kind: role
            name: dev
            colour: blue
            allow:
              node_labels: { env: '^(prod$' }
            ---
            kind: user
            name: eve

            """);
        var apply = await _cli.RunAsync("admin", "roles", "apply", "team.yaml");
        Assert.Equal(1, apply.ExitCode);
        Assert.Contains("no role was applied", apply.Stderr);
        Assert.Contains("team.yaml:8:", apply.Stderr);
        Assert.Contains("colour", apply.Stderr);
        Assert.Contains("team.yaml:10:", apply.Stderr);
        Assert.Contains("allow.node_labels.env", apply.Stderr);
        Assert.Contains("team.yaml:12:", apply.Stderr);
        Assert.Contains("kind", apply.Stderr);
        Assert.Contains("'user'", apply.Stderr);
        Assert.DoesNotContain("   at ", apply.Stderr);

        // Not even the valid first document was applied.
        Assert.Empty(await RoleNamesAsync());
    }

    [Fact]
    public async Task Users_need_existing_roles_and_a_held_role_cannot_be_removed()
    {
        var missing = await _cli.RunWithInputAsync(ProxyUnderTest.Password + "\n", "admin", "users", "add", "x", "--roles", "nosuchrole", "--password-stdin");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("'nosuchrole'", missing.Stderr);
        var users = (await _cli.RunAsync("admin", "users", "ls", "--format", "json")).EnsureSuccess("users ls").Stdout;
        Assert.Equal("[]", users.Trim());

        await File.WriteAllTextAsync(_dir.File("dev.yaml"), "kind: role\nname: dev\nallow:\n  logins: [ubuntu]\n");
        (await _cli.RunAsync("admin", "roles", "apply", "dev.yaml")).EnsureSuccess("roles apply");
        (await _cli.RunWithInputAsync(ProxyUnderTest.Password + "\n", "admin", "users", "add", "alice", "--roles", "dev", "--password-stdin"))
            .EnsureSuccess("users add alice");
        var remove = await _cli.RunAsync("admin", "roles", "rm", "dev");
        Assert.Equal(1, remove.ExitCode);
        Assert.Contains("alice", remove.Stderr);
        Assert.Equal(["dev"], await RoleNamesAsync());
    }

    private async Task<string[]> RoleNamesAsync()
    {
        var list = (await _cli.RunAsync("admin", "roles", "ls", "--format", "json")).EnsureSuccess("roles ls").Stdout;
        using var json = JsonDocument.Parse(list);
        return [.. json.RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()!)];
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
