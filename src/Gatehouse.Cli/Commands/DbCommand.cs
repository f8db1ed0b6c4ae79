using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Client.Databases;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.LocalProxies;
using Gatehouse.Client.Profiles;
using Gatehouse.Routing;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// Databases: <c>gatehouse db config NAME</c> (psql's connection string and a pg_service.conf entry, straight to the one
/// port), <c>gatehouse db connect NAME</c> (runs psql: straight, or through a local tunnelling port when a balancer is in
/// front), <c>gatehouse proxy db NAME</c> (a local port for any PostgreSQL client) and <c>gatehouse ls dbs</c>.
/// </summary>
internal static class DbCommand
{
    private sealed record Common(Option<string?> Proxy, Option<string?> DbUser, Option<string?> DbName)
    {
        public static Common Create() => new(
            new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" },
            new Option<string?>("--db-user") { Description = "The database user to log in as (default: the only one your roles allow)" },
            new Option<string?>("--db-name") { Description = "The database name inside the server (default: as psql does, the db user's name)" });

        public void AddTo(Command command)
        {
            command.Add(Proxy);
            command.Add(DbUser);
            command.Add(DbName);
        }
    }

    public static Command Create()
    {
        return new Command("db", "Databases behind the proxy: plain psql with your Gatehouse certificate, mariadb/mysql through a local port") { Config(), Connect() };
    }

    private static Command Config() => OnDatabase("config",
        "Print psql's connection string and a pg_service.conf entry (PostgreSQL), or an option-file block for mariadb/mysql with the local proxy to run",
        async (target, cancellationToken) =>
        {
            var (setup, database, dbUser, dbName) = target;
            if (database.Protocol == MySqlProtocol)
            {
                Console.Out.Write(DbSetup.OptionFileEntry(database, setup.Proxy, dbUser, dbName));
                return 0;
            }
            var parameters = await setup.DirectParametersAsync(database, dbUser, dbName, cancellationToken);
            Console.Out.Write($"""
                # Database '{database.Name}' through {setup.Proxy} (no local proxy; your certificate is the login)
                psql "{DbSetup.ConnectionString(parameters)}"

                # or, in ~/.pg_service.conf, then: psql service=gatehouse-{database.Name}
                {DbSetup.ServiceEntry($"gatehouse-{database.Name}", parameters)}
                """);
            return 0;
        });

    private static Command Connect() => OnDatabase("connect",
        "Run psql (straight through the one port, or through a local port when a balancer is in front) or mariadb/mysql (through a local port) on the database",
        async (target, cancellationToken) =>
        {
            var (setup, database, dbUser, dbName) = target;
            var (decision, routeError) = await setup.Dialer.DecideAsync(cancellationToken);
            if (decision is null) return CommandKit.Fail(routeError!);
            var mysql = database.Protocol == MySqlProtocol;
            // A MySQL server speaks first, so its client cannot be recognised on the one port: always a local port.
            if (!decision.Tunnel && !mysql)
                return await RunPsqlAsync(DbSetup.ConnectionString(await setup.DirectParametersAsync(database, dbUser, dbName, cancellationToken)));

            // Through a balancer: psql talks to a local port for the length of its session.
            if (CommandKit.ListenLocally(0) is not { } listener) return 1;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var forwarding = TcpForwarder.RunAsync(listener, setup.Dialer, new DialTarget(Alpn(database), database.Name), verbose: false,
                Console.Error, stop.Token);
            try
            {
                var local = ((IPEndPoint)listener.LocalEndpoint).Port;
                return mysql ? await RunMySqlAsync(DbSetup.MySqlArguments(local, dbUser, dbName))
                    : await RunPsqlAsync(DbSetup.ConnectionString(DbSetup.LocalParameters(local, dbUser, dbName)));
            }
            finally
            {
                await stop.CancelAsync();
                await forwarding;
            }
        });

    /// <summary>The database a <c>db</c> verb works on, found in the proxy's listing, with the db user the roles allow.</summary>
    private sealed record DatabaseTarget(DbSetup Setup, DatabaseListing Database, string DbUser, string? DbName);

    /// <summary>A <c>db</c> verb on NAME: the shared options, the database looked up (or the sentence why not), then <paramref name="run"/>.</summary>
    private static Command OnDatabase(string verb, string description, Func<DatabaseTarget, CancellationToken, Task<int>> run)
    {
        var name = new Argument<string>("NAME") { Description = "The database, as registered with the proxy" };
        var common = Common.Create();
        var command = new Command(verb, description) { name };
        common.AddTo(command);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var setup = Setup(parse.GetValue(common.Proxy));
            var (database, error) = await setup.FindAsync(parse.GetValue(name)!, cancellationToken);
            if (database is null) return CommandKit.Fail(error!);
            var (dbUser, userError) = DbSetup.DbUser(database, parse.GetValue(common.DbUser));
            if (dbUser is null) return CommandKit.Fail(userError!);
            return await run(new DatabaseTarget(setup, database, dbUser, parse.GetValue(common.DbName)), cancellationToken);
        });
        return command;
    }

    /// <summary><c>gatehouse proxy db NAME</c>: a local port for psql, GUI clients and ORMs.</summary>
    public static Command Proxy()
    {
        var name = new Argument<string>("NAME") { Description = "The database, as registered with the proxy" };
        var port = new Option<int>("--port") { Description = "Local port on 127.0.0.1 (0: a free one, printed)", DefaultValueFactory = _ => 0 };
        var common = Common.Create();
        var command = new Command("db", "Serve a database (PostgreSQL or MySQL) on a local port (plain TCP on 127.0.0.1; the TLS and your certificate travel " +
                                        "to the proxy, tunnelled through a balancer when one is in front)") { name, port };
        common.AddTo(command);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var database = parse.GetValue(name)!;
            var dbUser = parse.GetValue(common.DbUser);
            var dbName = parse.GetValue(common.DbName);
            var setup = Setup(parse.GetValue(common.Proxy), pool: true);
            await using var dialer = setup.Dialer;
            var (decision, error) = await dialer.DecideAsync(cancellationToken);
            if (decision is null) return CommandKit.Fail(error!);
            // The listing says which protocol the database speaks (and whether it is one the user may reach at all).
            var (listed, findError) = await setup.FindAsync(database, cancellationToken);
            if (listed is null) return CommandKit.Fail(findError!);
            var alpn = Alpn(listed);
            // Ask the proxy whether the database may be reached (as the db user, when one is named) before listening.
            var probe = await dialer.DialAsync(new DialTarget(alpn, listed.Name, Probe: true, DbUser: dbUser, DbName: dbName), cancellationToken);
            if (probe.Stream is { } probed) await probed.DisposeAsync();
            if (!probe.Ok) return CommandKit.Fail(probe.Error!);
            if (CommandKit.ListenLocally(parse.GetValue(port)) is not { } listener) return 1;
            var bound = ((IPEndPoint)listener.LocalEndpoint).Port;
            var connectWith = listed.Protocol == MySqlProtocol
                ? $"mariadb {string.Join(' ', DbSetup.MySqlArguments(bound, dbUser ?? "DB_USER", dbName))}"
                : $"psql \"{DbSetup.ConnectionString(DbSetup.LocalParameters(bound, dbUser ?? "DB_USER", dbName))}\"";
            // One write, "Ctrl-C to stop" last: whoever waits for that line (a script, a supervisor) has read the rest.
            Console.Out.WriteLine($"Serving database '{database}' at 127.0.0.1:{bound} via {dialer.Options.Proxy} ({decision.Name}; {decision.Source}).\n" +
                                  $"Connect with: {connectWith}\nCtrl-C to stop.");
            await TcpForwarder.RunAsync(listener, dialer, new DialTarget(alpn, listed.Name), verbose: false, Console.Error, cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary><c>gatehouse ls dbs</c>.</summary>
    public static Command List()
    {
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var format = CommandKit.DataFormatOption();
        var command = new Command("dbs", "The databases you may reach, with their labels and the db users and names your roles allow") { proxy, format };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var setup = Setup(parse.GetValue(proxy));
            var (listed, error) = await setup.ListAsync(cancellationToken);
            if (listed is null) return CommandKit.Fail(error!);
            if (parse.GetValue(format) == "json")
            {
                CommandKit.WriteJson(listed.Select(d => new
                {
                    name = d.Name, protocol = d.Protocol, labels = d.Labels, db_users = d.DbUsers, db_names = d.DbNames, server_name = d.ServerName,
                }));
                return 0;
            }
            var table = new Table().AddColumns("Database", "Protocol", "Labels", "Db users", "Db names");
            foreach (var d in listed)
                table.AddRow(Markup.Escape(d.Name), d.Protocol, Markup.Escape(string.Join(", ", d.Labels.Select(l => $"{l.Key}={l.Value}"))),
                    Markup.Escape(string.Join(", ", d.DbUsers)), Markup.Escape(string.Join(", ", d.DbNames)));
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private const string MySqlProtocol = "mysql";

    /// <summary>The service a database is dialled by: its protocol's.</summary>
    private static string Alpn(DatabaseListing database) => database.Protocol == MySqlProtocol ? AlpnProtocols.MySql : AlpnProtocols.Postgres;

    /// <param name="pool">Keep tunnels ready: for the long-running local port only.</param>
    private static DbSetup Setup(string? proxy, bool pool = false)
    {
        var options = DialerSetup.Create(ProfileStore.Default(), proxy, null, insecure: false, requireIdentity: true, warnings: Console.Error);
        if (pool) options = DialerSetup.WithPool(options);
        return new DbSetup(new ProxyDialer(options), options.ProfileDirectory!);
    }

    private static Task<int> RunPsqlAsync(string connection) =>
        CommandKit.RunOnTerminalAsync("psql", [connection], "install the PostgreSQL client (Debian: postgresql-client)");

    /// <summary>Runs mariadb, or mysql where MariaDB's client is not installed.</summary>
    private static Task<int> RunMySqlAsync(IReadOnlyList<string> arguments)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        var program = path.Any(d => File.Exists(Path.Combine(d, "mariadb"))) || !path.Any(d => File.Exists(Path.Combine(d, "mysql"))) ? "mariadb" : "mysql";
        return CommandKit.RunOnTerminalAsync(program, arguments, "install a MySQL client (Debian: mariadb-client)");
    }
}
