namespace Gatehouse.ForwardedCerts.Formats;

/// <summary>Every balancer format by its fixed id, and every default header name for stripping forged copies.</summary>
internal static class ForwardedCertificateFormats
{
    public static IReadOnlyDictionary<string, ForwardedCertificateFormat> ById { get; } = new ForwardedCertificateFormat[]
    {
        new AwsAlbPassthroughFormat(), new AwsAlbVerifyFormat(), new EnvoyXfccFormat(), new GcpFormat(), new Rfc9440Format(),
        new TraefikFormat(), new NginxFormat(), new HaproxyFormat(), new CloudflareFormat(), new AzureArrFormat(),
    }.ToDictionary(format => format.Id, StringComparer.Ordinal);

    /// <summary>
    /// Every header of every format, lower-case. Only the defaults: a name the operator configured instead must be
    /// stripped by the caller too.
    /// </summary>
    public static IReadOnlySet<string> AllDefaultHeaderNames { get; } = ById.Values
        .SelectMany(format => format.DefaultHeaders.Values)
        .Select(name => name.ToLowerInvariant())
        .ToHashSet(StringComparer.OrdinalIgnoreCase);
}
