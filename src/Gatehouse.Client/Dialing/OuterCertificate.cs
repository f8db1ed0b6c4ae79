using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Client.Dialing;

/// <summary>
/// The one place that decides the client certificate of the OUTER TLS (to the proxy's address, or a balancer in front
/// of it; issue 7) and remembers what the fronts asked for. The certificate is an explicit company pair
/// (<c>--outer-cert/--outer-key</c>, kept in the profile as <see cref="CertificateFile"/>/<see cref="KeyFile"/>) or else
/// the user's Gatehouse certificate. It is sent only in answer to a CertificateRequest: <see cref="Select"/> returns
/// nothing for the call .NET makes before the handshake (no server certificate yet) — on Linux a certificate chosen
/// there is not sent at all — and records the request when the server asks. One instance per command, shared by all
/// its connections; thread-safe.
/// </summary>
internal sealed class OuterCertificate(X509Certificate2? certificate, string source)
{
    public const string CertificateFile = Profiles.ProfileStore.OuterCertificateFile, KeyFile = Profiles.ProfileStore.OuterKeyFile;
    public const string FromOuterFiles = "outer-cert", FromProfile = "profile", FromIdentity = "identity", FromNothing = "none";

    private int _requested, _serverRejected;

    /// <summary>What is offered when a front asks; null: nothing.</summary>
    public X509Certificate2? Certificate => certificate;

    /// <summary>Where <see cref="Certificate"/> came from (<see cref="FromOuterFiles"/>, <see cref="FromProfile"/>, …).</summary>
    public string Source => certificate is null ? FromNothing : source;

    /// <summary>A front asked for a client certificate in some outer handshake of this command.</summary>
    public bool Requested => Volatile.Read(ref _requested) != 0;

    /// <summary>A certificate was sent in answer to such a request.</summary>
    public bool Offered => Requested && certificate is not null;

    public static OuterCertificate None() => new(null, FromNothing);

    /// <summary>The <see cref="LocalCertificateSelectionCallback"/> for every outer handshake.</summary>
    public X509Certificate Select(object sender, string targetHost, X509CertificateCollection localCertificates, X509Certificate? remoteCertificate,
        string[] acceptableIssuers)
    {
        // .NET calls once before sending the ClientHello (no server certificate, no issuers): not a request.
        if (remoteCertificate is null && acceptableIssuers.Length == 0) return null!;
        Interlocked.Exchange(ref _requested, 1);
        return certificate!; // null: an empty Certificate message; the server decides whether that is fatal
    }

    /// <summary>Makes <paramref name="options"/> offer this certificate on request only, and notes when our own check of the
    /// server's certificate fails (then a failed handshake is not the front's refusal of a missing certificate).</summary>
    /// <param name="watchServerCheck">False for the ALPN probe, whose inner-style check is expected to refuse a balancer.</param>
    public SslClientAuthenticationOptions ApplyTo(SslClientAuthenticationOptions options, bool watchServerCheck = true)
    {
        options.ClientCertificateContext = null;
        options.ClientCertificates = null;
        options.LocalCertificateSelectionCallback = Select;
        if (watchServerCheck && options.RemoteCertificateValidationCallback is { } check)
            options.RemoteCertificateValidationCallback = (sender, presented, chain, errors) =>
            {
                var ok = check(sender, presented, chain, errors);
                if (!ok) Interlocked.Exchange(ref _serverRejected, 1);
                return ok;
            };
        return options;
    }

    /// <summary>
    /// The sentence for a failure on the outer TLS (a handshake alert, a connection closed right after, or a balancer's
    /// 400 "no required SSL certificate") when a front asked for a client certificate and there was none to give; null
    /// when that is not what happened.
    /// </summary>
    public string? MissingCertificateExplanation(string proxy) =>
        Requested && certificate is null && Volatile.Read(ref _serverRejected) == 0
            ? $"the balancer in front of {proxy} requires a client certificate (mutual TLS in verify mode) and this machine has none for it. " +
              "Log in with `gatehouse login --identity DIR` using a certificate from `gatehouse admin certs issue`, or give a company " +
              "certificate the balancer trusts with `--outer-cert FILE --outer-key FILE`."
            : null;

    /// <summary>HTTP statuses a front uses to refuse a request for want of a client certificate (nginx: 400, or 495/496
    /// without its error page). Not 401/403: Gatehouse itself asks for a certificate optionally and answers those.</summary>
    public static bool IsCertificateRefusalStatus(int status) => status is 400 or 495 or 496;

    /// <summary>
    /// The outer certificate of a profile directory: its <see cref="CertificateFile"/> pair when there is one, else the
    /// Gatehouse certificate given (the profile's, already loaded), else none. An unreadable pair is a setup error.
    /// </summary>
    public static OuterCertificate FromProfileDirectory(string directory, X509Certificate2? profileCertificate)
    {
        var certPath = Path.Combine(directory, CertificateFile);
        var keyPath = Path.Combine(directory, KeyFile);
        if (File.Exists(certPath) && File.Exists(keyPath)) return new OuterCertificate(Load(certPath, keyPath, "the profile's outer certificate"), FromOuterFiles);
        return new OuterCertificate(profileCertificate, FromProfile);
    }

    /// <summary>Loads a PEM certificate and key (for <c>--outer-cert/--outer-key</c> and the profile's copy).</summary>
    public static X509Certificate2 Load(string certPath, string keyPath, string what)
    {
        var (loaded, problem) = Profiles.IdentityFiles.LoadPair(certPath, keyPath);
        if (loaded is null) throw new SetupException($"cannot read {what} from {certPath} and {keyPath} ({problem}).");
        if (loaded.NotAfter.ToUniversalTime() >= DateTime.UtcNow) return loaded;
        var expired = loaded.NotAfter.ToUniversalTime();
        loaded.Dispose();
        throw new SetupException($"{what} in {certPath} expired at {expired:u}; get a new one.");
    }
}
