using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Client.Profiles;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse status</c> and <c>gatehouse logout</c>: the profiles in $GATEHOUSE_HOME.</summary>
internal static class ProfileCommands
{
    public static Command Status()
    {
        var format = CommandKit.DataFormatOption();
        var command = new Command("status", "Show the proxies you are logged in to and until when") { format };
        command.SetGuardedAction((parse, _) =>
        {
            var profiles = ProfileStore.Default();
            var all = profiles.LoadAll();
            var current = profiles.CurrentProxy();
            if (parse.GetValue(format) == "json")
            {
                CommandKit.WriteJson(all.Select(p => new { p.Proxy, p.ClusterName, p.User, p.Roles, p.Logins, p.Expires, Current = p.Proxy == current,
                    Expired = p.Expires < DateTimeOffset.UtcNow, Directory = profiles.DirectoryOf(p.Proxy), HostCaSha256 = PinnedHostCa(profiles, p.Proxy) }));
                return Task.FromResult(0);
            }
            if (all.Count == 0)
            {
                Console.Out.WriteLine("Not logged in. Use `gatehouse login --proxy HOST:PORT`.");
                return Task.FromResult(0);
            }
            var table = new Table().AddColumns("", "proxy", "cluster", "user", "roles", "logins", "valid until", "host CA (SHA-256)");
            foreach (var p in all)
                table.AddRow(p.Proxy == current ? ">" : "", Markup.Escape(p.Proxy), Markup.Escape(p.ClusterName), Markup.Escape(p.User),
                    Markup.Escape(string.Join(", ", p.Roles)), Markup.Escape(string.Join(", ", p.Logins)),
                    p.Expires < DateTimeOffset.UtcNow ? $"[red]expired {p.Expires:u}[/]" : $"{p.Expires:u}",
                    PinnedHostCa(profiles, p.Proxy) is { } pinned ? pinned[..23] + "…" : "[red]none: log in again with --ca[/]");
            AnsiConsole.Write(table);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>The SHA-256 fingerprint of the profile's host CA (what later commands check the proxy by), or null if none.</summary>
    private static string? PinnedHostCa(ProfileStore profiles, string proxy)
    {
        var path = Path.Combine(profiles.DirectoryOf(proxy), ProfileStore.HostCaFile);
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(path));
            return LoginCommand.Fingerprint(certificate);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return null; // missing, empty (a login of an older version) or damaged: nothing pinned
        }
    }

    public static Command Logout()
    {
        var proxy = new Option<string?>("--proxy") { Description = "Which proxy (default: the current one)" };
        var all = new Option<bool>("--all") { Description = "Log out of every proxy" };
        var command = new Command("logout", "Delete the certificates and keys of a profile") { proxy, all };
        command.SetGuardedAction((parse, _) =>
        {
            var profiles = ProfileStore.Default();
            List<string> targets = parse.GetValue(all) ? [.. profiles.LoadAll().Select(p => p.Proxy)]
                : (parse.GetValue(proxy) ?? profiles.CurrentProxy()) is { } one ? [one] : [];
            if (targets.Count == 0)
            {
                Console.Out.WriteLine("Not logged in; nothing to do.");
                return Task.FromResult(0);
            }
            foreach (var target in targets)
                Console.Out.WriteLine(profiles.Remove(target) ? $"Logged out of {target}; its keys and certificates are deleted." : $"No profile for {target}.");
            return Task.FromResult(0);
        });
        return command;
    }
}
