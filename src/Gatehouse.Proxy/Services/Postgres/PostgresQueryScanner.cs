using System.Buffers.Binary;
using Gatehouse.Proxy.Services.Databases;
using Gatehouse.Routing;

namespace Gatehouse.Proxy.Services.Postgres;

/// <summary>
/// Follows the messages a client sends once its session has started, as they pass to the database in chunks of any
/// size, and reports each statement's text: a <c>Query</c> ('Q', simple query protocol) and a <c>Parse</c> ('P', the
/// extended protocol's statement). Nothing is buffered but the first <paramref name="maxText"/> bytes of a statement;
/// the bytes themselves go on untouched. A message length that cannot be (below 4, or above 1 GiB as the server's own
/// limit, PG_LARGE_MESSAGE_LIMIT) ends the session: what cannot be framed cannot be audited.
/// </summary>
/// <param name="onStatement">Called with 'Q' or 'P', the text (UTF-8, cut at <paramref name="maxText"/> bytes) and
/// whether it was cut.</param>
internal sealed class PostgresQueryScanner(int maxText, Action<char, string, bool> onStatement) : IByteObserver
{
    private const int MaxMessageLength = 0x3FFFFFFF;

    private readonly byte[] _header = new byte[5];
    private readonly byte[] _text = new byte[maxText];
    private int _headerFill;
    private long _remaining;
    private char _type;
    private Capture _capture;
    private int _textLength;
    private bool _cut;

    private enum Capture { None, SkippingName, Text, Done }

    public void Observe(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_remaining == 0 && _headerFill < 5)
            {
                var take = Math.Min(5 - _headerFill, bytes.Length);
                bytes[..take].CopyTo(_header.AsSpan(_headerFill));
                _headerFill += take;
                bytes = bytes[take..];
                if (_headerFill < 5) return;
                Begin();
                continue;
            }
            var body = bytes[..(int)Math.Min(_remaining, bytes.Length)];
            Scan(body);
            _remaining -= body.Length;
            bytes = bytes[body.Length..];
            if (_remaining == 0) End();
        }
    }

    private void Begin()
    {
        _type = (char)_header[0];
        var length = BinaryPrimitives.ReadInt32BigEndian(_header.AsSpan(1));
        if (length is < 4 or > MaxMessageLength)
            throw new InvalidDataException($"the client sent a '{_type}' message of {length} bytes, which no PostgreSQL server accepts");
        _remaining = length - 4;
        _capture = _type switch { 'Q' => Capture.Text, 'P' => Capture.SkippingName, _ => Capture.None };
        _textLength = 0;
        _cut = false;
        if (_remaining == 0) End();
    }

    private void Scan(ReadOnlySpan<byte> body)
    {
        if (_capture == Capture.SkippingName)
        {
            var end = body.IndexOf((byte)0);
            if (end < 0) return;
            _capture = Capture.Text;
            body = body[(end + 1)..];
        }
        if (_capture != Capture.Text) return;
        var nul = body.IndexOf((byte)0);
        var text = nul < 0 ? body : body[..nul];
        var room = _text.Length - _textLength;
        if (text.Length > room) _cut = true;
        text[..Math.Min(room, text.Length)].CopyTo(_text.AsSpan(_textLength));
        _textLength += Math.Min(room, text.Length);
        if (nul >= 0) _capture = Capture.Done;
    }

    private void End()
    {
        _headerFill = 0;
        if (_capture is Capture.Text or Capture.Done && _type is 'Q' or 'P')
            onStatement(_type, StatementText.DecodeCut(_text.AsSpan(0, _textLength), _cut), _cut);
        _capture = Capture.None;
    }
}
