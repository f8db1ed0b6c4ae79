using Gatehouse.Access.Roles;

namespace Gatehouse.Tests.Access.Roles;

public sealed class RoleParserTests
{
    private const string Example = """
        kind: role
        name: dev
        allow:
          logins: [ubuntu, '{{internal.logins}}']
          node_labels: { env: [dev, staging] }
          app_labels: { '*': '*' }
          db_labels: { env: dev }
          db_users: [app]
          db_names: ['*']
          kube_labels: { env: dev }
          kube_groups: [developers]
          kube_users: []
        deny: { node_labels: { env: prod } }
        options: { max_session_ttl: 8h }

        """;

    [Fact]
    public void The_documented_example_parses_into_every_field()
    {
        var result = RoleParser.Parse(Example, "dev.yaml");

        Assert.True(result.IsSuccess, string.Join("\n", result.Errors));
        var parsed = Assert.Single(result.Roles);
        Assert.Equal(Example, parsed.Definition);
        var role = parsed.Role;
        Assert.Equal("dev", role.Name);
        Assert.Equal(["ubuntu", "{{internal.logins}}"], role.Allow.Logins);
        Assert.Equal(["dev", "staging"], role.Allow.NodeLabels["env"]);
        Assert.Equal(["*"], role.Allow.AppLabels["*"]);
        Assert.Equal(["dev"], role.Allow.DbLabels["env"]); // a scalar is a one-element list
        Assert.Equal(["app"], role.Allow.DbUsers);
        Assert.Equal(["*"], role.Allow.DbNames);
        Assert.Equal(["dev"], role.Allow.KubeLabels["env"]);
        Assert.Equal(["developers"], role.Allow.KubeGroups);
        Assert.Empty(role.Allow.KubeUsers);
        Assert.Equal(["prod"], role.Deny.NodeLabels["env"]);
        Assert.Empty(role.Deny.Logins);
        Assert.Equal(TimeSpan.FromHours(8), role.Options.MaxSessionTtl);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Several_documents_parse_and_each_keeps_its_text_exactly(string newline)
    {
        string[] documents =
        [
            "# the first role\nkind: role\nname: a\n",
            "kind: role   # trailing comment\nname: b\nallow:\n  logins: [x]\n\n",
            "kind: role\nname: c\noptions:\n  max_session_ttl: 1h30m\n",
        ];
        var text = ("---\n" + documents[0] + "---\n" + documents[1] + "--- # third\n" + documents[2] + "---\n").Replace("\n", newline, StringComparison.Ordinal);

        var result = RoleParser.Parse(text, "roles.yaml");

        Assert.True(result.IsSuccess, string.Join("\n", result.Errors));
        Assert.Equal(["a", "b", "c"], result.Roles.Select(r => r.Role.Name));
        Assert.Equal(documents.Select(d => d.Replace("\n", newline, StringComparison.Ordinal)), result.Roles.Select(r => r.Definition));
        Assert.Equal(TimeSpan.FromMinutes(90), result.Roles[2].Role.Options.MaxSessionTtl);

        // What the store keeps parses back to the same role on its own.
        foreach (var parsed in result.Roles)
        {
            var again = RoleParser.Parse(parsed.Definition, parsed.Role.Name);
            Assert.True(again.IsSuccess, string.Join("\n", again.Errors));
            Assert.Equal(parsed.Role.Name, Assert.Single(again.Roles).Role.Name);
            Assert.Equal(parsed.Definition, again.Roles[0].Definition);
        }
    }

    [Fact]
    public void A_first_document_without_a_marker_keeps_its_leading_comments()
    {
        var text = "# team roles\nkind: role\nname: a\n---\nkind: role\nname: b\n";

        var result = RoleParser.Parse(text, "roles.yaml");

        Assert.Equal(["# team roles\nkind: role\nname: a\n", "kind: role\nname: b\n"], result.Roles.Select(r => r.Definition));
    }

    [Theory]
    [InlineData("kind: user\nname: dev\n", 1, 7, "kind", "'user' is not a kind")]
    [InlineData("name: dev\n", 1, 1, "kind", "missing")]
    [InlineData("kind: role\n", 1, 1, "name", "missing")]
    [InlineData("kind: role\nname: Dev\n", 2, 7, "name", "'Dev' is not a valid role name")]
    [InlineData("kind: role\nname: -dev\n", 2, 7, "name", "starting with a letter or digit")]
    [InlineData("kind: role\nname: dev\nmetadata: {name: dev}\n", 3, 1, "metadata", "allowed here: kind, name, allow, deny, options")]
    [InlineData("kind: role\nname: dev\nallow:\n  node_lables: {env: dev}\n", 4, 3, "allow.node_lables", "unknown key 'node_lables'; allowed here: logins, node_labels,")]
    [InlineData("kind: role\nname: dev\noptions: {max_ttl: 1h}\n", 3, 11, "options.max_ttl", "allowed here: max_session_ttl")]
    [InlineData("kind: role\nname: dev\nallow: [a]\n", 3, 8, "allow", "must be a mapping")]
    [InlineData("kind: role\nname: dev\nname: ops\n", 3, 1, "name", "duplicate key (first at line 2)")]
    [InlineData("kind: role\nname: dev\nallow:\n  logins: [{a: b}]\n", 4, 12, "allow.logins", "must be a string, not a mapping")]
    [InlineData("kind: role\nname: dev\nallow:\n  node_labels: {env: {a: b}}\n", 4, 22, "allow.node_labels.env", "must be a string, not a mapping")]
    [InlineData("kind: role\nname: dev\nallow:\n  node_labels: [env]\n", 4, 16, "allow.node_labels", "must be a mapping of label key")]
    [InlineData("kind: role\nname: dev\nallow:\n  node_labels:\n    env:\n", 5, 9, "allow.node_labels.env", "has no value")]
    [InlineData("kind: role\nname: dev\ndeny:\n  node_labels: {env: '^(prod$'}\n", 4, 22, "deny.node_labels.env", "regex '^(prod$' does not compile")]
    [InlineData("kind: role\nname: dev\nallow:\n  db_labels: {env: '^prod'}\n", 4, 20, "allow.db_labels.env", "'^prod' starts with ^ but does not end with $")]
    [InlineData("kind: role\nname: dev\nallow:\n  app_labels: {'*': dev}\n", 4, 21, "allow.app_labels.*", "the key '*' takes only the value '*'")]
    [InlineData("kind: role\nname: dev\nallow:\n  kube_labels: {'{{internal.env}}': dev}\n", 4, 17, "allow.kube_labels.{{internal.env}}", "templates are allowed in label values, not keys")]
    [InlineData("kind: role\nname: dev\nallow:\n  logins: ['{{internal.}}']\n", 4, 12, "allow.logins", "names no trait")]
    [InlineData("kind: role\nname: dev\nallow:\n  kube_users: ['{{claims.email}}']\n", 4, 16, "allow.kube_users", "unknown template namespace 'claims'")]
    [InlineData("kind: role\nname: dev\nallow:\n  db_users: ['{{internal.db_users']\n", 4, 14, "allow.db_users", "unbalanced braces in '{{internal.db_users'")]
    [InlineData("kind: role\nname: dev\nallow:\n  node_labels: {owner: 'x-{{internal.user}'}\n", 4, 24, "allow.node_labels.owner", "unbalanced braces")]
    [InlineData("kind: role\nname: dev\nallow:\n  db_names: ['']\n", 4, 14, "allow.db_names", "empty value")]
    [InlineData("kind: role\nname: dev\noptions:\n  max_session_ttl: 8 hours\n", 4, 20, "options.max_session_ttl", "'8 hours' is not a duration: write one like 8h")]
    [InlineData("kind: role\nname: dev\noptions:\n  max_session_ttl: 0h\n", 4, 20, "options.max_session_ttl", "is not a duration")]
    [InlineData("kind: role\nname: dev\n---\nkind: role\nname: dev\n", 5, 7, "name", "role 'dev' is already defined at line 2")]
    [InlineData("[kind, role]\n", 1, 1, "kind", "a role document must be a mapping")]
    [InlineData("# nothing here\n", 1, 1, "kind", "the file holds no role")]
    public void Each_kind_of_error_names_its_line_column_and_key(string text, int line, int column, string key, string message)
    {
        var result = RoleParser.Parse(text, "roles.yaml");

        Assert.False(result.IsSuccess);
        Assert.Empty(result.Roles);
        var error = Assert.Single(result.Errors);
        Assert.Equal(("roles.yaml", line, column, key), (error.File, error.Line, error.Column, error.Key));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"roles.yaml:{line}:{column}: {key}: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_error_of_every_document_is_reported_at_once_in_order()
    {
        const string text = """
            kind: role
            name: ok
            ---
            kind: rol
            name: Bad
            allow:
              logins: ['{{internal.}}']
              node_labels: { env: '^(x$' }
            ---
            kind: role
            name: ok
            options: { max_session_ttl: soon, colour: red }
            """;

        var result = RoleParser.Parse(text, "team.yaml");

        Assert.Empty(result.Roles);
        Assert.Equal(
            [
                "team.yaml:4:7: kind",
                "team.yaml:5:7: name",
                "team.yaml:7:12: allow.logins",
                "team.yaml:8:23: allow.node_labels.env",
                "team.yaml:11:7: name",
                "team.yaml:12:29: options.max_session_ttl",
                "team.yaml:12:35: options.colour",
            ],
            result.Errors.Select(e => $"{e.File}:{e.Line}:{e.Column}: {e.Key}"));
    }

    [Theory]
    [InlineData("kind: role\nname: [dev\n", 3)]
    [InlineData("kind: role\n  name: dev\n", 2)]
    [InlineData("kind: role\nname: dev\nallow: {logins: [a}\n", 3)]
    [InlineData("kind: role\nname: *nowhere\n", 2)]
    [InlineData("\"unterminated\n", 1)] // where the quote opens
    [InlineData("kind: role\n\tname: dev\n", 1)] // where the scalar the tab breaks starts
    public void Broken_yaml_is_one_error_with_its_line(string text, int line)
    {
        var result = RoleParser.Parse(text, "broken.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal("yaml", error.Key);
        Assert.True(line == error.Line, error.ToString());
        Assert.Contains("fix the YAML syntax", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Idx:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_never_throws()
    {
        var random = new Random(20240611);
        const string alphabet = "kind: role\n-[]{}'\"*&!|>%@`#?,.^$ \t\r\n";
        for (var i = 0; i < 2000; i++)
        {
            var chars = new char[random.Next(0, 80)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }
            var result = RoleParser.Parse(new string(chars), "fuzz.yaml");
            Assert.Equal(result.IsSuccess, result.Roles.Count > 0);
        }

        var deep = RoleParser.Parse(new string('[', 5000), "deep.yaml");
        Assert.Equal("yaml", Assert.Single(deep.Errors).Key);
    }
}
