using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Client.LocalProxies;
using Gatehouse.Storage;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Client.Kube;

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

    /// <summary>A kubeconfig for the local proxy: its CA and the one client certificate it accepts, embedded.</summary>
    public static string ForLocalProxy(string cluster, int port, LocalCertificates certificates)
    {
        static string Data(string pem) => Convert.ToBase64String(Encoding.ASCII.GetBytes(pem));
        using var key = certificates.Client.GetECDsaPrivateKey()!;
        var entry = $"gatehouse-local-{cluster}";
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: {entry}
              cluster:
                server: https://127.0.0.1:{port}
                certificate-authority-data: {Data(certificates.Authority.ExportCertificatePem())}
            users:
            - name: {entry}
              user:
                client-certificate-data: {Data(certificates.Client.ExportCertificatePem())}
                client-key-data: {Data(key.ExportPkcs8PrivateKeyPem())}
            contexts:
            - name: {entry}
              context:
                cluster: {entry}
                user: {entry}
            current-context: {entry}

            """;
    }
}
