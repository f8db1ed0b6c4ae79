using System.Buffers.Binary;

namespace Gatehouse.Proxy.Services.Postgres;

/// <summary>What a client's first packet inside Gatehouse's TLS asked for: a session, or the cancel of another one.</summary>
/// <param name="Parameters">For a session: the StartupMessage's parameters in the client's order (user, database,
/// application_name, …).</param>
/// <param name="Cancel">For a CancelRequest: the process id and secret key the client was given.</param>
/// <param name="Error">Why the packet is refused (a sentence), with nothing else set.</param>
internal sealed record PostgresStartup(IReadOnlyList<KeyValuePair<string, string>>? Parameters, (int ProcessId, int SecretKey)? Cancel,
    string? Error)
{
    /// <summary>The client left before a whole first packet (a port probe, a client giving up): nothing to answer.</summary>
    public bool ClientLeft { get; private init; }

    public string? Parameter(string name) => Parameters?.FirstOrDefault(p => p.Key == name).Value;

    /// <summary>
    /// Reads the client's first packet. Encryption requests are answered <c>N</c>: the connection is inside Gatehouse's TLS
    /// already (a tunnel or the one port), so libpq's <c>sslmode=prefer</c> goes on in the clear inside it, while
    /// <c>sslmode=require</c> would stop there — the local proxy's connection strings say <c>sslmode=disable</c>.
    /// </summary>
    public static async Task<PostgresStartup> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        // A client may ask for GSS encryption, then for SSL, then start: at most two refusals before a real packet.
        for (var round = 0; round < 3; round++)
        {
            var header = new byte[8];
            if (await stream.ReadAtLeastAsync(header, 8, throwOnEndOfStream: false, cancellationToken) < 8)
                return Refused("the connection ended before a whole startup packet") with { ClientLeft = true };
            var length = BinaryPrimitives.ReadInt32BigEndian(header);
            var code = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            if (length is < 8 or > PostgresWire.MaxStartupLength)
                return Refused($"a startup packet of {length} bytes is out of range (8 to {PostgresWire.MaxStartupLength})");
            var body = new byte[length - 8];
            if (await stream.ReadAtLeastAsync(body, body.Length, throwOnEndOfStream: false, cancellationToken) < body.Length)
                return Refused("the connection ended inside the startup packet");
            switch (PostgresWire.RequestCode(header))
            {
                case PostgresWire.SslRequestCode or PostgresWire.GssEncRequestCode:
                    await stream.WriteAsync("N"u8.ToArray(), cancellationToken);
                    await stream.FlushAsync(cancellationToken);
                    continue;
                case PostgresWire.CancelRequestCode:
                    return new PostgresStartup(null,
                        (BinaryPrimitives.ReadInt32BigEndian(body), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(4))), null);
            }
            if (code != PostgresWire.ProtocolVersion3)
                return Refused($"protocol version {code >> 16}.{code & 0xFFFF} is not spoken here; Gatehouse speaks the PostgreSQL protocol 3.0 (PostgreSQL 7.4 and later clients)");
            return Parse(body);
        }
        return Refused("the client asked for encryption again after it was refused");
    }

    /// <summary>The parameters of a StartupMessage body: name/value pairs of NUL-terminated strings, ended by an empty name.</summary>
    public static PostgresStartup Parse(ReadOnlySpan<byte> body)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        var at = 0;
        while (true)
        {
            if (at >= body.Length) return Refused("the startup packet's parameter list is not terminated");
            if (body[at] == 0) break;
            var name = PostgresWire.ReadCString(body, ref at);
            var value = name is null ? null : PostgresWire.ReadCString(body, ref at);
            if (name is null || value is null) return Refused("the startup packet holds a parameter without its end");
            if (parameters.Any(p => p.Key == name)) return Refused($"the startup packet names the parameter '{name}' twice");
            parameters.Add(new(name, value));
        }
        if (at != body.Length - 1) return Refused("the startup packet has bytes after its parameter list");
        if (!parameters.Any(p => p is { Key: "user", Value.Length: > 0 }))
            return Refused("the startup packet names no user; give the database user (psql -U NAME, or user= in the connection string)");
        return new PostgresStartup(parameters, null, null);
    }

    private static PostgresStartup Refused(string error) => new(null, null, error);
}
