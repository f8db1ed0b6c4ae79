using System.Text;
using Gatehouse.Proxy.Services.Databases;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services.MySql;

/// <summary>What the gate does with a command the client sent.</summary>
internal interface IMySqlCommandJudge
{
    /// <summary>COM_INIT_DB (<c>USE</c>, <c>mysql -D</c> after a reconnect): null to let it pass, else the sentence of the
    /// refusal (already logged and audited).</summary>
    ValueTask<string?> ChangeDatabaseAsync(string database, CancellationToken cancellationToken);

    /// <summary>A command that is never passed on (a change of user, replication): the sentence of the refusal.</summary>
    ValueTask<string> RefuseCommandAsync(byte command, CancellationToken cancellationToken);

    /// <summary>A statement's text (COM_QUERY: "text", COM_STMT_PREPARE: "prepare"), cut at the audit length.</summary>
    void Statement(string protocol, string text, bool cut);
}

/// <summary>
/// The client's side of a relayed MySQL session, as the relay reads it: packets framed (3-byte length, sequence id) as
/// they pass, so each command is seen at its start. COM_QUERY and COM_STMT_PREPARE are reported for the audit (their
/// first bytes only are kept); COM_INIT_DB is judged against db_names and, refused, answered here with an ERR the client
/// prints instead of going upstream; a change of user and replication commands are refused the same way. Everything
/// else passes untouched, in chunks. Writes toward the client are serialised, so a refusal never interleaves with the
/// server's replies.
/// </summary>
internal sealed class MySqlCommandGate(Stream client, IMySqlCommandJudge judge, int maxText) : Stream, IHalfClosable
{
    private const byte ComInitDb = 0x02, ComQuery = 0x03, ComChangeUser = 0x11, ComBinlogDump = 0x12, ComTableDump = 0x13,
        ComRegisterReplica = 0x15, ComStmtPrepare = 0x16, ComBinlogDumpGtid = 0x1E;

    /// <summary>A database name is at most 64 characters; a COM_INIT_DB longer than this is no real one.</summary>
    private const int MaxInitDb = 1024;

    /// <summary>Packets up to this size are read whole before they go on.</summary>
    private const int WholePacket = 16 * 1024;

    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly byte[] _text = new byte[maxText];
    private byte[] _pending = [];
    private int _pendingAt;
    private long _remaining;
    private bool _continues;
    private string? _capturing;
    private int _textLength;
    private bool _cut;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A zero-byte read waits for data (the relay's idle wait); bytes held here are data already.
        if (buffer.IsEmpty) return _pendingAt < _pending.Length ? 0 : await client.ReadAsync(buffer, cancellationToken);
        while (true)
        {
            if (_pendingAt < _pending.Length)
            {
                var count = Math.Min(buffer.Length, _pending.Length - _pendingAt);
                _pending.AsMemory(_pendingAt, count).CopyTo(buffer);
                _pendingAt += count;
                return count;
            }
            if (_remaining > 0)
            {
                var read = await client.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
                if (read == 0) throw new InvalidDataException("the client's connection ended inside a packet");
                Capture(buffer.Span[..read]);
                _remaining -= read;
                if (_remaining == 0) EndPacket();
                return read;
            }
            var header = new byte[4];
            var got = await client.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken);
            if (got == 0) return 0;
            if (got < 4) throw new InvalidDataException("the client's connection ended inside a packet header");
            if (await NextPacketAsync(header, cancellationToken) is { } passed)
            {
                _pending = passed;
                _pendingAt = 0;
            }
        }
    }

    /// <summary>Starts a packet: what goes upstream first (its header, maybe its command byte or whole payload), or null
    /// when the command was answered here and nothing of it goes on.</summary>
    private async ValueTask<byte[]?> NextPacketAsync(byte[] header, CancellationToken cancellationToken)
    {
        var length = MySqlWire.PayloadLength(header);
        var command = !_continues && header[3] == 0 && length > 0;
        _continues = length == MySqlWire.MaxPayload;
        if (!command)
        {
            // A continuation, or an empty packet: passed as it is.
            _remaining = length;
            return await WithBodyAsync(header, cancellationToken);
        }
        var first = new byte[1];
        await ReadExactlyAsync(first, cancellationToken);
        // A command answered here is not passed on; one that goes on in further packets cannot be cut out of the stream.
        if (_continues && first[0] is ComInitDb or ComChangeUser or ComBinlogDump or ComTableDump or ComRegisterReplica or ComBinlogDumpGtid)
            throw new InvalidDataException($"the client sent a command (0x{first[0]:x2}) of 16 MiB or more that Gatehouse would answer itself; the session is ended");
        switch (first[0])
        {
            case ComInitDb:
                var name = new byte[Math.Min(length - 1, MaxInitDb)];
                await ReadExactlyAsync(name, cancellationToken);
                await SkipAsync(length - 1 - name.Length, cancellationToken);
                var database = Encoding.UTF8.GetString(name);
                var refusal = name.Length < length - 1
                    ? $"a database name of {length - 1} bytes is no database name"
                    : await judge.ChangeDatabaseAsync(database, cancellationToken);
                if (refusal is null) return [.. header, ComInitDb, .. name];
                await AnswerAsync(MySqlWire.Error(MySqlWire.DbAccessDenied, "42000", $"gatehouse: {refusal}"), cancellationToken);
                return null;
            case ComChangeUser or ComBinlogDump or ComTableDump or ComRegisterReplica or ComBinlogDumpGtid:
                await SkipAsync(length - 1, cancellationToken);
                var why = await judge.RefuseCommandAsync(first[0], cancellationToken);
                await AnswerAsync(MySqlWire.Error(MySqlWire.UnknownCommand, "08S01", $"gatehouse: {why}"), cancellationToken);
                return null;
            case ComQuery or ComStmtPrepare:
                _capturing = first[0] == ComQuery ? "text" : "prepare";
                _textLength = 0;
                _cut = length == MySqlWire.MaxPayload; // the text goes on in the next packet
                break;
        }
        _remaining = length - 1;
        return await WithBodyAsync([.. header, first[0]], cancellationToken);
    }

    /// <summary>A packet's start, with the rest of its payload when that is small (as commands are): the packet then goes
    /// upstream in one write — one TLS record — rather than its head and its body apart. A larger one follows in chunks.</summary>
    private async ValueTask<byte[]> WithBodyAsync(byte[] start, CancellationToken cancellationToken)
    {
        if (_remaining > WholePacket) return start;
        var packet = new byte[start.Length + _remaining];
        start.CopyTo(packet, 0);
        var body = packet.AsMemory(start.Length);
        if (await client.ReadAtLeastAsync(body, body.Length, throwOnEndOfStream: false, cancellationToken) < body.Length)
            throw new InvalidDataException("the client's connection ended inside a packet");
        Capture(body.Span);
        _remaining = 0;
        EndPacket();
        return packet;
    }

    private void Capture(ReadOnlySpan<byte> bytes)
    {
        if (_capturing is null) return;
        var room = _text.Length - _textLength;
        if (bytes.Length > room) _cut = true;
        bytes[..Math.Min(room, bytes.Length)].CopyTo(_text.AsSpan(_textLength));
        _textLength += Math.Min(room, bytes.Length);
    }

    private void EndPacket()
    {
        if (_capturing is { } protocol)
        {
            _capturing = null;
            judge.Statement(protocol, StatementText.DecodeCut(_text.AsSpan(0, _textLength), _cut), _cut);
        }
    }

    private async ValueTask ReadExactlyAsync(byte[] into, CancellationToken cancellationToken)
    {
        if (await client.ReadAtLeastAsync(into, into.Length, throwOnEndOfStream: false, cancellationToken) < into.Length)
            throw new InvalidDataException("the client's connection ended inside a packet");
    }

    private async ValueTask SkipAsync(long count, CancellationToken cancellationToken)
    {
        var scratch = new byte[(int)Math.Min(count, 16 * 1024)];
        while (count > 0)
        {
            var read = await client.ReadAsync(scratch.AsMemory(0, (int)Math.Min(count, scratch.Length)), cancellationToken);
            if (read == 0) throw new InvalidDataException("the client's connection ended inside a packet");
            count -= read;
        }
    }

    /// <summary>The reply to a command answered here: sequence id 1, after the command's 0.</summary>
    private async ValueTask AnswerAsync(byte[] payload, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            await MySqlWire.WritePacketAsync(client, 1, payload, cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            await client.WriteAsync(buffer, cancellationToken);
            await client.FlushAsync(cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask; // each write is flushed under the lock

    public async ValueTask CompleteWritesAsync() => await DuplexPump.HalfCloseAsync(client);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the gate is read asynchronously");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("the gate is written asynchronously");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _writing.Dispose();
        base.Dispose(disposing);
    }
}
