using System.Text.RegularExpressions;
using YamlDotNet.Core;

namespace Gatehouse.Access.Roles;

/// <summary>
/// Reads a role file: one or more YAML documents separated by <c>---</c>, each <c>kind: role</c>. Reports every
/// error at once as <c>file:line:column: key: message</c> and never throws on what a user wrote.
/// </summary>
internal static partial class RoleParser
{
    public static RoleParseResult Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);

        IReadOnlyList<SourceDocument> documents;
        try
        {
            documents = YamlSourceReader.Read(text);
        }
        catch (YamlException e)
        {
            // Errors in the structure of a file that is not YAML would only be noise: report the syntax error alone.
            var message = SyntaxMessage(e);
            return RoleParseResult.Failure([new RoleError(fileName, (int)e.Start.Line, (int)e.Start.Column, "yaml", message)]);
        }

        var errors = new List<RoleError>();
        var roles = new List<ParsedRole>();
        var firstLineOfName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            if (document.Root is SourceScalar { IsNull: true })
            {
                continue; // an empty document, e.g. after a trailing '---'
            }

            var reader = new DocumentReader(fileName, errors);
            var (role, nameNode) = reader.Read(document.Root);
            if (nameNode is not null)
            {
                if (firstLineOfName.TryGetValue(nameNode.Value, out var firstLine))
                {
                    errors.Add(At(fileName, nameNode, "name",
                        $"role '{nameNode.Value}' is already defined at line {firstLine} of this file: rename or remove one"));
                    continue;
                }
                firstLineOfName[nameNode.Value] = (int)nameNode.Start.Line;
            }
            if (role is not null)
            {
                roles.Add(new ParsedRole(role, document.Text));
            }
        }

        if (roles.Count == 0 && errors.Count == 0)
        {
            errors.Add(new RoleError(fileName, 1, 1, "kind", "the file holds no role: write at least one document with kind: role and a name"));
        }
        return errors.Count == 0
            ? RoleParseResult.Success(roles)
            : RoleParseResult.Failure([.. errors.OrderBy(e => e.Line).ThenBy(e => e.Column)]); // stable: same place keeps its order
    }

    private static RoleError At(string fileName, SourceNode node, string key, string message) =>
        new(fileName, (int)node.Start.Line, (int)node.Start.Column, key, message);

    // YamlException.Message repeats the marks as "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the error already has them.
    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();

    private static string SyntaxMessage(YamlException e)
    {
        var message = MarkPrefix().Replace(e.Message, "").Trim().TrimEnd('.');
        message = message.Length == 0 ? "not valid YAML" : char.ToLowerInvariant(message[0]) + message[1..];
        // The mark is where the broken construct starts (an opening quote); say where the reader gave up too.
        var upTo = e.End.Line > e.Start.Line ? $" (the reader gave up at line {e.End.Line}, column {e.End.Column})" : "";
        return $"{message}{upTo}; fix the YAML syntax here (check indentation, quotes and brackets)";
    }
}
