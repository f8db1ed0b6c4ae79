using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Gatehouse.Edge.Configuration;
using Gatehouse.ForwardedCerts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Edge.Headers;

/// <summary>
/// What the edge does to a request's headers on the way to a target, as an ALB does (spec §1.3–1.9): every client-sent
/// copy of an mTLS header is removed (any case, '_' or '-', under the default and the renamed names), the listener's own
/// are added, X-Forwarded-For is processed by the XFF mode, X-Forwarded-Proto/Port are set, X-Amzn-Trace-Id is added or
/// updated.
/// </summary>
internal static class ForwardedHeaders
{
    public const string TraceId = "X-Amzn-Trace-Id";

    /// <summary>The names a listener removes from every request: ALB's defaults, and its renamed ones.</summary>
    public static IReadOnlySet<string> StrippedNames(MtlsHeaderNames names) =>
        new HashSet<string>(MtlsHeaderNames.Default.All.Concat(names.All), FoldedHeaderNameComparer.Instance);

    /// <summary>Removes forged copies; returns how many headers went (for the log: a client that forges is worth a line).</summary>
    public static int Strip(IHeaderDictionary headers, IReadOnlySet<string> names)
    {
        List<string>? doomed = null;
        foreach (var header in headers)
            if (names.Contains(header.Key)) (doomed ??= []).Add(header.Key);
        foreach (var name in doomed ?? []) headers.Remove(name);
        return doomed?.Count ?? 0;
    }

    public static void AddMtls(IHeaderDictionary headers, MtlsHeaderNames names, MtlsRequestHeaders values)
    {
        Set(headers, names.Clientcert, values.Chain);
        Set(headers, names.SerialNumber, values.SerialNumber);
        Set(headers, names.Issuer, values.Issuer);
        Set(headers, names.Subject, values.Subject);
        Set(headers, names.Validity, values.Validity);
        Set(headers, names.Leaf, values.Leaf);
    }

    private static void Set(IHeaderDictionary headers, string name, string? value)
    {
        if (value is not null) headers[name] = value;
    }

    /// <summary>X-Forwarded-For by mode (append: the client's address after what the client sent; preserve: as sent;
    /// remove: gone), then X-Forwarded-Proto (https: every listener is HTTPS) and X-Forwarded-Port (the listener's).</summary>
    public static void AddForwarded(IHeaderDictionary headers, XffMode mode, bool withClientPort, IPAddress client, int clientPort, int listenerPort)
    {
        switch (mode)
        {
            case XffMode.Append:
                var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
                var me = withClientPort
                    ? (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{clientPort}" : $"{address}:{clientPort}")
                    : address.ToString();
                var sent = headers["X-Forwarded-For"];
                headers["X-Forwarded-For"] = StringValues.IsNullOrEmpty(sent) ? me : $"{string.Join(", ", sent.ToArray())}, {me}";
                break;
            case XffMode.Remove:
                headers.Remove("X-Forwarded-For");
                break;
        }
        headers["X-Forwarded-Proto"] = "https";
        headers["X-Forwarded-Port"] = listenerPort.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// X-Amzn-Trace-Id (AWS request tracing): without a Root field, <c>Root=1-{epoch seconds, 8 hex}-{24 hex}</c> is put
    /// first; with one, a <c>Self</c> field of the same shape goes first (replacing an old Self). Other fields stay.
    /// Returns the value set.
    /// </summary>
    public static string UpdateTraceId(IHeaderDictionary headers, DateTimeOffset now)
    {
        var fields = headers[TraceId].ToString().Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var id = $"1-{now.ToUnixTimeSeconds():x8}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        fields.RemoveAll(f => f.StartsWith("Self=", StringComparison.Ordinal));
        fields.Insert(0, fields.Any(f => f.StartsWith("Root=", StringComparison.Ordinal)) ? $"Self={id}" : $"Root={id}");
        var value = string.Join(';', fields);
        headers[TraceId] = value;
        return value;
    }
}
