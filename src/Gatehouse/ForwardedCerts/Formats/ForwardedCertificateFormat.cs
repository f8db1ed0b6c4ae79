using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// What a header carries. Cert/Chain/Leaf hold certificates (Leaf is used where the balancer's own name says "leaf":
/// ALB verify, GCP); the rest are what the balancer says beside them. Present and Error exist for GCP only.
/// </summary>
internal enum HeaderRole { Cert, Chain, Leaf, Verify, Serial, Issuer, Subject, Validity, Hash, Present, Error }

/// <summary>
/// Header values as received: each header line separately (a header sent twice = two values). Names are
/// case-insensitive; two dictionary keys that differ only in case are merged, so "X-A" and "x-a" count as two lines.
/// </summary>
internal sealed class ReceivedHeaders
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>No headers (a request that carried none of interest).</summary>
    public static ReceivedHeaders None { get; } = new(new Dictionary<string, IReadOnlyList<string>>());

    public ReceivedHeaders(IReadOnlyDictionary<string, IReadOnlyList<string>> values)
    {
        foreach (var (name, lines) in values)
        {
            if (!_values.TryGetValue(name, out var list)) _values[name] = list = [];
            list.AddRange(lines);
        }
    }

    /// <summary>Convenience for tests and callers holding (name, value) pairs in arrival order.</summary>
    public static ReceivedHeaders Of(params (string Name, string Value)[] lines)
    {
        var values = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in lines)
            values[name] = values.TryGetValue(name, out var existing) ? [.. existing, value] : [value];
        return new ReceivedHeaders(values);
    }

    public IReadOnlyList<string> Get(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public bool Has(string name) => _values.TryGetValue(name, out var list) && list.Count > 0;
}

/// <param name="MaxHeaderBytes">Largest header value accepted (ALB's own per-header limit is 16 K, spec §1.3).</param>
/// <param name="MaxChainDepth">Most certificates accepted from one request, leaf included (ALB quota, spec §1.2).</param>
internal sealed record DecodeLimits(int MaxHeaderBytes = 16 * 1024, int MaxChainDepth = 4);

internal enum DecodeStatus { Absent, Decoded, Refused }

/// <summary>What the balancer said beside the certificate (nginx $ssl_client_verify, HAProxy ssl_c_verify, GCP
/// chain_verified, ALB verify mode = true). Null <see cref="Verified"/> means the balancer said nothing.</summary>
internal sealed record BalancerClaims(bool? Verified, string? Detail)
{
    public static BalancerClaims None { get; } = new(null, null);
}

/// <summary>
/// The outcome of decoding one request's headers. <see cref="Intermediates"/> is what the client presented above the
/// leaf, in order, leaf excluded, kept exactly as presented (a trailing root included; the validator copes).
/// A Decoded result owns its certificates: the caller disposes them.
/// </summary>
internal sealed record DecodeResult(DecodeStatus Status, X509Certificate2? Leaf, IReadOnlyList<X509Certificate2> Intermediates, BalancerClaims Claims, string? Error)
{
    public static DecodeResult Absent(BalancerClaims? claims = null) => new(DecodeStatus.Absent, null, [], claims ?? BalancerClaims.None, null);

    public static DecodeResult Refused(string error, BalancerClaims? claims = null) => new(DecodeStatus.Refused, null, [], claims ?? BalancerClaims.None, error);

    public static DecodeResult Decoded(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, BalancerClaims claims) =>
        new(DecodeStatus.Decoded, leaf, intermediates, claims, null);
}

/// <summary>
/// A check of the leaf against what the balancer wrote beside it that needs the parsed certificate (ALB verify's
/// serial, names and validity). <see cref="Input"/> holds every header text <see cref="Run"/> reads: it is part of the
/// verdict-cache key, so a cache hit (same DER, same input) stands for a check that passed.
/// </summary>
internal sealed record LeafCheck(IReadOnlyList<string> Input, Func<X509Certificate2, string?> Run);

/// <summary>
/// The outcome of decoding one request's headers into DER, before any certificate is parsed. A Decoded result owns
/// <see cref="Chain"/>: the caller disposes it (a using on the result does).
/// </summary>
internal sealed class PresentedDecode(DecodeStatus status, PresentedChain? chain, BalancerClaims claims, string? error, LeafCheck? check = null) : IDisposable
{
    public DecodeStatus Status => status;
    public PresentedChain? Chain => chain;
    public BalancerClaims Claims => claims;
    public string? Error => error;
    public LeafCheck? Check => check;

    public static PresentedDecode Absent(BalancerClaims? claims = null) => new(DecodeStatus.Absent, null, claims ?? BalancerClaims.None, null);

    /// <summary>Disposes <paramref name="discard"/> (what was decoded before the problem was found), if any.</summary>
    public static PresentedDecode Refused(string error, BalancerClaims? claims = null, PresentedChain? discard = null)
    {
        discard?.Dispose();
        return new(DecodeStatus.Refused, null, claims ?? BalancerClaims.None, error);
    }

    public static PresentedDecode Decoded(PresentedChain chain, BalancerClaims claims, LeafCheck? check = null) =>
        new(DecodeStatus.Decoded, chain, claims, null, check);

    public void Dispose() => chain?.Dispose();
}

/// <summary>
/// One balancer's way of forwarding a client certificate. Decoders never touch the network, never judge trust (the
/// caller runs <c>Pki.Validation.CertificateValidator</c> on the result) and never throw on input: header values
/// come from the network, so every outcome is a result value.
/// </summary>
/// <param name="id">The format's name in configuration (proxy.trusted_fronts[].format).</param>
/// <param name="defaultHeaders">Role → the header name the balancer uses unless the operator renamed it.</param>
internal abstract class ForwardedCertificateFormat(string id, IReadOnlyDictionary<HeaderRole, string> defaultHeaders)
{
    public string Id { get; } = id;

    /// <summary>Role → the header name the balancer uses unless the operator renamed it.</summary>
    public IReadOnlyDictionary<HeaderRole, string> DefaultHeaders { get; } = defaultHeaders;

    /// <summary>Every check on the headers and the DER structure, but no certificate parsing (see <see cref="PresentedChain.Load"/>).</summary>
    /// <param name="names">The defaults overridden by the operator; a role missing (or blank) here uses its default.</param>
    public PresentedDecode DecodePresented(ReceivedHeaders headers, IReadOnlyDictionary<HeaderRole, string> names, DecodeLimits limits) =>
        Read(new FormatHeaders(headers, names, DefaultHeaders, limits));

    /// <summary>The format's own reading of one request's headers (<see cref="DecodePresented"/>).</summary>
    protected abstract PresentedDecode Read(FormatHeaders headers);

    /// <summary><see cref="DecodePresented"/>, then every certificate parsed and the leaf check run: the whole decode.</summary>
    public DecodeResult Decode(ReceivedHeaders headers, IReadOnlyDictionary<HeaderRole, string> names, DecodeLimits limits)
    {
        using var presented = DecodePresented(headers, names, limits);
        if (presented.Status == DecodeStatus.Absent) return DecodeResult.Absent(presented.Claims);
        if (presented.Status == DecodeStatus.Refused) return DecodeResult.Refused(presented.Error!, presented.Claims);
        var error = presented.Chain!.Load(out var leaf, out var intermediates) ?? presented.Check?.Run(leaf!);
        if (error is null) return DecodeResult.Decoded(leaf!, intermediates, presented.Claims);
        leaf?.Dispose();
        CertificateEncodings.DisposeAll(intermediates);
        return DecodeResult.Refused(error, presented.Claims);
    }
}

/// <summary>One request's headers as a format reads them: by role, under the names the operator gave or the defaults,
/// within the limits.</summary>
internal readonly struct FormatHeaders(ReceivedHeaders received, IReadOnlyDictionary<HeaderRole, string> names,
    IReadOnlyDictionary<HeaderRole, string> defaults, DecodeLimits limits)
{
    public DecodeLimits Limits => limits;

    /// <summary>The header name of <paramref name="role"/>: the operator's, else the balancer's default.</summary>
    public string NameOf(HeaderRole role) =>
        names.TryGetValue(role, out var name) && !string.IsNullOrWhiteSpace(name) ? name : defaults[role];

    /// <summary>The header of <paramref name="role"/> (see <see cref="HeaderValue.Read"/>).</summary>
    public HeaderValue Read(HeaderRole role, bool commaMeansJoined = true) => HeaderValue.Read(received, NameOf(role), limits, commaMeansJoined);
}
