using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gatehouse.Access.Roles;

/// <summary>A YAML node with the place it was written, so every error can name file:line:column.</summary>
internal abstract record SourceNode(Mark Start);

internal sealed record SourceScalar(Mark Start, string Value, bool IsNull) : SourceNode(Start);

internal sealed record SourceSequence(Mark Start, IReadOnlyList<SourceNode> Items) : SourceNode(Start);

/// <summary>Entries in written order, duplicates kept: the role reader reports them instead of YAML throwing.</summary>
internal sealed record SourceMapping(Mark Start, IReadOnlyList<(SourceNode Key, SourceNode Value)> Entries) : SourceNode(Start);

/// <param name="Text">The document exactly as written: after its <c>---</c> line, up to the next one.</param>
internal sealed record SourceDocument(SourceNode Root, string Text);

/// <summary>
/// Reads a multi-document YAML stream from parser events (not the representation model, which throws on a duplicate
/// key and loses nothing we need). Syntax errors surface as <see cref="YamlException"/> with their mark.
/// </summary>
internal static class YamlSourceReader
{
    // Roles are four levels deep; anything far deeper is a mistake or an attack on the recursion.
    private const int MaxDepth = 32;

    public static IReadOnlyList<SourceDocument> Read(string text)
    {
        var parser = new Parser(new StringReader(text));
        try
        {
            return ReadDocuments(parser, text);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            // YamlDotNet's scanner trips on some malformed input with these instead of a YamlException; the last
            // event it did produce is where the trouble starts.
            var mark = parser.Current?.End ?? Mark.Empty;
            throw new YamlException(mark, mark, "the YAML reader cannot follow the text here", e);
        }
    }

    private static List<SourceDocument> ReadDocuments(Parser parser, string text)
    {
        parser.Consume<StreamStart>();
        var documents = new List<SourceDocument>();
        var previousEnd = 0;
        while (parser.TryConsume<DocumentStart>(out var start))
        {
            var anchors = new Dictionary<string, SourceNode>(StringComparer.Ordinal);
            var root = ReadNode(parser, anchors, 0);
            var end = parser.Consume<DocumentEnd>();

            // An implicit end's mark is the next token: the following '---' at column 0, or the end of the stream.
            var from = start.IsImplicit ? previousEnd : AfterMarkerLine(text, (int)start.End.Index);
            var to = Math.Max(from, (int)end.Start.Index);
            documents.Add(new SourceDocument(root, text[from..to]));
            previousEnd = (int)end.End.Index;
        }
        parser.Consume<StreamEnd>();
        return documents;
    }

    private static SourceNode ReadNode(IParser parser, Dictionary<string, SourceNode> anchors, int depth)
    {
        var current = parser.Current ?? throw new YamlException("unexpected end of the YAML stream");
        if (depth > MaxDepth)
        {
            throw new YamlException(current.Start, current.End, $"nested more than {MaxDepth} levels deep");
        }

        switch (current)
        {
            case AnchorAlias alias:
                parser.MoveNext();
                return anchors.TryGetValue(alias.Value.Value, out var target)
                    ? target
                    : throw new YamlException(alias.Start, alias.End, $"alias *{alias.Value.Value} refers to no anchor defined before it");

            case Scalar scalar:
                parser.MoveNext();
                return Remember(anchors, scalar, new SourceScalar(scalar.Start, scalar.Value, IsNull(scalar)));

            case SequenceStart sequenceStart:
            {
                parser.MoveNext();
                var items = new List<SourceNode>();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    items.Add(ReadNode(parser, anchors, depth + 1));
                }
                return Remember(anchors, sequenceStart, new SourceSequence(sequenceStart.Start, items));
            }

            case MappingStart mappingStart:
            {
                parser.MoveNext();
                var entries = new List<(SourceNode, SourceNode)>();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = ReadNode(parser, anchors, depth + 1);
                    var value = ReadNode(parser, anchors, depth + 1);
                    entries.Add((key, value));
                }
                return Remember(anchors, mappingStart, new SourceMapping(mappingStart.Start, entries));
            }

            default:
                throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name} in the YAML stream");
        }
    }

    // An anchored collection is remembered once it is complete; a self-referencing alias inside it stays an error.
    private static SourceNode Remember(Dictionary<string, SourceNode> anchors, NodeEvent node, SourceNode built)
    {
        if (!node.Anchor.IsEmpty)
        {
            anchors[node.Anchor.Value] = built;
        }
        return built;
    }

    private static bool IsNull(Scalar scalar) =>
        scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty && scalar.Value is "" or "~" or "null" or "Null" or "NULL";

    /// <summary>Skips the rest of a <c>---</c> line when it holds only blanks or a comment (<c>--- {kind: role}</c> keeps its content).</summary>
    private static int AfterMarkerLine(string text, int index)
    {
        var i = index;
        while (i < text.Length && text[i] is ' ' or '\t')
        {
            i++;
        }
        if (i < text.Length && text[i] == '#')
        {
            while (i < text.Length && text[i] is not '\n' and not '\r')
            {
                i++;
            }
        }
        if (i < text.Length && text[i] == '\r')
        {
            i++;
        }
        if (i < text.Length && text[i] == '\n')
        {
            return i + 1;
        }
        return i;
    }
}
