namespace Gatehouse.Routing;

/// <summary>What sniffing the first bytes of a connection found (ARCHITECTURE §3).</summary>
internal enum ClientHelloStatus
{
    /// <summary>A TLS ClientHello so far, but not all of it yet.</summary>
    NeedMoreData,

    /// <summary>A whole, well-formed ClientHello.</summary>
    Complete,

    /// <summary>Not TLS at all (plain HTTP, SSLv2-style hello, anything else): close and count it.</summary>
    NotTls,

    /// <summary>The ClientHello does not fit in the sniffing limit.</summary>
    TooLarge,

    /// <summary>TLS framing, but lengths or extensions that break RFC 8446 / RFC 6066 / RFC 7301.</summary>
    Malformed,

    /// <summary>Only from <see cref="ClientHelloReader"/>: the peer did not send a whole ClientHello in time.</summary>
    TimedOut,

    /// <summary>Only from <see cref="ClientHelloReader"/>: the peer closed (or reset) the connection first.</summary>
    Closed,
}

/// <summary>
/// The result of <see cref="ClientHelloParser.TryParse"/>: an expected outcome as a value (STYLE habit 2).
/// <see cref="ServerName"/> and <see cref="Alpn"/> are set only when <see cref="Status"/> is Complete;
/// <see cref="ConsumedLength"/> is the length of the TLS record(s) that carry the ClientHello.
/// </summary>
internal readonly record struct ClientHelloParse(
    ClientHelloStatus Status, string? ServerName, IReadOnlyList<string> Alpn, int ConsumedLength, string? Error)
{
    public static ClientHelloParse NeedMoreData { get; } = new(ClientHelloStatus.NeedMoreData, null, [], 0, null);

    public static ClientHelloParse Complete(string? serverName, IReadOnlyList<string> alpn, int consumedLength) =>
        new(ClientHelloStatus.Complete, serverName, alpn, consumedLength, null);

    public static ClientHelloParse Failed(ClientHelloStatus status, string error) => new(status, null, [], 0, error);

    /// <summary>True when no more bytes will change the answer.</summary>
    public bool IsFinal => Status != ClientHelloStatus.NeedMoreData;
}

/// <summary>
/// How far <see cref="ClientHelloParser"/> has walked the record headers of a growing buffer, so a reader that calls it
/// after every read looks at each record header once instead of re-walking from the start (a peer sending 1-byte
/// records one byte at a time would otherwise cost quadratic work).
/// </summary>
internal struct ClientHelloScan
{
    /// <summary>Offset just past the last complete record walked.</summary>
    internal long RecordsEnd;

    /// <summary>Handshake bytes in those records.</summary>
    internal long HandshakeBytes;

    /// <summary>4 + the handshake header's length, once its 4 bytes have arrived; otherwise 0.</summary>
    internal long HandshakeLength;
}
