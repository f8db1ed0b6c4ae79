using System.CommandLine;
using Gatehouse.Client.Dialing;
using Gatehouse.Client.Profiles;
using Gatehouse.Routing;
using Spectre.Console;

namespace Gatehouse.Cli.Commands;

/// <summary><c>gatehouse diag tunnel</c>: what lies between this machine and a proxy, and how the client would get through.</summary>
internal static class DiagCommand
{
    public static Command Create() => new("diag", "Diagnose the path to a proxy") { Tunnel() };

    private static Command Tunnel()
    {
        var proxy = new Option<string?>("--proxy") { Description = "The proxy's address, HOST:PORT (default: the current profile)" };
        var insecure = new Option<bool>("--insecure") { Description = "Accept any certificate on the outer TLS (and the probe's, when no host CA is known)" };
        var ca = new Option<string?>("--ca") { Description = "The cluster's host CA (PEM) (default: the profile's)" };
        var format = CommandKit.DataFormatOption();
        var command = new Command("tunnel", "Check direct ALPN routing, /v1/ping's echo and both tunnel upgrades; say which route the client takes")
        {
            proxy, insecure, ca, format,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var options = DialerSetup.Create(ProfileStore.Default(), parse.GetValue(proxy), parse.GetValue(ca), parse.GetValue(insecure), requireIdentity: false);
            var report = await RunAsync(options, cancellationToken);
            if (parse.GetValue(format) == "json") CommandKit.WriteJson(report);
            else Print(report);
            return report.Decision is null ? 1 : 0;
        });
        return command;
    }

    internal sealed record UpgradeCheck(bool Ok, string? Error, string? InnerAlpn);

    internal sealed record TunnelReport(string Proxy, string? Decision, bool DirectOk, bool? AlpnStripped, string Upgrade, object? PingEcho,
        string? PingError, string? ProbeAlpn, string? ProbeError, UpgradeCheck Websocket, UpgradeCheck Raw, IReadOnlyList<string> Reasons,
        string? Error, bool HostCaKnown, bool ClientCertificate, bool OuterCertificateRequested, bool OuterCertificateOffered, string OuterCertificateSource,
        string? OuterCertificateSubject);

    private static async Task<TunnelReport> RunAsync(DialerOptions options, CancellationToken cancellationToken)
    {
        // Detection as the dialer does it, but every step is run and reported (no environment override, no cache).
        var detector = new TunnelDetector(options);
        var ping = await detector.PingAsync(cancellationToken);
        var probe = await detector.ProbeAsync(cancellationToken);
        var (tunnel, reasons, error) = TunnelDetector.Combine(ping, probe);
        var websocket = await CheckUpgradeAsync(options, detector, TunnelKind.WebSocket, cancellationToken);
        var raw = await CheckUpgradeAsync(options, detector, TunnelKind.Raw, cancellationToken);
        bool? stripped = probe.Error is null ? !probe.ReachedGatehouse
            : ping.Echo is { } echo && echo.TlsTerminatedByProxy ? echo.Alpn != ping.SentAlpn : null;
        var allReasons = reasons.ToList();
        if (options.HostCa is null) allReasons.Add("no host CA is known (no profile, no --ca): inner certificates were not verified");
        return new TunnelReport(options.Proxy.ToString(), tunnel is { } t ? (t ? "tunnel" : "direct") : null, probe.ReachedGatehouse, stripped,
            websocket.Ok ? "websocket" : raw.Ok ? "raw" : "none", ping.Echo?.Raw, ping.Error, probe.NegotiatedAlpn, probe.Error, websocket, raw,
            allReasons, error, options.HostCa is not null, options.ClientCertificate is not null,
            // Issue 7: did any front ask for a client certificate on the outer TLS, and did this machine have one to give.
            options.Outer.Requested, options.Outer.Certificate is not null, options.Outer.Source, options.Outer.Certificate?.Subject);
    }

    /// <summary>Opens the tunnel and runs the probe handshake through it: an upgrade only counts if Gatehouse is behind it.</summary>
    private static async Task<UpgradeCheck> CheckUpgradeAsync(DialerOptions options, TunnelDetector detector, TunnelKind kind, CancellationToken cancellationToken)
    {
        var (stream, error) = await TunnelOpener.OpenAsync(options, kind, ping: true, cancellationToken);
        if (stream is null) return new UpgradeCheck(false, error, null);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.EffectiveConnectTimeout);
        var inner = await detector.ProbeOverAsync(stream, timeout.Token);
        return inner.ReachedGatehouse ? new UpgradeCheck(true, null, inner.NegotiatedAlpn)
            : new UpgradeCheck(false, inner.Error ?? $"the upgrade worked but the inner handshake negotiated '{inner.NegotiatedAlpn ?? "(no ALPN)"}'", inner.NegotiatedAlpn);
    }

    private static void Print(TunnelReport report)
    {
        static string Mark(bool? ok) => ok switch { true => "[green]yes[/]", false => "[red]no[/]", null => "[grey]unknown[/]" };
        static string Text(string? text) => Markup.Escape(text ?? "");
        var table = new Table().AddColumns("check", "result", "detail");
        table.AddRow("ping /v1/ping", Mark(report.PingError is null), Text(report.PingError ?? report.PingEcho?.ToString()));
        table.AddRow("direct ALPN (gatehouse-tunnel probe)", Mark(report.DirectOk), Text(report.ProbeError ?? $"negotiated {report.ProbeAlpn ?? "(none)"}"));
        table.AddRow("ALPN stripped", report.AlpnStripped switch { true => "[red]yes[/]", false => "[green]no[/]", null => "[grey]unknown[/]" }, "");
        table.AddRow("WebSocket upgrade", Mark(report.Websocket.Ok), Text(report.Websocket.Error));
        table.AddRow("raw upgrade", Mark(report.Raw.Ok), Text(report.Raw.Error));
        table.AddRow("outer certificate requested", report.OuterCertificateRequested ? "[yellow]yes[/]" : "no",
            report.OuterCertificateRequested ? "a front asked for a client certificate in the outer TLS handshake" : "");
        table.AddRow("outer certificate offered", report.OuterCertificateOffered ? "[green]yes[/]" : report.OuterCertificateRequested ? "[red]no[/]" : "no",
            Text(report.OuterCertificateSubject is { } subject ? $"{subject} ({report.OuterCertificateSource})"
                : report.OuterCertificateRequested ? "none to offer: `gatehouse login --identity DIR`, or --outer-cert FILE --outer-key FILE" : "none"));
        AnsiConsole.Write(table);
        Console.Out.WriteLine(report.Decision is { } d
            ? $"Decision for {report.Proxy}: {d}{(d == "tunnel" ? $" (upgrade that works: {report.Upgrade})" : "")}."
            : $"No decision for {report.Proxy}: {report.Error}");
        foreach (var reason in report.Reasons) Console.Out.WriteLine($"  - {reason}");
    }
}
