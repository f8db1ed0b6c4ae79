using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Login;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// The host CA a login pins in the profile. Every later command checks the proxy by it (the inner TLS trusts nothing
/// else), so a login never leaves an empty one (issue 19). Known already (--ca, the identity's, the profile's): that one.
/// Else it is the one the proxy's /v1/ping serves — taken as is over a channel this machine's store trusts, and over
/// --insecure only once its SHA-256 fingerprint is confirmed, as ssh does on first contact.
/// </summary>
internal static partial class LoginCommand
{
    private const string AdminExport = "`gatehouse admin ca export --kind host --out host-ca.pem` on the cluster";

    private static async Task<X509Certificate2?> PinHostCaAsync(string address, ProxyTrust trust, string? expectedFingerprint, OuterCertificate outer,
        CancellationToken cancellationToken)
    {
        if (trust.HostCa is not null) return X509CertificateLoader.LoadCertificate(trust.HostCa.RawData);
        if (expectedFingerprint is not null && !trust.Insecure)
        {
            CommandKit.Fail("--ca-fingerprint goes with --insecure (the proxy's certificate is otherwise checked by this machine's store or --ca).");
            return null;
        }
        using var http = ProxyConnection.Create(address, trust, TimeSpan.FromSeconds(30), outer);
        X509Certificate2 hostCa;
        try
        {
            using var ping = JsonDocument.Parse(await http.GetStringAsync("v1/ping", cancellationToken));
            if (!ping.RootElement.TryGetProperty("host_ca", out var pem) || pem.GetString() is not { Length: > 0 } text)
            {
                CommandKit.Fail($"{address} does not serve its host CA (a Gatehouse older than this client): get it from an administrator " +
                                $"({AdminExport}) and log in with --ca host-ca.pem.");
                return null;
            }
            hostCa = X509Certificate2.CreateFromPem(text);
        }
        catch (HttpRequestException e)
        {
            CommandKit.Fail(ProxyConnection.Explain(e, address, trust, outer));
            return null;
        }
        catch (Exception e) when (e is JsonException or CryptographicException)
        {
            CommandKit.Fail($"{address} answered /v1/ping with something that is not a Gatehouse host CA ({e.Message.TrimEnd('.')}); check --proxy.");
            return null;
        }

        var fingerprint = Fingerprint(hostCa);
        if (trust.Insecure && !Confirmed(address, fingerprint, expectedFingerprint))
        {
            hostCa.Dispose();
            return null;
        }
        Console.Error.WriteLine($"gatehouse: note: pinned the cluster's host CA of {address} (SHA-256 {fingerprint}); later commands check the proxy by it.");
        return hostCa;
    }

    /// <summary>--ca-fingerprint, else a question on a terminal, else a refusal that names the fingerprint and both ways on.</summary>
    private static bool Confirmed(string address, string fingerprint, string? expected)
    {
        if (expected is not null)
        {
            if (Normalize(expected) == Normalize(fingerprint)) return true;
            CommandKit.Fail($"--ca-fingerprint: the proxy at {address} presents a host CA with SHA-256 {fingerprint}, not the {expected.Trim()} you gave. " +
                            "Nothing was saved: something between you and the proxy may be answering in its place, or the cluster was rebuilt; ask an administrator.");
            return false;
        }
        if (!Console.IsInputRedirected && !Console.IsOutputRedirected)
        {
            Console.Error.WriteLine($"The proxy at {address} presents the cluster host CA with SHA-256 fingerprint\n  {fingerprint}\n" +
                                    $"Compare it with the one an administrator sees ({AdminExport}, then `openssl x509 -in host-ca.pem -noout -fingerprint -sha256`).");
            if (AnsiConsole.Confirm("Trust this host CA for this proxy?", defaultValue: false)) return true;
            CommandKit.Fail("not trusted; nothing was saved.");
            return false;
        }
        CommandKit.Fail($"--insecure: the proxy at {address} presents the cluster host CA with SHA-256 fingerprint {fingerprint}; nothing was saved. " +
                        $"Check it with an administrator ({AdminExport}, then `openssl x509 -in host-ca.pem -noout -fingerprint -sha256`) and run again " +
                        $"with --ca-fingerprint {fingerprint}, or log in with --ca host-ca.pem instead of --insecure.");
        return false;
    }

    /// <summary>As openssl prints it: upper-case hex pairs joined by colons.</summary>
    internal static string Fingerprint(X509Certificate2 certificate) => Convert.ToHexString(SHA256.HashData(certificate.RawData)) is var hex
        ? string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2)))
        : "";

    private static string Normalize(string fingerprint)
    {
        var text = fingerprint.Trim();
        if (text.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)) text = text[7..];
        if (text.StartsWith("sha256 fingerprint=", StringComparison.OrdinalIgnoreCase)) text = text[19..];
        return new string([.. text.Where(char.IsAsciiHexDigit).Select(char.ToUpperInvariant)]);
    }
}
