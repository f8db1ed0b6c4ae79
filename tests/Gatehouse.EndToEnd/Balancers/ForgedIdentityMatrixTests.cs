using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.ForwardedCerts.Formats;
using Gatehouse.Testing;
using Xunit.Abstractions;

namespace Gatehouse.EndToEnd.Balancers;

/// <summary>
/// The forged-identity matrix (issue 18): every balancer format × every way a forger dresses up a certificate header —
/// from an address that is no front, duplicated, in another case or with '_', several elements in one value, oversize,
/// badly encoded, a valid certificate of a CA Gatehouse does not trust, a valid certificate that was revoked — sent
/// straight at Gatehouse and through a real nginx that passes client headers on (the worst balancer: it adds the front's
/// secret and nothing else). Not one may be accepted, and each refusal must be in the audit trail (throttled: a repeat
/// within the window, or a cached verdict, is covered by the event already written). One proxy with a front per format
/// and one nginx serve the whole table; one curl run per path sends every row.
/// </summary>
public sealed class ForgedIdentityMatrixTests(ITestOutputHelper output)
{
    private const string SecretHeader = "X-Gatehouse-Front-Secret";
    private static readonly string[] Formats = [.. ForwardedCertificateFormats.ById.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public async Task No_forged_identity_is_accepted_and_every_refusal_is_audited()
    {
        var secrets = Formats.ToDictionary(f => f, _ => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        var fronts = string.Concat(Formats.Select((f, i) => $"""

              - name: f-{f}
                format: {f}
                source_cidrs: [127.0.0.1/32]
                shared_secret_header: {"{"} name: {SecretHeader}, value_env: GH_MATRIX_SECRET_{i} {"}"}
            """));
        await using var proxy = await ProxyUnderTest.CreateAsync("matrix", "",
            Formats.Select((f, i) => (f, i)).ToDictionary(x => $"GH_MATRIX_SECRET_{x.i}", x => secrets[x.f]),
            "trusted_proxies: [127.0.0.1/32]\ntrusted_fronts:" + fronts);
        await proxy.StartProxyAsync();
        var hostCa = await proxy.ExportHostCaAsync();
        var alice = await proxy.IssueAsync("alice", "--roles", "dev");
        var bob = await proxy.IssueAsync("bob", "--roles", "dev");
        var carol = await proxy.IssueAsync("carol", "--roles", "dev");
        var elsewhere = await OpensslCa.RootAsync(proxy.Directory, "elsewhere-ca", "/O=Elsewhere/CN=Elsewhere Root CA");
        var (otherCa, _) = await elsewhere.ClientAsync("elsewhere-alice", "/CN=alice");

        // Revoked, and seen to be refused (the proxy refreshes its trust store on its own) before the table runs.
        (await proxy.Admin.RunAsync("admin", "certs", "revoke", carol.Serial, "--reason", "key-compromise")).EnsureSuccess("certs revoke");
        await PollUntilRevokedAsync(proxy, hostCa, carol.Certificate, secrets["aws-alb-passthrough"]);

        var nginxPort = Peer.FreePort();
        await using var nginx = await NginxPeer.StartAsync(_ => Task.FromResult(NginxServer(nginxPort, proxy.Port, hostCa, secrets)), nginxPort);

        var rows = Formats.SelectMany((f, i) => ForgedIdentityRows.For(f, i, alice.Certificate, bob.Certificate, otherCa, carol.Certificate)).ToList();
        using var files = new TempDirectory();
        var direct = await SendAllAsync(rows, files, "direct", row =>
        [
            // A connection each: curl would reuse one (HTTP/2, keep-alive) across transfers, whatever --interface each names.
            "--cacert", hostCa, "--http1.1", "-H", "Connection: close", .. row.Untrusted > 0 ? new[] { "--interface", $"127.0.2.{row.Untrusted}" } : [],
            "-H", $"{SecretHeader}: {secrets[row.Format]}", $"https://127.0.0.1:{proxy.Port}/v1/whoami",
        ]);
        var throughNginx = await SendAllAsync(rows, files, "nginx", row =>
        [
            "-H", $"X-Matrix-Front: {row.Format}", "-H", $"X-Matrix-Bind: 127.0.{(row.Untrusted > 0 ? 4 : 0)}.{Math.Max(1, row.Untrusted)}",
            $"http://127.0.0.1:{nginxPort}/v1/whoami",
        ]);

        var forged = await proxy.AuditAsync("--type", "forged_client_cert_header", "--limit", "10000");
        var refused = await proxy.AuditAsync("--type", "client_cert.refused", "--limit", "10000");
        var problems = new List<string>();
        foreach (var (path, answers) in new[] { ("direct", direct), ("through nginx", throughNginx) })
            for (var i = 0; i < rows.Count; i++)
            {
                var (row, answer) = (rows[i], answers[i]);
                output.WriteLine($"{path,-13} {row,-70} {answer.Status} {answer.Reason}");
                if (answer.Status != 401) problems.Add($"{path}: {row}: accepted or not refused ({answer})");
                else if (Unaudited(row, answer, path, forged, refused) is { } missing) problems.Add($"{path}: {row}: {missing}");
            }
        Assert.True(problems.Count == 0, $"{problems.Count} of {rows.Count * 2} forgeries were accepted or not audited:\n{string.Join("\n", problems)}");
    }

    /// <summary>Why the row's refusal is not in the trail, or null when it is.</summary>
    private static string? Unaudited(ForgedIdentityRow row, WhoAmIResponse answer, string path, IReadOnlyList<JsonElement> forged,
        IReadOnlyList<JsonElement> refused)
    {
        switch (row.Audited)
        {
            case AuditedAs.ForgedFromSource:
                var source = $"127.0.{(path == "direct" ? 2 : 4)}.{row.Untrusted}";
                return forged.Any(e => ForgeryTests.Text(e, "source_ip") == source) ? null : $"no forged_client_cert_header event from {source}";
            case AuditedAs.ForeignToFront:
                var name = row.Headers.Select(h => h.Name).First(n => n.Contains('_')).ToLowerInvariant();
                return forged.Any(e => ForgeryTests.Text(e, "reason") is { } r && r.Contains($"'{row.Front}'", StringComparison.Ordinal)
                    && r.Contains(name, StringComparison.Ordinal)) ? null : $"no forged_client_cert_header event naming {row.Front} and {name}";
            default:
                if (answer.Reason == "NoClientCertificate") return "answered as if no certificate had been sent (a silent refusal)";
                // A certificate's verdict is cached whichever front forwarded it, and audited when it was made: the same
                // certificate through another front (or path) finds the one event already written.
                return refused.Any(e => ForgeryTests.Text(e, "reason") is { } reason && answer.Error is { } error && reason.EndsWith(error, StringComparison.Ordinal))
                    ? null : $"no client_cert.refused event saying '{answer.Error}'";
        }
    }

    /// <summary>One curl run for every row (transfers separated by --next), each row's headers from a file.</summary>
    private static async Task<IReadOnlyList<WhoAmIResponse>> SendAllAsync(IReadOnlyList<ForgedIdentityRow> rows, TempDirectory files, string path,
        Func<ForgedIdentityRow, string[]> target)
    {
        var args = new List<string>();
        for (var i = 0; i < rows.Count; i++)
        {
            var file = files.File($"{path}-{i}.headers");
            await File.WriteAllTextAsync(file, ForgedIdentityRows.CurlHeaderFile(rows[i].Headers));
            if (i > 0) args.Add("--next");
            args.AddRange(["-sS", "--max-time", "30", "-w", "\n@@matrix %{http_code}@@\n", "-H", "@" + file, .. target(rows[i])]);
        }
        var result = (await Peer.RunAsync("curl", args, timeout: TimeSpan.FromMinutes(5))).EnsureSuccess($"curl ({path}, {rows.Count} transfers)");
        var answers = new List<WhoAmIResponse>();
        var at = 0;
        foreach (Match end in Regex.Matches(result.Stdout, @"\n@@matrix (\d{3})@@\n"))
        {
            var body = result.Stdout[at..end.Index];
            at = end.Index + end.Length;
            JsonElement? json = null;
            try
            {
                using var document = JsonDocument.Parse(body);
                json = document.RootElement.Clone();
            }
            catch (JsonException) { }
            answers.Add(new WhoAmIResponse(int.Parse(end.Groups[1].Value, CultureInfo.InvariantCulture), body, json));
        }
        Assert.True(answers.Count == rows.Count, $"curl answered {answers.Count} of {rows.Count} transfers:\n{result.Output}");
        return answers;
    }

    private static async Task PollUntilRevokedAsync(ProxyUnderTest proxy, string hostCa, string certificate, string albSecret)
    {
        var headers = ForgeryTests.ForgedHeaders("aws-alb-passthrough", certificate);
        string[] args = ["-sS", "--cacert", hostCa, "-o", "/dev/null", "-w", "%{http_code}", "-H", $"{SecretHeader}: {albSecret}",
            "-H", $"{headers[0].Name}: {headers[0].Value}", $"https://127.0.0.1:{proxy.Port}/v1/whoami"];
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await Peer.RunAsync("curl", args)).Stdout != "401")
        {
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException("the revocation did not reach the proxy within 30 s");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// nginx as the worst front: client headers pass on untouched (underscores and 64 KiB lines allowed), it adds only
    /// the secret of the front it plays (X-Matrix-Front) and X-Forwarded-For, and it connects to Gatehouse from the
    /// address X-Matrix-Bind names (127.0.0.1, the fronts' network, or 127.0.4.N, outside it).
    /// </summary>
    private static string NginxServer(int port, int gatehousePort, string hostCa, IReadOnlyDictionary<string, string> secrets) => $$"""
        map $http_x_matrix_front $matrix_secret {
            default "";
        {{string.Concat(secrets.Select(s => $"    {s.Key} \"{s.Value}\";\n"))}}
        }
        server {
            listen 127.0.0.1:{{port}};
            underscores_in_headers on;
            large_client_header_buffers 8 64k;
            location / {
                {{NginxBlocks.ProxyToGatehouseTls(gatehousePort, hostCa).Replace("\n", "\n        ", StringComparison.Ordinal)}}
                proxy_bind $http_x_matrix_bind;
                proxy_set_header {{SecretHeader}} $matrix_secret;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            }
        }

        """;
}
