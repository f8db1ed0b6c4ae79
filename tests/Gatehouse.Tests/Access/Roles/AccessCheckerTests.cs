using Gatehouse.Access.Roles;

namespace Gatehouse.Tests.Access.Roles;

/// <summary>
/// The decision table: each row names some roles of <see cref="Library"/>, a resource and what is asked,
/// and the expected outcome with the words of its reason.
/// </summary>
public sealed class AccessCheckerTests
{
    private const string Library = """
        kind: role
        name: dev
        allow:
          logins: [ubuntu, '{{internal.logins}}', 'admin-{{external.groups}}-x', '{{internal.missing}}']
          node_labels: { env: [dev, staging] }
          app_labels: { team: 'web-*' }
          db_labels: { env: dev }
          db_users: [app, '{{internal.db_users}}']
          db_names: ['*']
          kube_labels: { env: dev }
          kube_groups: [developers, viewers]
          kube_users: ['{{internal.kube_users}}']
        options: { max_session_ttl: 8h }
        ---
        kind: role
        name: admin
        allow:
          logins: [root, alice]
          node_labels: { '*': '*' }
        ---
        kind: role
        name: contractor
        allow:
          logins: [contractor]
          node_labels: { '*': '*' }
        deny:
          node_labels: { env: 'prod*' }
          logins: [root]
          kube_groups: [viewers]
        options: { max_session_ttl: 2h }
        ---
        kind: role
        name: auditor
        allow:
          logins: [auditor]
          node_labels: { env: prod, team: '^(audit|sec)$' }
          app_labels: {}
          db_labels: { '*': '*' }
          db_users: [readonly]
          db_names: [reports]
        ---
        kind: role
        name: dba
        allow:
          db_labels: { env: '*' }
          db_users: ['*']
          db_names: ['*']
        deny:
          db_users: [postgres]
        ---
        kind: role
        name: ops
        allow:
          app_labels: { env: '^prod-[0-9]+$' }
          kube_labels: { '*': '*' }
          kube_groups: [ops, viewers]
          kube_users: ['{{internal.missing}}']
        deny:
          db_names: ['*']
        ---
        kind: role
        name: owner
        allow:
          logins: ['{{internal.logins}}']
          node_labels: { owner: '{{internal.owner}}', tier: ['{{internal.missing}}', web] }
        ---
        kind: role
        name: viewer
        allow:
          kube_labels: { env: '*' }
          kube_groups: [viewers]
        """;

    private static readonly IReadOnlyDictionary<string, Role> Roles = LoadLibrary();

    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Traits = new Dictionary<string, IReadOnlyList<string>>
    {
        ["logins"] = ["alice", "bob"],
        ["groups"] = ["eng"],
        ["db_users"] = ["alice_rw"],
        ["kube_users"] = ["alice@corp"],
        ["owner"] = ["alice"],
    };

    [Theory]
    // allowed, with templates: plain, several trait values, prefix and suffix
    [InlineData("dev", "env=dev", "ubuntu", true, "allowed by role dev")]
    [InlineData("dev", "env=staging", "alice", true, "allowed by role dev")]
    [InlineData("dev", "env=staging", "bob", true, "allowed by role dev")]
    [InlineData("dev", "env=dev", "admin-eng-x", true, "allowed by role dev")]
    [InlineData("dev", "env=dev", "{{internal.missing}}", false, "role dev does not allow login '{{internal.missing}}'")]
    // labels match but the login is not in that role
    [InlineData("dev", "env=dev", "root", false, "role dev does not allow login 'root' on node 'web-1' (logins it allows: ubuntu, alice, bob, admin-eng-x)")]
    // labels do not match: other value, key missing
    [InlineData("dev,auditor", "env=qa", "ubuntu", false, "no role allows login 'ubuntu' on node 'web-1' (roles: dev, auditor; none has node_labels matching it)")]
    [InlineData("dev", "team=web", "ubuntu", false, "no role allows login 'ubuntu' on node 'web-1'")]
    [InlineData("", "env=dev", "ubuntu", false, "(roles: none;")]
    // '*': '*' matches every node, even one without labels
    [InlineData("admin", "", "root", true, "allowed by role admin")]
    [InlineData("dev,admin", "env=dev", "root", true, "allowed by role admin")]
    // deny wins: by labels (glob) and by list, over another role's allow
    [InlineData("dev,contractor", "env=prod-eu", "ubuntu", false, "denied by role contractor (deny node_labels env=prod*)")]
    [InlineData("admin,contractor", "env=dev", "root", false, "denied by role contractor (deny logins 'root')")]
    [InlineData("admin,contractor", "env=dev", "alice", true, "allowed by role admin")]
    // multi-key maps with a regex: every key must match, the regex is anchored
    [InlineData("auditor", "env=prod,team=audit", "auditor", true, "allowed by role auditor")]
    [InlineData("auditor", "env=prod,team=sec", "auditor", true, "allowed by role auditor")]
    [InlineData("auditor", "env=prod,team=security", "auditor", false, "no role allows")]
    [InlineData("auditor", "env=prod", "auditor", false, "no role allows")]
    // templates in label values; a missing trait drops only its own value
    [InlineData("owner", "owner=alice,tier=web", "bob", true, "allowed by role owner")]
    [InlineData("owner", "owner=bob,tier=web", "bob", false, "no role allows")]
    public void Node(string roles, string labels, string login, bool allowed, string reason)
    {
        var decision = Checker(roles).CheckNode("web-1", Labels(labels), login);

        AssertDecision(decision, allowed, reason);
    }

    [Theory]
    [InlineData("dev", "team=web-frontend", true, "allowed by role dev")]
    [InlineData("dev", "team=api", false, "no role allows app 'grafana' (roles: dev; none has app_labels matching it)")]
    [InlineData("auditor", "team=web-frontend", false, "no role allows app 'grafana'")] // an empty map matches nothing
    [InlineData("ops", "env=prod-12", true, "allowed by role ops")]
    [InlineData("ops", "env=prod-x12", false, "no role allows")]
    [InlineData("ops", "env=xprod-12", false, "no role allows")]
    public void App(string roles, string labels, bool allowed, string reason)
    {
        AssertDecision(Checker(roles).CheckApp("grafana", Labels(labels)), allowed, reason);
    }

    [Theory]
    [InlineData("dev", "env=dev", "app", "orders", true, "allowed by role dev")]
    [InlineData("dev", "env=dev", "alice_rw", "anything", true, "allowed by role dev")]
    [InlineData("dev", "env=dev", "postgres", "orders", false, "role dev does not allow db user 'postgres' on database 'orders'")]
    [InlineData("auditor", "env=prod", "readonly", "reports", true, "allowed by role auditor")]
    [InlineData("auditor", "", "readonly", "orders", false, "role auditor does not allow db name 'orders' on database 'orders' (db_names it allows: reports)")]
    [InlineData("dev,auditor", "env=dev", "readonly", "orders", false,
        "role dev does not allow db user 'readonly' on database 'orders' (db_users it allows: app, alice_rw); role auditor does not allow db name 'orders'")]
    [InlineData("dba", "env=prod", "anyone", "anything", true, "allowed by role dba")]
    [InlineData("dba", "team=x", "anyone", "anything", false, "no role allows db user 'anyone' on database 'orders'")]
    [InlineData("dba", "env=prod", "postgres", "orders", false, "denied by role dba (deny db_users 'postgres')")]
    [InlineData("dba,ops", "env=prod", "app", "orders", false, "denied by role ops (deny db_names '*')")]
    public void Database(string roles, string labels, string dbUser, string dbName, bool allowed, string reason)
    {
        AssertDecision(Checker(roles).CheckDatabase("orders", Labels(labels), dbUser, dbName), allowed, reason);
    }

    [Theory]
    [InlineData("dev", "env=dev", true, "alice@corp", "developers,viewers", "allowed by role dev")]
    [InlineData("dev,ops", "env=dev", true, "alice@corp", "developers,viewers,ops", "allowed by role dev")]
    [InlineData("dev,contractor", "env=dev", true, "alice@corp", "developers", "allowed by role dev")]
    [InlineData("ops,contractor", "env=prod", true, "", "ops", "allowed by role ops")]
    [InlineData("dev", "env=prod", false, "", "", "no role allows kubernetes cluster 'main' (roles: dev; none has kube_labels matching it)")]
    [InlineData("viewer,contractor", "env=qa", false, "", "", "role viewer allows kubernetes cluster 'main' but no kube_groups or kube_users")]
    public void Kube(string roles, string labels, bool allowed, string users, string groups, string reason)
    {
        var access = Checker(roles).CheckKube("main", Labels(labels));

        AssertDecision(access.Decision, allowed, reason);
        Assert.Equal(List(users), access.Users);
        Assert.Equal(List(groups), access.Groups);
    }

    [Fact]
    public void Certificate_lists_are_expanded_de_duplicated_and_stripped_of_denied_values()
    {
        var checker = Checker("dev,admin,contractor,dba,ops");

        Assert.Equal(["ubuntu", "alice", "bob", "admin-eng-x", "contractor"], checker.Logins); // root denied by contractor
        Assert.Equal(["developers", "ops"], checker.KubeGroups); // viewers denied by contractor
        Assert.Equal(["alice@corp"], checker.KubeUsers); // ops's missing trait dropped
        Assert.Equal(["app", "alice_rw", "*"], checker.DbUsers); // postgres is denied, but was never listed
        Assert.Empty(checker.DbNames); // ops denies '*'
    }

    [Theory]
    [InlineData("dev", 8 * 60)]
    [InlineData("dev,contractor", 2 * 60)]
    [InlineData("contractor,dev,admin", 2 * 60)]
    [InlineData("admin,auditor", null)]
    [InlineData("", null)]
    public void Max_session_ttl_is_the_shortest_any_role_sets(string roles, int? minutes)
    {
        Assert.Equal(minutes is null ? null : TimeSpan.FromMinutes(minutes.Value), Checker(roles).MaxSessionTtl);
    }

    [Fact]
    public void A_deny_pattern_that_a_trait_made_invalid_fails_closed()
    {
        var role = new Role("strict", RoleConditions.Empty with
        {
            Logins = ["ubuntu"],
            NodeLabels = new Dictionary<string, IReadOnlyList<string>> { ["*"] = ["*"] },
        }, RoleConditions.Empty with
        {
            NodeLabels = new Dictionary<string, IReadOnlyList<string>> { ["env"] = ["^{{internal.pattern}}$"] },
        }, RoleOptions.None);
        var traits = new Dictionary<string, IReadOnlyList<string>> { ["pattern"] = ["(unclosed"] };

        var decision = new AccessChecker([role], traits).CheckNode("web-1", Labels("env=dev"), "ubuntu");

        AssertDecision(decision, false, "denied by role strict (deny node_labels env=^(unclosed$)");
        Assert.True(new AccessChecker([role], traits).CheckNode("web-1", Labels("team=a"), "ubuntu").Allowed); // key absent: no deny
    }

    private static void AssertDecision(AccessDecision decision, bool allowed, string reason)
    {
        Assert.True(decision.Allowed == allowed, $"expected {(allowed ? "allowed" : "denied")}, got: {decision.Reason}");
        Assert.Contains(reason, decision.Reason, StringComparison.Ordinal);
        if (decision.Reason.StartsWith("no role", StringComparison.Ordinal))
        {
            Assert.Null(decision.Role);
        }
        else
        {
            Assert.Contains($"role {decision.Role} ", decision.Reason + " ", StringComparison.Ordinal);
        }
    }

    private static AccessChecker Checker(string roles) => new([.. List(roles).Select(name => Roles[name])], Traits);

    private static List<string> List(string commaSeparated) =>
        [.. commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static Dictionary<string, string> Labels(string pairs) =>
        List(pairs).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    private static Dictionary<string, Role> LoadLibrary()
    {
        var result = RoleParser.Parse(Library, "library.yaml");
        Assert.True(result.IsSuccess, string.Join("\n", result.Errors));
        return result.Roles.ToDictionary(r => r.Role.Name, r => r.Role, StringComparer.Ordinal);
    }
}
