using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Identity;

/// <summary>
/// The certificate extension that carries an <see cref="Identity"/>: non-critical (so other TLS stacks ignore it), whose
/// value is a DER UTF8String holding UTF-8 JSON. The OID keeps every arc below 2^31: Go's certificate parser (kubectl
/// and every Go client) refuses a whole certificate with a larger arc ("x509: malformed extension OID field"), which
/// ruled out the UUID-based 2.25.120704861524901375953074455719519208600.1 first chosen. 1.3.9999 is an unassigned
/// arc that Teleport also uses for its extensions (1.3.9999.1.x, 1.3.9999.2.x); a registered enterprise number would
/// be the clean home.
/// </summary>
internal static class IdentityExtension
{
    public const string Oid = "1.3.9999.4791.1";
    private const int Version = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        // Names and traits are written as UTF-8, not \u escapes: the extension is read by tools as well as by us.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static X509Extension Encode(Identity identity)
    {
        var claims = new Claims
        {
            Version = Version,
            Roles = identity.Roles,
            Traits = identity.Traits,
            Logins = identity.Logins,
            KubeUsers = identity.KubeUsers,
            KubeGroups = identity.KubeGroups,
            DbUsers = identity.DbUsers,
            DbNames = identity.DbNames,
            PinnedIp = identity.PinnedIp,
            IssuedAt = identity.IssuedAt,
            IssuedVia = identity.IssuedVia,
        };
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteCharacterString(UniversalTagNumber.UTF8String, JsonSerializer.Serialize(claims, Json));
        return new X509Extension(Oid, writer.Encode(), critical: false);
    }

    /// <summary>Reads the identity of a Gatehouse user certificate; a certificate without the extension has no roles.</summary>
    public static bool TryDecode(X509Certificate2 certificate, out Identity identity, out string? error)
    {
        var user = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        var cluster = OrganizationOf(certificate.SubjectName) ?? "";
        identity = new Identity { User = user, Cluster = cluster };
        error = null;
        var extension = certificate.Extensions[Oid];
        if (extension is null) return true;
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var json = reader.ReadCharacterString(UniversalTagNumber.UTF8String);
            reader.ThrowIfNotEmpty();
            var claims = JsonSerializer.Deserialize<Claims>(json, Json) ?? throw new JsonException("null");
            if (claims.Version != Version)
            {
                error = $"identity extension version {claims.Version} is not understood (expected {Version})";
                return false;
            }
            identity = identity with
            {
                Roles = claims.Roles ?? [],
                Traits = claims.Traits ?? new Dictionary<string, IReadOnlyList<string>>(),
                Logins = claims.Logins ?? [],
                KubeUsers = claims.KubeUsers ?? [],
                KubeGroups = claims.KubeGroups ?? [],
                DbUsers = claims.DbUsers ?? [],
                DbNames = claims.DbNames ?? [],
                PinnedIp = claims.PinnedIp,
                IssuedAt = claims.IssuedAt,
                IssuedVia = claims.IssuedVia ?? "",
            };
            return true;
        }
        catch (Exception e) when (e is AsnContentException or JsonException or DecoderFallbackException)
        {
            error = $"identity extension is malformed: {e.Message}";
            return false;
        }
    }

    private static string? OrganizationOf(X500DistinguishedName name)
    {
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
            if (rdn.GetSingleElementType().Value == "2.5.4.10")
                return rdn.GetSingleElementValue();
        return null;
    }

    private sealed class Claims
    {
        [JsonPropertyName("version")] public int Version { get; init; }
        [JsonPropertyName("roles")] public IReadOnlyList<string>? Roles { get; init; }
        [JsonPropertyName("traits")] public IReadOnlyDictionary<string, IReadOnlyList<string>>? Traits { get; init; }
        [JsonPropertyName("logins")] public IReadOnlyList<string>? Logins { get; init; }
        [JsonPropertyName("kube_users")] public IReadOnlyList<string>? KubeUsers { get; init; }
        [JsonPropertyName("kube_groups")] public IReadOnlyList<string>? KubeGroups { get; init; }
        [JsonPropertyName("db_users")] public IReadOnlyList<string>? DbUsers { get; init; }
        [JsonPropertyName("db_names")] public IReadOnlyList<string>? DbNames { get; init; }
        [JsonPropertyName("pinned_ip")] public string? PinnedIp { get; init; }
        [JsonPropertyName("issued_at")] public DateTimeOffset IssuedAt { get; init; }
        [JsonPropertyName("issued_via")] public string? IssuedVia { get; init; }
    }
}
