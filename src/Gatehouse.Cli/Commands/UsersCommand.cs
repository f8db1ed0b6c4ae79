using System.CommandLine;
using Gatehouse.Access.Users;
using Gatehouse.Audit;
using Gatehouse.Cli.Configuration;
using Gatehouse.Cluster;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin users …</c>: local users who log in with a password (and TOTP).</summary>
internal static class UsersCommand
{
    public static Command Create() => new("users", "Local users: add, ls, rm, lock, unlock, reset-password")
    {
        Add(), List(), Simple("rm", "Remove a user", (c, n, t) => c.Users.RemoveAsync(n, t), AuditEventTypes.UserRemoved),
        Simple("lock", "Lock a user out of logging in", (c, n, t) => c.Users.SetLockedAsync(n, true, t), AuditEventTypes.UserChanged),
        Simple("unlock", "Let a locked user log in again (and forget its failed attempts)", (c, n, t) => c.Users.SetLockedAsync(n, false, t), AuditEventTypes.UserChanged),
        ResetPassword(),
    };

    private static Command Add()
    {
        var config = CommandKit.ConfigOption();
        var name = new Argument<string>("NAME") { Description = "User name" };
        var roles = new Option<string?>("--roles") { Description = "Comma-separated role names (the roles must exist)" };
        var traits = new Option<string?>("--traits") { Description = "Traits as k=v pairs, comma-separated; repeat a key for several values (logins=ubuntu,logins=root)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var totp = new Option<bool>("--totp") { Description = "Enrol a TOTP second factor and print its otpauth:// URI once" };
        var command = new Command("add", "Add a user") { name, config, roles, traits, passwordStdin, totp };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            if (!TryParseTraits(parse.GetValue(traits), out var parsedTraits, out var error)) return CommandKit.Fail(error);
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var user = parse.GetValue(name)!;
            var password = CommandKit.ReadSecret(parse.GetValue(passwordStdin), $"password for {user}");
            var outcome = await cluster.Users.AddAsync(user, CommandKit.SplitList(parse.GetValue(roles)), parsedTraits, password, parse.GetValue(totp), cancellationToken);
            return await ReportAsync(cluster, outcome, AuditEventTypes.UserAdded, user, cancellationToken);
        });
        return command;
    }

    private static Command List()
    {
        var config = CommandKit.ConfigOption();
        var format = CommandKit.DataFormatOption();
        var command = new Command("ls", "List users") { config, format };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var users = await cluster.Store.ListUsersAsync(cancellationToken);
            if (parse.GetValue(format) == "json")
            {
                CommandKit.WriteJson(users.Select(u => new
                {
                    u.Name, u.Roles, u.Traits, u.Locked, Password = u.PasswordHash is not null, Totp = u.SealedTotpSecret is not null, u.CreatedAt,
                }));
                return 0;
            }
            var table = new Table().AddColumns("user", "roles", "traits", "password", "totp", "locked");
            foreach (var u in users)
                table.AddRow(Markup.Escape(u.Name), Markup.Escape(string.Join(", ", u.Roles)),
                    Markup.Escape(string.Join(", ", u.Traits.SelectMany(t => t.Value.Select(v => $"{t.Key}={v}")))),
                    u.PasswordHash is null ? "-" : "yes", u.SealedTotpSecret is null ? "-" : "yes", u.Locked ? "[red]locked[/]" : "-");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command ResetPassword()
    {
        var config = CommandKit.ConfigOption();
        var name = new Argument<string>("NAME") { Description = "User name" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the new password from standard input" };
        var command = new Command("reset-password", "Set a new password (and forget failed attempts)") { name, config, passwordStdin };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var user = parse.GetValue(name)!;
            var password = CommandKit.ReadSecret(parse.GetValue(passwordStdin), $"new password for {user}");
            if (password is null) return CommandKit.Fail("no terminal to ask for the password on: use --password-stdin.");
            return await ReportAsync(cluster, await cluster.Users.ResetPasswordAsync(user, password, cancellationToken), AuditEventTypes.UserChanged, user, cancellationToken);
        });
        return command;
    }

    private static Command Simple(string verb, string description, Func<ClusterState, string, CancellationToken, ValueTask<UserOutcome>> action, string auditType)
    {
        var config = CommandKit.ConfigOption();
        var name = new Argument<string>("NAME") { Description = "User name" };
        var command = new Command(verb, description) { name, config };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var user = parse.GetValue(name)!;
            return await ReportAsync(cluster, await action(cluster, user, cancellationToken), auditType, user, cancellationToken);
        });
        return command;
    }

    private static async Task<int> ReportAsync(ClusterState cluster, UserOutcome outcome, string auditType, string user, CancellationToken cancellationToken)
    {
        if (!outcome.Ok) return CommandKit.Fail(outcome.Message);
        await cluster.Audit.RecordAsync(AuditLog.Event(auditType, user) with { IdentitySource = "admin", Reason = outcome.Message }, cancellationToken);
        Console.Out.WriteLine(outcome.Message);
        if (outcome.TotpUri is { } uri)
            Console.Out.WriteLine($"TOTP: add this to an authenticator app now (it is not shown again):\n  {uri}");
        return 0;
    }

    internal static bool TryParseTraits(string? text, out IReadOnlyDictionary<string, IReadOnlyList<string>> traits, out string error)
    {
        var result = new Dictionary<string, List<string>>();
        traits = new Dictionary<string, IReadOnlyList<string>>();
        error = "";
        foreach (var pair in CommandKit.SplitList(text))
        {
            var equals = pair.IndexOf('=');
            if (equals <= 0)
            {
                error = $"--traits: '{pair}' is not key=value";
                return false;
            }
            var key = pair[..equals].Trim();
            if (!result.TryGetValue(key, out var values)) result[key] = values = [];
            values.Add(pair[(equals + 1)..].Trim());
        }
        traits = result.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value);
        return true;
    }
}
