using System.Globalization;
using System.Net;
using Gatehouse.Edge.Configuration;
using static Gatehouse.Cli.Configuration.EdgeConfigFile;

namespace Gatehouse.Cli.Configuration;

/// <summary>Reads and validates edge.yaml into <see cref="EdgeOptions"/>: every problem at once, each with its key path.
/// Files are resolved against the configuration's folder.</summary>
internal static class EdgeConfig
{
    private const string Docs = "docs/edge.md";
    private const string IdleTimeout = "idle_timeout.timeout_seconds", XffMode = "routing.http.xff_header_processing.mode",
        XffClientPort = "routing.http.xff_client_port.enabled";

    public static EdgeOptions Load(string path)
    {
        var source = Path.GetFullPath(path);
        var (file, shapeErrors) = GatehouseConfig.Parse<EdgeConfigFile>(source, Docs);
        var errors = new List<string>(shapeErrors);
        var options = Validate(file, Path.GetDirectoryName(source)!, errors);
        if (errors.Count > 0)
            throw new SetupException($"{source}: {errors.Count} problem(s) in the edge configuration (see {Docs}):\n  " + string.Join("\n  ", errors));
        return options!;
    }

    private static EdgeOptions? Validate(EdgeConfigFile file, string baseDirectory, List<string> errors)
    {
        string Resolve(string p) => Path.GetFullPath(Path.Combine(baseDirectory, p));
        var groups = TargetGroups(file.TargetGroups, Resolve, errors);
        var names = (file.TargetGroups ?? []).Select(g => g.Name).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if ((file.Listeners?.Count ?? 0) == 0) errors.Add("listeners: give at least one, e.g. [ { listen: 0.0.0.0:443, certificate: { cert_file: front.pem, key_file: front.key }, rules: [...] } ]");
        var listeners = new List<ListenerOptions>();
        for (var i = 0; i < (file.Listeners?.Count ?? 0); i++)
            if (Listener(file.Listeners![i], $"listeners[{i}]", names, Resolve, errors) is { } listener) listeners.Add(listener);
        var ports = listeners.GroupBy(l => l.Listen.Port).Where(g => g.Count() > 1).Select(g => g.Key);
        foreach (var port in ports) errors.Add($"listeners: port {port} is used by more than one listener; give each its own");

        var attributes = file.Attributes ?? [];
        foreach (var key in attributes.Keys.Where(k => k is not (IdleTimeout or XffMode or XffClientPort)))
            errors.Add($"attributes.{key}: not a load-balancer attribute the edge knows; it knows {IdleTimeout}, {XffMode}, {XffClientPort}");
        var idle = TimeSpan.FromSeconds(60);
        if (attributes.TryGetValue(IdleTimeout, out var idleText))
        {
            if (int.TryParse(idleText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 4000) idle = TimeSpan.FromSeconds(seconds);
            else errors.Add($"attributes.{IdleTimeout}: '{idleText}' is not a number of seconds from 1 to 4000 (the ALB's range; 60 by default)");
        }
        var xff = Edge.Configuration.XffMode.Append;
        if (attributes.TryGetValue(XffMode, out var xffText) && !Enum.TryParse(xffText, ignoreCase: true, out xff))
            errors.Add($"attributes.{XffMode}: '{xffText}' is not one of append, preserve, remove");
        var clientPort = false;
        if (attributes.TryGetValue(XffClientPort, out var portText) && !bool.TryParse(portText, out clientPort))
            errors.Add($"attributes.{XffClientPort}: '{portText}' is not true or false");
        string? Log(string? text, string key)
        {
            if (text is null || text == LogTarget.Stdout) return text;
            if (text.Trim().Length == 0) { errors.Add($"logs.{key}: empty; give stdout or a file path"); return null; }
            return Resolve(text);
        }
        var name = file.Name ?? "edge";
        if (name.Length == 0 || name.Any(c => c <= ' ')) errors.Add($"name: '{name}' must be one word (it is the elb field of the logs)");
        return errors.Count > 0 ? null : new EdgeOptions(name, listeners, groups)
        {
            IdleTimeout = idle, Xff = xff, XffClientPort = clientPort,
            ConnectionLog = Log(file.Logs?.Connection, "connection"), AccessLog = Log(file.Logs?.Access, "access"),
        };
    }

    private static ListenerOptions? Listener(ListenerSection section, string key, HashSet<string> groups, Func<string, string> resolve, List<string> errors)
    {
        var before = errors.Count;
        IPEndPoint? listen = null;
        if (section.Listen is null) errors.Add($"{key}.listen: required, an address:port like 0.0.0.0:443");
        else if (!GatehouseConfig.TryParseEndpoint(section.Listen, out listen)) errors.Add($"{key}.listen: '{section.Listen}' is not an address:port like 0.0.0.0:443");
        if (section.Certificate?.CertFile is null || section.Certificate.KeyFile is null)
            errors.Add($"{key}.certificate: cert_file and key_file are required (the listener's PEM certificate and key), e.g. {{ cert_file: front.pem, key_file: front.key }}");

        var mtls = MutualAuthenticationOptions.Off;
        if (section.MutualAuthentication is { } m)
        {
            var mode = MtlsMode.Off;
            if (m.Mode is not null && !(m.Mode is "off" or "passthrough" or "verify" && Enum.TryParse(m.Mode, ignoreCase: true, out mode)))
                errors.Add($"{key}.mutual_authentication.mode: '{m.Mode}' is not one of off, passthrough, verify");
            TrustStoreOptions? trust = null;
            if (m.TrustStore is { } t)
            {
                if (t.CaBundle is null) errors.Add($"{key}.mutual_authentication.trust_store.ca_bundle: required, the PEM bundle of CA certificates");
                else trust = new TrustStoreOptions(resolve(t.CaBundle), [.. (t.Crls ?? []).Select(resolve)]);
            }
            if (mode == MtlsMode.Verify && trust is null && m.TrustStore is null)
                errors.Add($"{key}.mutual_authentication.trust_store: verify mode needs a trust store, e.g. {{ ca_bundle: bundle.pem, crls: [corp.crl] }}");
            if (mode != MtlsMode.Verify && m.TrustStore is not null)
                errors.Add($"{key}.mutual_authentication.trust_store: only verify mode uses a trust store (in passthrough the target verifies); remove it or set mode: verify");
            if (mode != MtlsMode.Verify && m.IgnoreClientCertificateExpiry == true)
                errors.Add($"{key}.mutual_authentication.ignore_client_certificate_expiry: only verify mode checks expiry");
            var advertise = false;
            switch (m.AdvertiseTrustStoreCaNames?.Trim().ToLowerInvariant())
            {
                case null or "off" or "false": break;
                case "on" or "true": advertise = true; break;
                default: errors.Add($"{key}.mutual_authentication.advertise_trust_store_ca_names: '{m.AdvertiseTrustStoreCaNames}' is not on or off"); break;
            }
            if (advertise && mode != MtlsMode.Verify) errors.Add($"{key}.mutual_authentication.advertise_trust_store_ca_names: needs verify mode and its trust store");
            mtls = new MutualAuthenticationOptions(mode, trust, m.IgnoreClientCertificateExpiry ?? false, advertise);
        }

        var attributes = section.Attributes ?? [];
        foreach (var (attribute, value) in attributes)
        {
            if (!MtlsHeaderNames.AttributeKeys.Contains(attribute))
                errors.Add($"{key}.attributes.{attribute}: not a listener attribute the edge knows; it knows {string.Join(", ", MtlsHeaderNames.AttributeKeys)}");
            else if (value.Length > 0 && (value.Any(c => c <= ' ' || c >= 127 || c is ':' or '(' or ')' or ',' or ';' or '"') || value.Length > 40))
                errors.Add($"{key}.attributes.{attribute}: '{value}' is not a header name (letters, digits and -, at most 40 characters)");
        }
        var headerNames = MtlsHeaderNames.From(a => attributes.GetValueOrDefault(a));
        if (headerNames.All.Distinct(StringComparer.OrdinalIgnoreCase).Count() < 6)
            errors.Add($"{key}.attributes: two mutual-TLS headers would have the same name; give each its own");

        var rules = new List<RuleOptions>();
        for (var i = 0; i < (section.Rules?.Count ?? 0); i++)
        {
            var rule = section.Rules![i];
            var ruleKey = $"{key}.rules[{i}]";
            if (rule.Host is null && rule.Path is null) errors.Add($"{ruleKey}: give a host or a path condition (or both), e.g. {{ path: \"/*\", target_group: app }}");
            if (rule.Path is { } p && !p.StartsWith('/') && !p.StartsWith('*')) errors.Add($"{ruleKey}.path: '{p}' must start with / (or *)");
            if (rule.TargetGroup is null) errors.Add($"{ruleKey}.target_group: required, the name of one of target_groups");
            else if (!groups.Contains(rule.TargetGroup)) errors.Add($"{ruleKey}.target_group: '{rule.TargetGroup}' is not the name of one of target_groups");
            else rules.Add(new RuleOptions(rule.Host, rule.Path, rule.TargetGroup));
        }
        if (section.DefaultTargetGroup is { } fallback && !groups.Contains(fallback))
            errors.Add($"{key}.default_target_group: '{fallback}' is not the name of one of target_groups");
        if (rules.Count == 0 && section.DefaultTargetGroup is null && errors.Count == before)
            errors.Add($"{key}.rules: no rule and no default_target_group; every request would get 404. Add e.g. {{ path: \"/*\", target_group: NAME }}");
        if (errors.Count > before) return null;
        return new ListenerOptions(listen!, resolve(section.Certificate!.CertFile!), resolve(section.Certificate.KeyFile!), mtls, rules, section.DefaultTargetGroup, headerNames);
    }

    private static List<TargetGroupOptions> TargetGroups(List<TargetGroupSection>? sections, Func<string, string> resolve, List<string> errors)
    {
        var groups = new List<TargetGroupOptions>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"target_groups[{i}]";
            var before = errors.Count;
            if (string.IsNullOrWhiteSpace(section.Name)) errors.Add($"{key}.name: required (rules name their target group)");
            else if (!seen.Add(section.Name)) errors.Add($"{key}.name: '{section.Name}' is used by another target group");
            var protocol = (section.Protocol ?? "HTTP").ToUpperInvariant() switch { "HTTP" => TargetProtocol.Http, "HTTPS" => TargetProtocol.Https, _ => (TargetProtocol?)null };
            if (protocol is null) errors.Add($"{key}.protocol: '{section.Protocol}' is not HTTP or HTTPS");
            var targets = new List<DnsEndPoint>();
            if ((section.Targets?.Count ?? 0) == 0) errors.Add($"{key}.targets: give at least one host:port, e.g. [10.0.1.5:3080]");
            for (var t = 0; t < (section.Targets?.Count ?? 0); t++)
            {
                var text = section.Targets![t].Trim();
                var colon = text.LastIndexOf(':');
                if (colon > 0 && int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536)
                    targets.Add(new DnsEndPoint(text[..colon].Trim('[', ']'), port));
                else errors.Add($"{key}.targets[{t}]: '{text}' is not host:port like 10.0.1.5:3080");
            }
            TargetTlsOptions? tls = null;
            if (protocol == TargetProtocol.Https)
            {
                if (section.Tls?.CaFile is null)
                    errors.Add($"{key}.tls.ca_file: HTTPS targets need the CA their certificates chain to (the edge checks them; an ALB does not), e.g. {{ ca_file: target-ca.pem, server_name: app.internal }}");
                else tls = new TargetTlsOptions(resolve(section.Tls.CaFile), section.Tls.ServerName);
            }
            else if (section.Tls is not null) errors.Add($"{key}.tls: only for protocol HTTPS");
            var health = HealthCheck(section.HealthCheck, $"{key}.health_check", errors);
            if (errors.Count == before) groups.Add(new TargetGroupOptions(section.Name!, protocol!.Value, targets, tls, health));
        }
        return groups;
    }

    private static HealthCheckOptions? HealthCheck(HealthCheckSection? section, string key, List<string> errors)
    {
        if (section is null) return null;
        var path = section.Path ?? "/";
        if (!path.StartsWith('/')) errors.Add($"{key}.path: '{path}' must start with /");
        var defaults = HealthCheckOptions.Default(path);
        TimeSpan Duration(string? text, string name, TimeSpan fallback)
        {
            if (text is null) return fallback;
            if (Durations.TryParse(text, out var value) && value >= TimeSpan.FromSeconds(1) && value <= TimeSpan.FromMinutes(5)) return value;
            errors.Add($"{key}.{name}: '{text}' is not a duration from 1s to 5m like 10s");
            return fallback;
        }
        var interval = Duration(section.Interval, "interval", defaults.Interval);
        var timeout = Duration(section.Timeout, "timeout", defaults.Timeout);
        if (timeout >= interval && section.Timeout is not null) errors.Add($"{key}.timeout: must be shorter than the interval ({interval.TotalSeconds:0} s)");
        var healthy = section.HealthyThreshold ?? defaults.HealthyThreshold;
        var unhealthy = section.UnhealthyThreshold ?? defaults.UnhealthyThreshold;
        if (healthy is < 2 or > 10) errors.Add($"{key}.healthy_threshold: {healthy} is out of range (2–10, as the ALB)");
        if (unhealthy is < 2 or > 10) errors.Add($"{key}.unhealthy_threshold: {unhealthy} is out of range (2–10, as the ALB)");
        var matcher = section.Matcher ?? "200";
        if (!Edge.Targets.HealthChecker.IsValidMatcher(matcher)) errors.Add($"{key}.matcher: '{matcher}' is not status codes like 200, 200-299 or 200,302 (200–499)");
        return new HealthCheckOptions(path, interval, timeout < interval ? timeout : TimeSpan.FromTicks(interval.Ticks / 2), healthy, unhealthy, matcher);
    }
}
