using Gatehouse.Client.Dialing;
using Gatehouse.Routing;

namespace Gatehouse.Client.Ssh;

/// <summary>A ProxyCommand's target, <c>LOGIN@NODE[:PORT]</c> as ssh's <c>%r@%h:%p</c> writes it.</summary>
/// <param name="Port">The port ssh was told; the proxy knows each node's address, so it is only checked.</param>
internal sealed record SshTarget(string Login, string Node, int Port)
{
    /// <summary>Parses <paramref name="text"/>; a node written as <c>NODE.CLUSTER</c> (the generated ssh_config's host
    /// pattern) is <c>NODE</c>. Null with the sentence when it is not a target.</summary>
    public static (SshTarget? Target, string? Error) Parse(string text, string? clusterName)
    {
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
            return (null, $"'{text}' is not LOGIN@NODE[:PORT]; as a ProxyCommand give it %r@%h:%p");
        var login = text[..at];
        var rest = text[(at + 1)..];
        var port = 22;
        var colon = rest.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!int.TryParse(rest[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
                || port is < 1 or > 65535)
                return (null, $"'{rest[(colon + 1)..]}' in '{text}' is not a port");
            rest = rest[..colon];
        }
        if (clusterName is not null && rest.EndsWith("." + clusterName, StringComparison.OrdinalIgnoreCase)) rest = rest[..^(clusterName.Length + 1)];
        if (rest.Length == 0 || login.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || rest.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return (null, $"'{text}' is not LOGIN@NODE[:PORT]");
        return (new SshTarget(login, rest, port), null);
    }
}

/// <summary>
/// <c>gatehouse proxy ssh LOGIN@NODE</c>: the ProxyCommand of plain OpenSSH. It dials gatehouse-ssh (directly or through
/// a balancer's tunnel, as the dialer decides) and joins the connection to its standard input and output; ssh does the
/// rest, so scp, sftp, port forwarding and agent forwarding work as with any ProxyCommand. It ends when the connection
/// does: a read of standard input cannot be cancelled, so it is not waited for.
/// </summary>
internal static class SshProxyCommand
{
    /// <summary>Returns the exit status: 0 after a session, 1 with the sentence written to <paramref name="errors"/>.</summary>
    public static async Task<int> RunAsync(ProxyDialer dialer, SshTarget target, Stream input, Stream output, TextWriter errors,
        CancellationToken cancellationToken)
    {
        var result = await dialer.DialAsync(new DialTarget(AlpnProtocols.Ssh, target.Node, Login: target.Login), cancellationToken);
        if (result.Stream is not { } remote)
        {
            await errors.WriteLineAsync($"gatehouse: {target.Login}@{target.Node}: {result.Error}");
            return 1;
        }
        await using (remote)
        {
            // stdin → node in the background; its end (ssh closed our stdin) is passed on as a half-close.
            _ = CopyAsync(input, remote, cancellationToken);
            // node → stdout decides when we are done: when the proxy or the node ends the connection (a session that
            // ended, or one the proxy cut because the certificate expired), ssh must see the end at once. Waiting for
            // stdin as well would wait for ssh, which waits for us.
            var failure = await CopyAsync(remote, output, cancellationToken);
            await output.DisposeAsync();
            if (failure is not null and not OperationCanceledException)
            {
                await errors.WriteLineAsync($"gatehouse: the connection to {target.Node} through {dialer.Options.Proxy} ended: {failure.Message}");
                return 1;
            }
        }
        return 0;
    }

    /// <summary>One direction until its source ends; null for a clean end, else what failed.</summary>
    private static async Task<Exception?> CopyAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        try
        {
            await DuplexPump.CopyOneWayAsync(source, destination, cancellationToken);
            return null;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            return e;
        }
    }
}
