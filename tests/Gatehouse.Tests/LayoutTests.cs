using System.Text.RegularExpressions;

namespace Gatehouse.Tests;

/// <summary>
/// The layout tells the architecture (STYLE.md habit 1, issue 12): folder = namespace = one concept, dependencies point
/// one way, and files stay small enough to read. These read the sources under src/ as text.
/// </summary>
public sealed partial class LayoutTests
{
    private const int MaxLines = 400;

    [Fact]
    public void No_folder_depends_on_a_folder_that_depends_on_it()
    {
        var files = SourceFiles();
        var graph = FolderGraph(files, out var because);
        var cycles = StronglyConnected(graph).Where(c => c.Count > 1).ToList();
        Assert.True(cycles.Count == 0, string.Join("\n", cycles.Select(cycle =>
            "cycle: " + string.Join(" ⇄ ", cycle) + "\n" + string.Join("\n",
                from a in cycle from b in cycle where graph[a].Contains(b) select $"  {a} → {b}: {string.Join(", ", because[(a, b)].Take(3))}"))));
    }

    [Fact]
    public void No_source_file_is_longer_than_the_limit()
    {
        var repo = RepositoryRoot();
        var tooLong = SourceFiles()
            .Select(f => (File: Path.GetRelativePath(repo, f.Path), Lines: f.Text.Count(c => c == '\n')))
            .Where(f => f.Lines > MaxLines)
            .Select(f => $"{f.File}: {f.Lines} lines")
            .ToList();
        Assert.True(tooLong.Count == 0, $"split these by aspect (Name.Aspect.cs), at most {MaxLines} lines each:\n" + string.Join("\n", tooLong));
    }

    [Fact]
    public void The_graph_sees_usings_qualified_names_and_sibling_folders()
    {
        // The reader itself, on three small sources: a cycle through a using and a sibling-qualified name is found.
        var files = new List<SourceFile>
        {
            new("a.cs", "using Gatehouse.Beta;\nnamespace Gatehouse.Alpha;\nclass A { }\n"),
            new("b.cs", "namespace Gatehouse.Beta;\nclass B { Alpha.A? a; }\n"),
            new("c.cs", "namespace Gatehouse.Proxy.Gamma;\nclass C { Gatehouse.Alpha.A? a; }\n"),
        };
        var graph = FolderGraph(files, out _);
        Assert.Equal(["Gatehouse.Beta"], graph["Gatehouse.Alpha"]);
        Assert.Equal(["Gatehouse.Alpha"], graph["Gatehouse.Beta"]);
        Assert.Equal(["Gatehouse.Alpha"], graph["Gatehouse.Proxy.Gamma"]);
        Assert.Single(StronglyConnected(graph), c => c.Count == 2);
    }

    private sealed record SourceFile(string Path, string Text);

    /// <summary>The folder a namespace belongs to: Gatehouse.X in the core, Gatehouse.Proxy.X (Client, Cli, Edge) elsewhere.</summary>
    private static string Folder(string ns)
    {
        var parts = ns.Split('.');
        var depth = parts.Length >= 2 && parts[1] is "Proxy" or "Client" or "Cli" or "Edge" ? 3 : 2;
        return string.Join('.', parts.Take(depth));
    }

    private static string Parent(string folder) => folder.Contains('.') ? folder[..folder.LastIndexOf('.')] : "";

    private static Dictionary<string, HashSet<string>> FolderGraph(IReadOnlyList<SourceFile> files, out Dictionary<(string, string), List<string>> because)
    {
        var folderOf = new Dictionary<SourceFile, string>();
        foreach (var file in files)
            if (NamespaceLine().Match(file.Text) is { Success: true } match) folderOf[file] = Folder(match.Groups[1].Value);
        var folders = folderOf.Values.ToHashSet();
        var graph = folders.ToDictionary(f => f, _ => new HashSet<string>());
        because = [];
        foreach (var (file, me) in folderOf)
        {
            var referenced = new HashSet<string>();
            foreach (Match m in UsingLine().Matches(file.Text)) referenced.Add(Folder(m.Groups[1].Value));
            foreach (Match m in QualifiedName().Matches(file.Text)) referenced.Add(Folder(m.Groups[1].Value));
            // Inside Gatehouse.Proxy.Routing, "Sessions.WebSession" names the sibling folder Gatehouse.Proxy.Sessions.
            var parent = Parent(me);
            var body = UsingLine().Replace(file.Text, "");
            foreach (var sibling in folders.Where(f => f != me && Parent(f) == parent))
                if (Regex.IsMatch(body, $@"(?<![\w.]){Regex.Escape(sibling[(sibling.LastIndexOf('.') + 1)..])}\.[A-Z]\w*")) referenced.Add(sibling);
            foreach (var other in referenced.Where(r => r != me && folders.Contains(r)))
            {
                graph[me].Add(other);
                if (!because.TryGetValue((me, other), out var list)) because[(me, other)] = list = [];
                list.Add(Path.GetFileName(file.Path));
            }
        }
        return graph;
    }

    /// <summary>Tarjan's strongly connected components; a component of more than one folder is a cycle.</summary>
    private static List<List<string>> StronglyConnected(Dictionary<string, HashSet<string>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var components = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph[v])
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string top;
            do
            {
                top = stack.Pop();
                onStack.Remove(top);
                component.Add(top);
            } while (top != v);
            components.Add([.. component.Order()]);
        }
        foreach (var v in graph.Keys.Order()) if (!index.ContainsKey(v)) Visit(v);
        return components;
    }

    private static List<SourceFile> SourceFiles()
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        return [.. Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(p => new SourceFile(p, File.ReadAllText(p)))];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no Gatehouse.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^using (?:static )?(?:\w+ = )?(Gatehouse[\w.]*)", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"\b(Gatehouse\.[\w.]+)\.[A-Z]\w*")]
    private static partial Regex QualifiedName();
}
