using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Storage.Sql;

/// <summary>
/// An audit event's details as the JSON object the trail stores (<c>{"key":"value",…}</c>, in the dictionary's order and
/// with the default encoder's escaping, as <c>JsonSerializer.Serialize</c> wrote it), through one writer and one buffer
/// reused for every event of a batch instead of a serializer call per event.
/// </summary>
internal sealed class AuditDetailsJson
{
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _writer;

    public AuditDetailsJson() => _writer = new Utf8JsonWriter(_buffer);

    public string Write(IReadOnlyDictionary<string, string> details)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        foreach (var (key, value) in details) _writer.WriteString(key, value);
        _writer.WriteEndObject();
        _writer.Flush();
        return Encoding.UTF8.GetString(_buffer.WrittenSpan);
    }
}
