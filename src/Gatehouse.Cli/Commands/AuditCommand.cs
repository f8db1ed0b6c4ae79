using System.CommandLine;
using Gatehouse.Cli.Configuration;
using Gatehouse.Storage;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse admin audit</c>: read the audit trail.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var config = CommandKit.ConfigOption();
        var since = new Option<string?>("--since") { Description = "Only events newer than this, e.g. 1h, 30m, 7d" };
        var type = new Option<string?>("--type") { Description = "Only events of this type, e.g. user.login, cert.issue" };
        var user = new Option<string?>("--user") { Description = "Only events about this user" };
        var limit = new Option<int>("--limit") { Description = "Most events to show (newest first)", DefaultValueFactory = _ => 100 };
        var format = CommandKit.DataFormatOption();
        var command = new Command("audit", "Show audit events, newest first") { config, since, type, user, limit, format };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } sinceText)
            {
                if (!Durations.TryParse(sinceText, out var ago)) return CommandKit.Fail($"--since: '{sinceText}' is not a duration like 1h or 7d.");
                from = DateTimeOffset.UtcNow - ago;
            }
            if (parse.GetValue(limit) is < 1 or > 100_000) return CommandKit.Fail("--limit: give 1 to 100000.");
            var settings = GatehouseConfig.Load(parse.GetValue(config));
            await using var cluster = await CommandKit.OpenClusterAsync(settings, cancellationToken);
            var events = await cluster.Store.QueryAuditAsync(new AuditQuery(from, parse.GetValue(type), parse.GetValue(user), parse.GetValue(limit)), cancellationToken);
            if (parse.GetValue(format) == "json")
            {
                CommandKit.WriteJson(events);
                return 0;
            }
            var table = new Table().AddColumns("time", "type", "user", "source", "ip", "decision", "details");
            foreach (var e in events)
                table.AddRow($"{e.Time:u}", Markup.Escape(e.Type), Markup.Escape(e.User ?? "-"), Markup.Escape(e.IdentitySource ?? "-"),
                    Markup.Escape(e.SourceIp ?? "-"), Markup.Escape(e.Decision ?? "-"),
                    Markup.Escape(string.Join("; ", new[] { e.Reason, e.CertificateSerial is null ? null : $"serial {e.CertificateSerial}" }.Where(x => x is not null))));
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
