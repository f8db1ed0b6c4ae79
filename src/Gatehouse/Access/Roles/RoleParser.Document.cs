using System.Text.RegularExpressions;

namespace Gatehouse.Access.Roles;

internal static partial class RoleParser
{
    private static readonly string[] RoleKeys = ["kind", "name", "allow", "deny", "options"];
    private static readonly string[] ConditionKeys =
        ["logins", "node_labels", "app_labels", "db_labels", "db_users", "db_names", "kube_labels", "kube_groups", "kube_users"];
    private static readonly string[] OptionKeys = ["max_session_ttl"];

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]*$")]
    private static partial Regex RoleName();

    /// <summary>Turns one document into a role, adding every problem to the shared error list.</summary>
    private sealed class DocumentReader(string fileName, List<RoleError> errors)
    {
        /// <returns>The role when the document is valid, and the name's node whenever the name is (for duplicate checks).</returns>
        public (Role? Role, SourceScalar? NameNode) Read(SourceNode root)
        {
            if (root is not SourceMapping map)
            {
                Report(root, "kind", "a role document must be a mapping of kind, name, allow, deny and options");
                return (null, null);
            }

            var errorsBefore = errors.Count;
            SourceScalar? nameNode = null;
            string? kind = null;
            var allow = RoleConditions.Empty;
            var deny = RoleConditions.Empty;
            var options = RoleOptions.None;
            foreach (var (key, _, value) in Entries(map, "", RoleKeys))
            {
                switch (key)
                {
                    case "kind":
                        kind = ReadString(value, key);
                        if (kind is not null and not "role")
                        {
                            Report(value, key, $"'{kind}' is not a kind Gatehouse reads here: write kind: role");
                        }
                        break;
                    case "name":
                        var name = ReadString(value, key);
                        if (name is not null && !RoleName().IsMatch(name))
                        {
                            Report(value, key, $"'{name}' is not a valid role name: use lower-case letters, digits, '_', '.' and '-', starting with a letter or digit");
                        }
                        else if (name is not null)
                        {
                            nameNode = (SourceScalar)value;
                        }
                        break;
                    case "allow":
                        allow = ReadConditions(value, key);
                        break;
                    case "deny":
                        deny = ReadConditions(value, key);
                        break;
                    case "options":
                        options = ReadOptions(value, key);
                        break;
                }
            }

            if (kind is null && !map.Entries.Any(e => e.Key is SourceScalar { Value: "kind" }))
            {
                Report(map, "kind", "missing: every document of a role file starts with kind: role");
            }
            if (!map.Entries.Any(e => e.Key is SourceScalar { Value: "name" }))
            {
                Report(map, "name", "missing: give the role a name, e.g. name: dev");
            }

            var role = errors.Count == errorsBefore && nameNode is not null ? new Role(nameNode.Value, allow, deny, options) : null;
            return (role, nameNode);
        }

        /// <summary>The mapping a section (allow, deny, a label set, options) holds; null when the section is empty, or when
        /// it is not a mapping, which is reported as a mapping of <paramref name="contents"/>.</summary>
        private SourceMapping? Section(SourceNode node, string path, string contents)
        {
            if (node is SourceScalar { IsNull: true })
            {
                return null;
            }
            if (node is not SourceMapping map)
            {
                Report(node, path, $"must be a mapping of {contents}");
                return null;
            }
            return map;
        }

        /// <summary>Reads a section of known keys (allow, deny, options) into one value, key by key, starting from
        /// <paramref name="empty"/>: what an empty or malformed section reads as.</summary>
        private T ReadSection<T>(SourceNode node, string path, string[] keys, T empty, Func<T, string, SourceNode, string, T> apply)
        {
            if (Section(node, path, string.Join(", ", keys)) is not { } map)
            {
                return empty;
            }
            var result = empty;
            foreach (var (key, _, value) in Entries(map, path, keys))
            {
                result = apply(result, key, value, $"{path}.{key}");
            }
            return result;
        }

        private RoleConditions ReadConditions(SourceNode node, string path) =>
            ReadSection(node, path, ConditionKeys, RoleConditions.Empty, (conditions, key, value, keyPath) => key switch
            {
                "logins" => conditions with { Logins = ReadValues(value, keyPath, ValidateListValue) },
                "node_labels" => conditions with { NodeLabels = ReadLabels(value, keyPath) },
                "app_labels" => conditions with { AppLabels = ReadLabels(value, keyPath) },
                "db_labels" => conditions with { DbLabels = ReadLabels(value, keyPath) },
                "db_users" => conditions with { DbUsers = ReadValues(value, keyPath, ValidateListValue) },
                "db_names" => conditions with { DbNames = ReadValues(value, keyPath, ValidateListValue) },
                "kube_labels" => conditions with { KubeLabels = ReadLabels(value, keyPath) },
                "kube_groups" => conditions with { KubeGroups = ReadValues(value, keyPath, ValidateListValue) },
                "kube_users" => conditions with { KubeUsers = ReadValues(value, keyPath, ValidateListValue) },
                _ => conditions,
            });

        private IReadOnlyDictionary<string, IReadOnlyList<string>> ReadLabels(SourceNode node, string path)
        {
            if (Section(node, path, "label key to a value or list of values, e.g. { env: [dev, staging] }") is not { } map)
            {
                return RoleLabels.None;
            }

            var labels = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var (key, keyNode, value) in Entries(map, path, allowed: null))
            {
                var keyPath = $"{path}.{key}";
                if (TraitTemplate.LooksLikeTemplate(key))
                {
                    Report(keyNode, keyPath, $"label key '{key}' holds a template: templates are allowed in label values, not keys");
                    continue;
                }
                if (value is SourceScalar { IsNull: true })
                {
                    Report(value, keyPath, $"label '{key}' has no value: write {key}: '*' to accept any value");
                    continue;
                }
                var values = ReadValues(value, keyPath, ValidateLabelValue);
                if (key == RoleLabels.Wildcard && values is not [RoleLabels.Wildcard])
                {
                    Report(value, keyPath, "the key '*' takes only the value '*' (match every resource): write '*': '*'");
                    continue;
                }
                labels[key] = values;
            }
            return labels;
        }

        /// <summary>Options: max_session_ttl, the only one so far.</summary>
        private RoleOptions ReadOptions(SourceNode node, string path) =>
            ReadSection(node, path, OptionKeys, RoleOptions.None, (options, _, value, keyPath) =>
            {
                var text = ReadString(value, keyPath);
                if (text is null)
                {
                    return options;
                }
                if (!Durations.TryParse(text, out var ttl))
                {
                    Report(value, keyPath, $"'{text}' is not a duration: write one like 8h, 30m, 1h30m or 2d");
                    return options;
                }
                return options with { MaxSessionTtl = ttl };
            });

        /// <summary>A string or a list of strings (a scalar is a one-element list); null means none.</summary>
        private List<string> ReadValues(SourceNode node, string path, Func<string, string?> validate)
        {
            IReadOnlyList<SourceNode> items = node switch
            {
                SourceScalar { IsNull: true } => [],
                SourceSequence sequence => sequence.Items,
                _ => [node],
            };
            var values = new List<string>(items.Count);
            foreach (var item in items)
            {
                var value = ReadString(item, path);
                if (value is null)
                {
                    continue;
                }
                if (validate(value) is { } problem)
                {
                    Report(item, path, problem);
                    continue;
                }
                values.Add(value);
            }
            return values;
        }

        private static string? ValidateListValue(string value) =>
            value.Length == 0 ? "empty value: remove it or write the name" : TraitTemplate.TryParse(value, out _);

        private static string? ValidateLabelValue(string value) =>
            TraitTemplate.LooksLikeTemplate(value) ? TraitTemplate.TryParse(value, out _) : LabelPattern.Validate(value);

        private string? ReadString(SourceNode node, string path)
        {
            switch (node)
            {
                case SourceScalar { IsNull: false } scalar:
                    return scalar.Value;
                case SourceScalar:
                    Report(node, path, "empty value: write a string (quote it if it looks like something else)");
                    return null;
                default:
                    Report(node, path, $"must be a string, not a {(node is SourceMapping ? "mapping" : "list")}");
                    return null;
            }
        }

        /// <summary>Keys of a mapping, refusing non-string, duplicate and (when <paramref name="allowed"/> is given) unknown keys.</summary>
        private IEnumerable<(string Key, SourceNode KeyNode, SourceNode Value)> Entries(SourceMapping map, string path, IReadOnlyList<string>? allowed)
        {
            var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (keyNode, value) in map.Entries)
            {
                if (keyNode is not SourceScalar { IsNull: false } keyScalar)
                {
                    Report(keyNode, path.Length == 0 ? "(key)" : path, "keys must be strings");
                    continue;
                }
                var key = keyScalar.Value;
                var keyPath = path.Length == 0 ? key : $"{path}.{key}";
                if (firstLine.TryGetValue(key, out var line))
                {
                    Report(keyNode, keyPath, $"duplicate key (first at line {line}): keep one");
                    continue;
                }
                firstLine[key] = (int)keyNode.Start.Line;
                if (allowed is not null && !allowed.Contains(key))
                {
                    Report(keyNode, keyPath, $"unknown key '{key}'{Hint(key)}; allowed here: {string.Join(", ", allowed)}");
                    continue;
                }
                yield return (key, keyNode, value);
            }
        }

        // Teleport's own role files nest the name under metadata and the rules under spec; say how to translate.
        private static string Hint(string key) => key switch
        {
            "metadata" => " (Gatehouse takes the name at the top level: name: dev)",
            "spec" => " (Gatehouse takes allow, deny and options at the top level)",
            "version" => " (Gatehouse roles have no version)",
            _ => "",
        };

        private void Report(SourceNode node, string key, string message) =>
            errors.Add(new RoleError(fileName, (int)node.Start.Line, (int)node.Start.Column, key, message));
    }
}
