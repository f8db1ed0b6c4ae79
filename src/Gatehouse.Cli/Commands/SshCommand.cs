using System.CommandLine;
using System.Diagnostics;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Profiles;
using Gatehouse.Client.Ssh;
using Spectre.Console;
using Profile = Gatehouse.Client.Profiles.Profile;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// <c>gatehouse ssh</c> (runs the system's OpenSSH with everything it needs), <c>gatehouse config ssh</c> (an ssh_config
/// block for plain <c>ssh NODE.CLUSTER</c>) and <c>gatehouse ls nodes</c>. The SSH itself is always OpenSSH's.
/// </summary>
internal static class SshCommand
{
    public static Command Ssh()
    {
        var destination = new Argument<string>("[LOGIN@]NODE") { Description = "The node, and the login to use there" };
        var command = new Argument<string[]>("COMMAND") { Description = "A command to run instead of a shell", Arity = ArgumentArity.ZeroOrMore };
        var login = new Option<string?>("--login", "-l") { Description = "The login (default: LOGIN@ in the destination, else your only login)" };
        // Port forwardings and the two common flags, passed to ssh as they are (the SSH is OpenSSH's).
        var forwards = new[] { "-L", "-R", "-D" }.Select(flag => new Option<string[]>(flag) { Description = $"ssh {flag} (repeatable)" }).ToArray();
        var tty = new Option<bool>("-t") { Description = "Ask for a terminal (ssh -t)" };
        var agent = new Option<bool>("-A") { Description = "Forward the SSH agent (ssh -A)" };
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var ssh = new Command("ssh", "Log in to an SSH node through the proxy with the system's ssh (nodes are trusted by the cluster's SSH host CA)")
        {
            destination, command, login, tty, agent, proxy,
        };
        foreach (var forward in forwards) ssh.Add(forward);
        ssh.TreatUnmatchedTokensAsErrors = true;
        ssh.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var (setup, profile) = Prepare(parse.GetValue(proxy));
            var text = parse.GetValue(destination)!;
            var at = text.LastIndexOf('@');
            var node = at >= 0 ? text[(at + 1)..] : text;
            var who = parse.GetValue(login) ?? (at > 0 ? text[..at] : profile.Logins.Count == 1 ? profile.Logins[0] : null);
            if (who is null)
                return CommandKit.Fail($"say which login to use on {node}: gatehouse ssh LOGIN@{node} (your certificate allows: " +
                                       $"{(profile.Logins.Count == 0 ? "none — ask for a role with logins" : string.Join(", ", profile.Logins))})");
            // Fetched once per profile (config ssh fetches it again): no second dial on every login's set-up.
            if (!File.Exists(setup.KnownHosts) && await setup.RefreshKnownHostsAsync(cancellationToken) is { } problem) return CommandKit.Fail(problem);
            var extra = new List<string>();
            foreach (var forward in forwards)
                foreach (var value in parse.GetValue(forward) ?? []) extra.AddRange([forward.Name, value]);
            if (parse.GetValue(tty)) extra.Add("-t");
            if (parse.GetValue(agent)) extra.Add("-A");
            return await CommandKit.RunOnTerminalAsync("ssh", setup.SshArguments(who, node, extra, parse.GetValue(command) ?? []),
                "install the OpenSSH client (Debian: openssh-client)");
        });
        return ssh;
    }

    public static Command Config()
    {
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var ssh = new Command("ssh", "Print an ssh_config block that makes plain `ssh NODE.CLUSTER` go through the proxy (add it to ~/.ssh/config)") { proxy };
        ssh.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var (setup, profile) = Prepare(parse.GetValue(proxy));
            if (await setup.RefreshKnownHostsAsync(cancellationToken) is { } problem && !File.Exists(setup.KnownHosts)) return CommandKit.Fail(problem);
            Console.Out.Write(setup.ConfigBlock(profile.ClusterName));
            return 0;
        });
        return new Command("config", "Check Gatehouse's configuration; configuration for other programs") { ConfigCheckCommand.Create(), ssh };
    }

    public static Command ListNodes()
    {
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var format = CommandKit.DataFormatOption();
        var nodes = new Command("nodes", "The SSH nodes you may reach, with their labels and the logins you may use") { proxy, format };
        nodes.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var (setup, _) = Prepare(parse.GetValue(proxy));
            var (listed, error) = await setup.ListNodesAsync(cancellationToken);
            if (listed is null) return CommandKit.Fail(error!);
            if (parse.GetValue(format) == "json")
            {
                CommandKit.WriteJson(listed.Select(n => new { name = n.Name, labels = n.Labels, logins = n.Logins }));
                return 0;
            }
            var table = new Table().AddColumns("Node", "Labels", "Logins");
            foreach (var n in listed)
                table.AddRow(Markup.Escape(n.Name), Markup.Escape(string.Join(", ", n.Labels.Select(l => $"{l.Key}={l.Value}"))), Markup.Escape(string.Join(", ", n.Logins)));
            AnsiConsole.Write(table);
            return 0;
        });
        return nodes;
    }

    private static (SshSetup Setup, Profile Profile) Prepare(string? proxy)
    {
        var profiles = ProfileStore.Default();
        var options = DialerSetup.Create(profiles, proxy, null, insecure: false, requireIdentity: true, warnings: Console.Error);
        var address = options.Proxy.ToString();
        var profile = profiles.Load(address) ?? throw new SetupException($"not logged in to {address}: run `gatehouse login --proxy {address}` first.");
        return (new SshSetup(new ProxyDialer(options), options.ProfileDirectory!, GatehouseCommandLine()), profile);
    }

    /// <summary>
    /// As with ssh, everything after the destination of <c>gatehouse ssh</c> is the remote command, dashes and all
    /// (<c>gatehouse ssh node1 ls -la</c> must not read <c>-la</c> as <c>-l a</c>): a <c>--</c> goes in after it.
    /// </summary>
    public static string[] CommandAfterDestination(string[] args)
    {
        if (args.Length == 0 || args[0] != "ssh" || args.Contains("--")) return args;
        string[] takesValue = ["-l", "--login", "--proxy", "-L", "-R", "-D"];
        for (var i = 1; i < args.Length; i++)
        {
            if (takesValue.Contains(args[i])) { i++; continue; }
            if (args[i].StartsWith('-')) continue;
            return [.. args[..(i + 1)], "--", .. args[(i + 1)..]];
        }
        return args;
    }

    /// <summary>How ssh should start this same gatehouse: the app host, or `dotnet gatehouse.dll` when run that way.</summary>
    private static string GatehouseCommandLine()
    {
        var process = Environment.ProcessPath ?? "gatehouse";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? $"\"{process}\" \"{Path.Combine(AppContext.BaseDirectory, "gatehouse.dll")}\"" // not Assembly.Location: empty in a single-file build
            : $"\"{process}\"";
    }
}
