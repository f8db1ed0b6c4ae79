namespace Gatehouse.Tests.Pki.Ssh;

/// <summary>
/// The text of <c>ssh-keygen -L</c>: "Name: value" lines indented by 8 spaces, list items
/// (principals, options, extensions) by 16 under an empty-valued header.
/// </summary>
internal sealed class SshKeygenListing
{
    private readonly Dictionary<string, string> _fields = [];
    private readonly Dictionary<string, List<string>> _lists = [];

    public static SshKeygenListing Parse(string output)
    {
        var listing = new SshKeygenListing();
        List<string>? current = null;
        foreach (var line in output.Split('\n').Skip(1).Where(l => l.Trim().Length > 0))
        {
            if (line.StartsWith("                ", StringComparison.Ordinal))
            {
                Assert.NotNull(current);
                current.Add(line.Trim());
                continue;
            }
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            Assert.True(colon > 0, $"unexpected ssh-keygen -L line '{line}'");
            var name = line[..colon].Trim();
            listing._fields[name] = line[(colon + 2)..].Trim();
            listing._lists[name] = current = [];
        }
        return listing;
    }

    public string Field(string name) =>
        _fields.TryGetValue(name, out var value) ? value : throw new Xunit.Sdk.XunitException($"ssh-keygen -L printed no '{name}'");

    public IReadOnlyList<string> List(string name)
    {
        Assert.Equal("", Field(name));
        return _lists[name];
    }
}
