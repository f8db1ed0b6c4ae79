using System.Collections;
using System.Globalization;
using System.Reflection;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Gatehouse.Cli.Configuration;

/// <summary>
/// Binds a YAML document to <see cref="ConfigFile"/>'s shape, node by node, so every problem says the key path, the line,
/// what was expected and the keys allowed there — not .NET type names (YamlDotNet's deserializer stops at the first
/// problem and names types). It forgives what people write: a single value where a list of values is expected
/// (<c>public_addr: localhost</c>, as Teleport's configuration takes it) is a list of one.
/// </summary>
internal sealed class ConfigBinder
{
    private readonly List<string> _errors = [];

    public static (ConfigFile File, IReadOnlyList<string> Errors) Bind(YamlNode? root) => Bind<ConfigFile>(root);

    /// <summary>Binds to any file shape made the same way (properties with <see cref="YamlMemberAttribute.Alias"/>): gatehouse.yaml, edge.yaml.</summary>
    public static (T File, IReadOnlyList<string> Errors) Bind<T>(YamlNode? root) where T : class, new()
    {
        var binder = new ConfigBinder();
        var file = root is null || IsNull(root) ? new T() : (T?)binder.Bind(root, typeof(T), "") ?? new T();
        return (file, binder._errors);
    }

    private object? Bind(YamlNode node, Type type, string path, ConfigHintAttribute? hint = null)
    {
        if (IsNull(node)) return null;
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
            return node is YamlScalarNode scalar ? scalar.Value : Mismatch(node, path, hint?.Expected ?? "a single value", hint?.Example);
        if (type == typeof(int))
            return node is YamlScalarNode { Value: { } digits } && int.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                ? number : Mismatch(node, path, hint?.Expected ?? "a whole number", hint?.Example ?? "4");
        if (type == typeof(bool))
            return node is YamlScalarNode { Value: { } flag } && bool.TryParse(flag, out var value)
                ? value : Mismatch(node, path, "true or false", hint?.Example);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            return BindList(node, type, path, hint);
        if (type == typeof(Dictionary<string, string>))
            return BindDictionary(node, path, hint);
        return BindSection(node, type, path, hint);
    }

    private object? BindList(YamlNode node, Type type, string path, ConfigHintAttribute? hint)
    {
        var itemType = type.GetGenericArguments()[0];
        var list = (IList)Activator.CreateInstance(type)!;
        if (node is YamlScalarNode && itemType == typeof(string))
        {
            list.Add(Bind(node, itemType, path)); // one value where a list is expected: a list of one
            return list;
        }
        if (node is not YamlSequenceNode sequence)
            return Mismatch(node, path, hint?.Expected ?? (itemType == typeof(string) ? "a value or a list of them" : "a list"),
                hint?.Example ?? (itemType == typeof(string) ? "[a, b]" : $"[ {{ {string.Join(", ", Keys(itemType).Take(2).Select(k => k + ": …"))} }} ]"));
        for (var i = 0; i < sequence.Children.Count; i++)
            list.Add(Bind(sequence.Children[i], itemType, $"{path}[{i}]"));
        return list;
    }

    private Dictionary<string, string>? BindDictionary(YamlNode node, string path, ConfigHintAttribute? hint)
    {
        if (node is not YamlMappingNode mapping)
            return Mismatch(node, path, hint?.Expected ?? "a mapping of names to values", hint?.Example ?? "{ env: prod }") as Dictionary<string, string>;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (valueNode is YamlScalarNode { Value: var value }) result[key] = value ?? "";
            else Mismatch(valueNode, $"{path}.{key}", "a single value", "{ env: prod }");
        }
        return result;
    }

    private object? BindSection(YamlNode node, Type type, string path, ConfigHintAttribute? hint)
    {
        var properties = Properties(type);
        if (node is not YamlMappingNode mapping)
            return Mismatch(node, path, hint?.Expected ?? $"keys ({string.Join(", ", properties.Keys)})", hint?.Example);
        var section = Activator.CreateInstance(type)!;
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            var keyPath = path.Length == 0 ? key : $"{path}.{key}";
            if (!properties.TryGetValue(key, out var property))
            {
                var near = properties.Keys.FirstOrDefault(k => Distance(k, key) <= 2);
                _errors.Add($"{keyPath} (line {keyNode.Start.Line}): unknown key{(near is null ? "" : $" (did you mean {near}?)")}; " +
                           $"the keys allowed {(path.Length == 0 ? "at the top level" : "in " + path)} are: {string.Join(", ", properties.Keys)}");
                continue;
            }
            property.SetValue(section, Bind(valueNode, property.PropertyType, keyPath, property.GetCustomAttribute<ConfigHintAttribute>()));
        }
        return section;
    }

    private object? Mismatch(YamlNode node, string path, string expected, string? example)
    {
        var found = node switch { YamlSequenceNode => "a list", YamlMappingNode => "a mapping", YamlScalarNode s => $"'{s.Value}'", _ => "something else" };
        _errors.Add($"{(path.Length == 0 ? "the file" : path)} (line {node.Start.Line}): expected {expected}{(example is null ? "" : $", e.g. {example}")}; found {found}");
        return null;
    }

    /// <summary>An empty value, <c>~</c> or <c>null</c> written plainly: the key is as if unset.</summary>
    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static IEnumerable<string> Keys(Type type) => Properties(type).Keys;

    private static Dictionary<string, PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<YamlMemberAttribute>()?.Alias is not null)
            .ToDictionary(p => p.GetCustomAttribute<YamlMemberAttribute>()!.Alias!, StringComparer.Ordinal);

    /// <summary>Edit distance, for "did you mean": a typo of one or two letters names the key it was meant to be.</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }
}

/// <summary>What a configuration key takes, in words and by example, for the message when something else is written there.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class ConfigHintAttribute(string expected, string example) : Attribute
{
    public string Expected { get; } = expected;
    public string Example { get; } = example;
}
