using System.CommandLine;
using Gatehouse.Cli;
using Gatehouse.Cli.Commands;

NativeAllocator.LimitArenas();
SocketCompletions.InlineForLocalDatabaseProxy(args);

var root = new RootCommand("Gatehouse: an identity-aware access proxy. One TLS port for SSH, databases, Kubernetes and apps.")
{
    StartCommand.Create(),
    VersionCommand.Create(),
    LoginCommand.Create(),
    ProfileCommands.Status(),
    ProfileCommands.Logout(),
    ProxyCommand.Create(),
    SshCommand.Ssh(),
    SshCommand.Config(),
    new Command("ls", "List what you may reach through the proxy") { SshCommand.ListNodes(), DbCommand.List() },
    DbCommand.Create(),
    KubeCommand.Create(),
    AppCommand.Create(),
    DiagCommand.Create(),
    EdgeCommand.Create(),
    new Command("admin", "Administer the cluster: CAs, CRLs, certificates, users, roles, audit")
    {
        CaCommand.Create(),
        CrlCommand.Create(),
        CertsCommand.Create(),
        UsersCommand.Create(),
        RolesCommand.Create(),
        FrontsCommand.Create(),
        AuditCommand.Create(),
    },
};
return await root.Parse(SshCommand.CommandAfterDestination(args)).InvokeAsync();
