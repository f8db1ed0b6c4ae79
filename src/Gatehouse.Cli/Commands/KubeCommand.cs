using System.CommandLine;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Kube;
using Gatehouse.Client.Profiles;
using Gatehouse.Storage;

namespace Gatehouse.Cli.Commands;

/// <summary>How this machine reaches a proxy's HTTP paths (/kube/NAME, /apps/NAME): straight to the proxy, through a
/// balancer that forwards the client certificate (mTLS front), or through one that does not (needs a local proxy).</summary>
internal enum HttpDeployment
{
    Direct,
    MtlsFront,
    NeedsLocalProxy,
}

/// <summary>Picks the <see cref="HttpDeployment"/> from /v1/ping's echo (what the proxy saw of this client's request).</summary>
internal static class HttpDeploymentDetector
{
    /// <summary>The deployment and a one-line reason, or null and why nothing could be decided.</summary>
    public static (HttpDeployment? Deployment, string Reason) Classify(bool viaFront, PingOutcome? ping)
    {
        if (viaFront) return (HttpDeployment.MtlsFront, "--via-front was given");
        if (ping?.Echo is not { } echo) return (null, $"cannot tell how to reach the proxy: {ping?.Error ?? "no answer to /v1/ping"} (pass --via-front when an mTLS balancer is in front)");
        if (echo.ClientCertificateHeaders.Count > 0)
            return (HttpDeployment.MtlsFront, $"a balancer in front forwards client certificates ({string.Join(", ", echo.ClientCertificateHeaders)})");
        var (tunnel, reason) = TunnelDetector.Classify(echo, ping.SentSni, ping.SentAlpn);
        return tunnel == true
            ? (HttpDeployment.NeedsLocalProxy, $"a balancer in front does not forward client certificates: {reason}")
            : (HttpDeployment.Direct, reason);
    }

    /// <summary>Runs /v1/ping unless <paramref name="viaFront"/> makes it unnecessary, then <see cref="Classify"/>.</summary>
    public static async Task<(HttpDeployment? Deployment, string Reason)> DetectAsync(DialerOptions options, bool viaFront, CancellationToken cancellationToken)
    {
        if (viaFront) return Classify(true, null);
        var ping = await new TunnelDetector(options).PingAsync(cancellationToken);
        return Classify(false, ping);
    }

    public static string Describe(HttpDeployment deployment) => deployment switch
    {
        HttpDeployment.Direct => "direct to the proxy",
        HttpDeployment.MtlsFront => "through an mTLS balancer",
        _ => "through a balancer without mTLS",
    };
}

/// <summary><c>gatehouse kube login NAME</c>: a kubeconfig entry for a Kubernetes cluster behind the proxy, for plain kubectl.</summary>
internal static class KubeCommand
{
    public const string TlsServerName = "gatehouse.internal";

    public static Command Create() => new("kube", "Kubernetes clusters behind the proxy") { Login() };

    private static Command Login()
    {
        var name = new Argument<string>("NAME") { Description = "The Kubernetes cluster, as registered with the proxy" };
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var viaFront = new Option<bool>("--via-front") { Description = "An mTLS balancer is in front: trust its certificate, not the host CA" };
        var ca = new Option<string?>("--ca") { Description = "With --via-front: the balancer's CA (PEM) (default: the system's trust)" };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "The kubeconfig to update (default: $KUBECONFIG's first path, else ~/.kube/config)" };
        var command = new Command("login", "Write a kubeconfig cluster, user and context for NAME and switch to it")
        {
            name, proxy, viaFront, ca, kubeconfig,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var cluster = parse.GetValue(name)!;
            if (!IsLabel(cluster)) return CommandKit.Fail($"'{cluster}' is not a cluster name (one DNS label).");
            var profiles = ProfileStore.Default();
            var options = DialerSetup.Create(profiles, parse.GetValue(proxy), null, insecure: false, requireIdentity: true, warnings: Console.Error);
            var address = options.Proxy.ToString();
            var caFile = parse.GetValue(ca) is { } c ? Path.GetFullPath(c) : null;
            if (caFile is not null && !File.Exists(caFile)) return CommandKit.Fail($"--ca: {caFile} does not exist.");
            var (deployment, reason) = await HttpDeploymentDetector.DetectAsync(options, parse.GetValue(viaFront), cancellationToken);
            if (deployment is null) return CommandKit.Fail(reason);
            if (deployment == HttpDeployment.NeedsLocalProxy)
                return CommandKit.Fail($"{reason}. kubectl cannot present its certificate through it; run the local proxy instead: "
                    + $"`gatehouse proxy kube {cluster}` (it writes a kubeconfig of its own). Nothing was written. If the balancer does forward "
                    + "client certificates, pass --via-front.");

            var directory = Path.GetFullPath(profiles.DirectoryOf(address));
            var entry = $"gatehouse-{address}-{cluster}";
            var clusterFields = new Dictionary<object, object?> { ["server"] = $"https://{address}/kube/{cluster}" };
            if (deployment == HttpDeployment.Direct)
            {
                clusterFields["certificate-authority"] = Path.Combine(directory, ProfileStore.HostCaFile);
                clusterFields["tls-server-name"] = TlsServerName;
            }
            else if (caFile is not null) clusterFields["certificate-authority"] = caFile;
            var userFields = new Dictionary<object, object?>
            {
                ["client-certificate"] = Path.Combine(directory, IdentityFiles.Certificate),
                ["client-key"] = Path.Combine(directory, IdentityFiles.PrivateKey),
            };
            var file = parse.GetValue(kubeconfig) is { } k ? Path.GetFullPath(k) : DefaultKubeconfig();
            Kubeconfig.Upsert(file, entry, clusterFields, userFields);
            Console.Out.WriteLine($"Deployment: {HttpDeploymentDetector.Describe(deployment.Value)} ({reason}).");
            Console.Out.WriteLine($"Wrote context '{entry}' to {file} and switched to it: kubectl get pods");
            return 0;
        });
        return command;
    }

    internal static bool IsLabel(string name) =>
        name.Length is > 0 and <= 63 && name.All(ch => ch is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && name[0] != '-' && name[^1] != '-';

    private static string DefaultKubeconfig()
    {
        var variable = Environment.GetEnvironmentVariable("KUBECONFIG");
        var first = variable?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return first is not null ? Path.GetFullPath(first)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
    }
}
