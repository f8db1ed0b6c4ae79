using System.CommandLine;
using Gatehouse.Access.Roles;
using Gatehouse.Audit;
using Gatehouse.Cli.Configuration;
using Gatehouse.Storage;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin roles …</c>: roles as YAML files, applied whole or not at all.</summary>
internal static class RolesCommand
{
    public static Command Create() => new("roles", "Roles: apply YAML files, ls, show, rm") { Apply(), List(), Show(), Remove() };

    private static Command Apply()
    {
        var config = CommandKit.ConfigOption();
        var files = new Argument<string[]>("FILE") { Description = "YAML files with one or more roles (documents separated by ---)", Arity = ArgumentArity.OneOrMore };
        var command = new Command("apply", "Create or replace the roles in the files; nothing is applied if any file has a problem") { files, config };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var parsed = new List<ParsedRole>();
            var errors = new List<string>();
            foreach (var file in parse.GetValue(files)!)
            {
                string text;
                try { text = await File.ReadAllTextAsync(file, cancellationToken); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    errors.Add($"{file}: cannot read it ({e.Message.TrimEnd('.')})");
                    continue;
                }
                var result = RoleParser.Parse(text, file);
                errors.AddRange(result.Errors.Select(e => e.ToString()));
                parsed.AddRange(result.Roles);
            }
            foreach (var duplicate in parsed.GroupBy(r => r.Role.Name).Where(g => g.Count() > 1))
                errors.Add($"role '{duplicate.Key}' is defined more than once across the files");
            if (errors.Count > 0)
                return CommandKit.Fail($"{errors.Count} problem(s); no role was applied:\n  " + string.Join("\n  ", errors));

            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var existing = (await cluster.Store.ListRolesAsync(cancellationToken)).Select(r => r.Name).ToHashSet();
            var now = DateTimeOffset.UtcNow;
            await cluster.Store.UpsertRolesAsync([.. parsed.Select(r => new StoredRole(r.Role.Name, r.Definition, now))], cancellationToken);
            var names = string.Join(", ", parsed.Select(r => r.Role.Name));
            await cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.RolesApplied) with { IdentitySource = "admin", Resource = names }, cancellationToken);
            foreach (var role in parsed)
                Console.Out.WriteLine($"{(existing.Contains(role.Role.Name) ? "updated" : "created")} role {role.Role.Name}");
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var config = CommandKit.ConfigOption();
        var format = CommandKit.DataFormatOption();
        var command = new Command("ls", "List roles") { config, format };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var roles = await cluster.Store.ListRolesAsync(cancellationToken);
            if (parse.GetValue(format) == "json")
            {
                CommandKit.WriteJson(roles);
                return 0;
            }
            var table = new Table().AddColumns("role", "logins", "max session", "updated");
            foreach (var stored in roles)
            {
                var role = RoleParser.Parse(stored.Definition, stored.Name).Roles.FirstOrDefault()?.Role;
                table.AddRow(Markup.Escape(stored.Name), Markup.Escape(role is null ? "?" : string.Join(", ", role.Allow.Logins)),
                    role?.Options.MaxSessionTtl is { } ttl ? Durations.Format(ttl) : "-", $"{stored.UpdatedAt:u}");
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Show()
    {
        var config = CommandKit.ConfigOption();
        var name = new Argument<string>("NAME") { Description = "Role name" };
        var format = CommandKit.DataFormatOption();
        var command = new Command("show", "Print a role as it was applied") { name, config, format };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var role = await cluster.Store.GetRoleAsync(parse.GetValue(name)!, cancellationToken);
            if (role is null) return CommandKit.Fail($"there is no role '{parse.GetValue(name)}'; `gatehouse admin roles ls` lists them.");
            if (parse.GetValue(format) == "json") CommandKit.WriteJson(role);
            else Console.Out.Write(role.Definition.EndsWith('\n') ? role.Definition : role.Definition + "\n");
            return 0;
        });
        return command;
    }

    private static Command Remove()
    {
        var config = CommandKit.ConfigOption();
        var name = new Argument<string>("NAME") { Description = "Role name" };
        var command = new Command("rm", "Remove a role no user has") { name, config };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var role = parse.GetValue(name)!;
            var holders = (await cluster.Store.ListUsersAsync(cancellationToken)).Where(u => u.Roles.Contains(role)).Select(u => u.Name).ToList();
            if (holders.Count > 0)
                return CommandKit.Fail($"role '{role}' is held by {string.Join(", ", holders)}; change their roles first (they could no longer log in).");
            if (!await cluster.Store.DeleteRoleAsync(role, cancellationToken)) return CommandKit.Fail($"there is no role '{role}'.");
            await cluster.Audit.RecordAsync(AuditLog.Event(AuditEventTypes.RoleRemoved) with { IdentitySource = "admin", Resource = role }, cancellationToken);
            Console.Out.WriteLine($"removed role {role}");
            return 0;
        });
        return command;
    }
}
