using System.CommandLine;
using Gatehouse.Cli.Commands;

var root = new RootCommand("Gatehouse: an identity-aware access proxy. One TLS port for SSH, databases, Kubernetes and apps.")
{
    StartCommand.Create(),
    new Command("admin", "Administer the cluster: certificate authorities, CRLs, certificates")
    {
        CaCommand.Create(),
        CrlCommand.Create(),
        CertsCommand.Create(),
    },
};
return await root.Parse(args).InvokeAsync();
