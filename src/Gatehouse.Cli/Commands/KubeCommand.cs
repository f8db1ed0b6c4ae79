using System.CommandLine;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Profiles;
using Gatehouse.Storage;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

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
            var options = DialerSetup.Create(profiles, parse.GetValue(proxy), null, insecure: false, requireIdentity: true);
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

/// <summary>Reads and rewrites a kubeconfig, keeping every entry it does not own as it was written (through YamlDotNet's
/// representation model, so that scalars keep their style: a quoted "007" stays a string, a plain true a boolean).</summary>
internal static class Kubeconfig
{
    /// <summary>Adds or replaces cluster, user and context <paramref name="name"/> and makes the context current; atomic, owner-only.</summary>
    public static void Upsert(string file, string name, Dictionary<object, object?> cluster, Dictionary<object, object?> user)
    {
        var text = File.Exists(file) ? File.ReadAllText(file) : "";
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            root = stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" } ? new YamlMappingNode()
                : stream.Documents[0].RootNode as YamlMappingNode ?? throw new SetupException($"{file} is not a kubeconfig (not a YAML mapping); nothing was written.");
        }
        catch (YamlException e)
        {
            throw new SetupException($"{file} is not a kubeconfig Gatehouse can read ({e.Message}); nothing was written.");
        }
        if (!root.Children.ContainsKey("apiVersion")) root.Add("apiVersion", "v1");
        if (!root.Children.ContainsKey("kind")) root.Add("kind", "Config");
        Put(root, file, "clusters", name, "cluster", cluster);
        Put(root, file, "users", name, "user", user);
        Put(root, file, "contexts", name, "context", new Dictionary<object, object?> { ["cluster"] = name, ["user"] = name });
        root.Children[new YamlScalarNode("current-context")] = new YamlScalarNode(name);
        using var writer = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        var yaml = writer.ToString().ReplaceLineEndings("\n");
        if (yaml.EndsWith("...\n", StringComparison.Ordinal)) yaml = yaml[..^4];
        AtomicFile.Write(file, yaml, AtomicFile.OwnerOnly);
    }

    private static void Put(YamlMappingNode root, string file, string list, string name, string field, Dictionary<object, object?> value)
    {
        var key = new YamlScalarNode(list);
        YamlSequenceNode entries;
        if (!root.Children.TryGetValue(key, out var existing) || existing is YamlScalarNode { Value: null or "" or "null" or "~" })
            root.Children[key] = entries = new YamlSequenceNode();
        else entries = existing as YamlSequenceNode ?? throw new SetupException($"{file}: '{list}' is not a list; nothing was written.");
        var fields = new YamlMappingNode();
        foreach (var (k, v) in value) fields.Add((string)k, (string)v!);
        var entry = new YamlMappingNode { { "name", name }, { field, fields } };
        var index = entries.Children.ToList().FindIndex(e => e is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode("name"), out var n)
            && n is YamlScalarNode { Value: var v } && v == name);
        if (index >= 0) entries.Children[index] = entry;
        else entries.Add(entry);
    }
}
