using System.Globalization;
using System.Net;

namespace Gatehouse.Edge.Logging;

/// <summary>What one connection's log line says (spec §1.8); absent values are written '-'.</summary>
internal sealed record ConnectionFacts(DateTimeOffset Time, IPAddress Client, int ClientPort, int ListenerPort, string? Protocol, string? Cipher,
    TimeSpan? HandshakeLatency, string? LeafSubject, string? LeafValidity, string? LeafSerial, string? VerifyStatus, string ConnTraceId, string Elb,
    IPAddress? LocalAddress);

/// <summary>What one request's access-log line says; see <see cref="LogLines.Access"/>.</summary>
internal sealed record RequestFacts(string Type, DateTimeOffset Time, string Elb, IPAddress Client, int ClientPort, string? Target, TimeSpan TargetTime,
    int ElbStatus, int? TargetStatus, long ReceivedBytes, long SentBytes, string Request, string? UserAgent, string? Cipher, string? Protocol,
    string? TargetGroup, string? TraceId, string? DomainName, int RulePriority, DateTimeOffset Created, string Action, string? ErrorReason, string ConnTraceId);

/// <summary>
/// The two log formats of the ALB, field by field in the documented order: connection logs (spec §1.8) and access logs
/// (the ALB's access-log entry syntax). Text from the client (request line, user agent, names) is quoted with '"' escaped.
/// </summary>
internal static class LogLines
{
    /// <summary><c>timestamp client_ip client_port listener_port tls_protocol tls_cipher tls_handshake_latency
    /// leaf_client_cert_subject leaf_client_cert_validity leaf_client_cert_serial_number tls_verify_status conn_trace_id
    /// tls_keyexchange elb ip_address</c>.</summary>
    public static string Connection(ConnectionFacts c) => string.Join(' ',
        Time(c.Time), Address(c.Client), Number(c.ClientPort), Number(c.ListenerPort), c.Protocol ?? "-", c.Cipher ?? "-",
        c.HandshakeLatency is { } latency ? Seconds(latency) : "-", c.LeafSubject is null ? "-" : Quote(c.LeafSubject), c.LeafValidity ?? "-",
        c.LeafSerial ?? "-", c.VerifyStatus ?? "-", c.ConnTraceId, "-", c.Elb, c.LocalAddress is null ? "-" : Address(c.LocalAddress));

    /// <summary><c>type time elb client:port target:port request_processing_time target_processing_time
    /// response_processing_time elb_status_code target_status_code received_bytes sent_bytes "request" "user_agent"
    /// ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" "chosen_cert_arn" matched_rule_priority
    /// request_creation_time "actions_executed" "redirect_url" "error_reason" "target:port_list" "target_status_code_list"
    /// "classification" "classification_reason" conn_trace_id</c>.</summary>
    public static string Access(RequestFacts r)
    {
        var target = r.Target ?? "-";
        var targetStatus = r.TargetStatus is { } s ? Number(s) : "-";
        return string.Join(' ',
            r.Type, Time(r.Time), r.Elb, $"{Address(r.Client)}:{Number(r.ClientPort)}", target,
            r.Target is null ? "-1" : "0.000", r.Target is null ? "-1" : Seconds(r.TargetTime), r.Target is null ? "-1" : "0.000",
            Number(r.ElbStatus), targetStatus, r.ReceivedBytes.ToString(CultureInfo.InvariantCulture), r.SentBytes.ToString(CultureInfo.InvariantCulture),
            Quote(r.Request), Quote(r.UserAgent ?? "-"), r.Cipher ?? "-", r.Protocol ?? "-", r.TargetGroup ?? "-", Quote(r.TraceId ?? "-"),
            Quote(r.DomainName ?? "-"), Quote("-"), r.RulePriority == 0 ? "0" : Number(r.RulePriority), Time(r.Created), Quote(r.Action), Quote("-"),
            Quote(r.ErrorReason ?? "-"), Quote(target), Quote(targetStatus), Quote("-"), Quote("-"), r.ConnTraceId);
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Address(IPAddress address) => (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    /// <summary>In quotes; '"' escaped as \", control characters as \xNN, so one entry stays one line whatever a client sends.
    /// A backslash stays as it is: RFC 2253 names use it for their own escapes.</summary>
    private static string Quote(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            if (c == '"') builder.Append("\\\"");
            else if (c < ' ' || c == '\x7F') builder.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else builder.Append(c);
        }
        return builder.Append('"').ToString();
    }
}
