using System.Text;

namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>
/// Envoy's x-forwarded-client-cert (spec §2.1): ','-separated elements, one per hop, each ';'-separated key=value
/// pairs whose values may be double-quoted with \" inside. Cert is the URL-encoded PEM leaf, Chain the URL-encoded
/// PEM chain including the leaf, Hash the hex SHA-256 of the leaf's DER. Exactly one element is taken (issue 18): with
/// Envoy's SANITIZE_SET, the mode the docs ask for, that is all a front sends. Several elements mean a hop passed on
/// what came before it (APPEND_FORWARD, FORWARD_ONLY) — a client's own value among them — and whether the last one is
/// really the trusted hop's cannot be told from here, so the value is refused rather than guessed at (spec §6.1 item 4
/// allows either; default deny picks refusal). The whole value is parsed first, so a malformed one says where.
/// </summary>
internal sealed class EnvoyXfccFormat() : ForwardedCertificateFormat("envoy-xfcc", new Dictionary<HeaderRole, string> { [HeaderRole.Cert] = "x-forwarded-client-cert" })
{
    protected override PresentedDecode Read(FormatHeaders headers)
    {
        var header = headers.Read(HeaderRole.Cert, commaMeansJoined: false);
        if (header.Error is not null) return PresentedDecode.Refused(header.Error);
        if (header.IsAbsent) return PresentedDecode.Absent();

        var error = ParseElements(header.Name, header.Text!, out var pairs, out var elements);
        if (error is not null) return PresentedDecode.Refused(error);
        if (elements > 1)
            return PresentedDecode.Refused($"{header.Name} has {elements} elements, and Gatehouse takes exactly one: set Envoy's " +
                "forward_client_cert_details to SANITIZE_SET, so that no client's own value is passed on beside the one Envoy adds");
        string? cert = null, chain = null, hash = null;
        foreach (var (key, value) in pairs)
        {
            ref var slot = ref cert;
            if (key.Equals("Cert", StringComparison.OrdinalIgnoreCase)) slot = ref cert;
            else if (key.Equals("Chain", StringComparison.OrdinalIgnoreCase)) slot = ref chain;
            else if (key.Equals("Hash", StringComparison.OrdinalIgnoreCase)) slot = ref hash;
            else continue; // By, Subject, URI, DNS, issuer: not ours to judge
            if (slot is not null) return PresentedDecode.Refused($"{header.Name} has {key} twice");
            slot = value;
        }
        if (cert is null && chain is null)
            return PresentedDecode.Refused($"{header.Name} carries no Cert or Chain; set Envoy's set_current_client_cert_details cert: true");

        var certificates = new PresentedChain((cert?.Length ?? 0) + (chain?.Length ?? 0));
        error = Read(header.Name, cert, chain, hash, headers.Limits, certificates);
        return error is null ? PresentedDecode.Decoded(certificates, BalancerClaims.None) : PresentedDecode.Refused(error, discard: certificates);
    }

    private static string? Read(string name, string? cert, string? chain, string? hash, DecodeLimits limits, PresentedChain into)
    {
        if (chain is not null)
        {
            var error = CertificateEncodings.ReadUrlEncodedPem($"{name} Chain", chain, limits.MaxChainDepth, into);
            if (error is not null) return error;
        }
        if (cert is not null)
        {
            // Read after the Chain into the same buffer, compared with the Chain's first, then dropped: the leaf once.
            var fromChain = into.Count;
            var error = CertificateEncodings.ReadUrlEncodedPem($"{name} Cert", cert, maxCertificates: 1, into);
            if (error is not null) return error;
            if (fromChain > 0 && !into[0].SequenceEqual(into[fromChain]))
                return $"{name} Cert is not the first certificate of its Chain; Envoy's Chain starts with the leaf";
            if (fromChain > 0) into.RemoveLast();
        }
        return hash is null ? null : Digests.Check(new HeaderValue($"{name} Hash", hash, null), into[0], DigestSpelling.Hex);
    }

    /// <summary>One linear pass over the whole value; returns the pairs of the last element and how many elements there are.</summary>
    private static string? ParseElements(string name, string value, out List<(string Key, string Value)> pairs, out int element)
    {
        pairs = [];
        element = 1;
        var i = 0;
        while (true)
        {
            // key
            var keyStart = i;
            while (i < value.Length && value[i] is not ('=' or ';' or ',' or '"')) i++;
            var key = value.AsSpan(keyStart, i - keyStart).Trim(HeaderValue.Whitespace);
            if (i == value.Length || value[i] != '=' || key.IsEmpty)
                return $"{name} element {element} has '{UntrustedText.Show(value.AsSpan(keyStart))}' where a key=value pair should be";
            i++;
            while (i < value.Length && value[i] is ' ' or '\t') i++;
            // value, quoted or bare
            string text;
            if (i < value.Length && value[i] == '"')
            {
                var builder = new StringBuilder();
                i++;
                while (i < value.Length && value[i] != '"')
                {
                    if (value[i] == '\\' && i + 1 < value.Length) i++;
                    builder.Append(value[i++]);
                }
                if (i == value.Length) return $"{name} element {element} has a quoted value of {key} that is never closed";
                i++;
                text = builder.ToString();
                while (i < value.Length && value[i] is ' ' or '\t') i++;
            }
            else
            {
                var start = i;
                while (i < value.Length && value[i] is not (';' or ',' or '"')) i++;
                if (i < value.Length && value[i] == '"') return $"{name} element {element} has a stray '\"' in the value of {key}";
                text = value.AsSpan(start, i - start).Trim(HeaderValue.Whitespace).ToString();
            }
            pairs.Add((key.ToString(), text));
            if (i == value.Length) return null;
            if (value[i] == ',')
            {
                pairs = [];
                element++;
            }
            else if (value[i] != ';') return $"{name} element {element} has '{UntrustedText.Show(value.AsSpan(i))}' after the value of {key}";
            i++;
        }
    }
}
