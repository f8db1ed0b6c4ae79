using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Routing;

/// <summary>
/// What a client asks for after the inner TLS handshake (ARCHITECTURE §3): one frame of a 4-byte big-endian length
/// and UTF-8 JSON, e.g. <c>{"target":"echo"}</c> for a TCP app or <c>{"target":"node1","login":"root"}</c> for SSH.
/// </summary>
internal sealed record DialRequest(
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("login")] string? Login = null,
    [property: JsonPropertyName("db_user")] string? DbUser = null,
    [property: JsonPropertyName("db_name")] string? DbName = null,
    // Decide and answer, but do not connect: a client learns up front whether the target exists and may be reached.
    [property: JsonPropertyName("probe")] bool? Probe = null);

/// <summary>The proxy's one-frame answer: ok, or a sentence the user can act on and a code a program can.</summary>
internal sealed record DialAnswer(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("error")] string? Error = null,
    [property: JsonPropertyName("code")] string? Code = null)
{
    public static DialAnswer Accepted { get; } = new(true);
    public static DialAnswer Refuse(string code, string error) => new(false, error, code);
}

/// <summary>Codes in <see cref="DialAnswer.Code"/>.</summary>
internal static class DialCodes
{
    public const string Denied = "denied", NotFound = "not_found", Unreachable = "unreachable", BadRequest = "bad_request", Unauthenticated = "unauthenticated",
        // The tunnel's inner certificate is not the user whose certificate the balancer forwarded (ARCHITECTURE §4).
        Binding = "binding",
        // The target is an HTTP app: it is served on the web side (/apps/NAME/), not as a TCP stream.
        HttpApp = "http_app";
}

[JsonSerializable(typeof(DialRequest))]
[JsonSerializable(typeof(DialAnswer))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class DialJson : JsonSerializerContext;

/// <summary>Reads and writes dial frames; a frame is at most <see cref="MaxFrameSize"/> bytes of JSON.</summary>
internal static class DialFrames
{
    public const int MaxFrameSize = 64 * 1024;

    public static ValueTask WriteAsync(Stream stream, DialRequest request, CancellationToken cancellationToken) =>
        WriteAsync(stream, JsonSerializer.SerializeToUtf8Bytes(request, DialJson.Default.DialRequest), cancellationToken);

    public static ValueTask WriteAsync(Stream stream, DialAnswer answer, CancellationToken cancellationToken) =>
        WriteAsync(stream, JsonSerializer.SerializeToUtf8Bytes(answer, DialJson.Default.DialAnswer), cancellationToken);

    /// <summary>Null with <paramref name="error"/> set when the peer sent no frame, a frame too large, or not the JSON expected.</summary>
    public static async ValueTask<(DialRequest? Request, string? Error)> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        var (payload, error) = await ReadFrameAsync(stream, cancellationToken);
        if (payload is null) return (null, error);
        try
        {
            var request = JsonSerializer.Deserialize(payload, DialJson.Default.DialRequest);
            return request is { Target.Length: > 0 } ? (request, null) : (null, "the dial frame names no target");
        }
        catch (JsonException e)
        {
            return (null, $"the dial frame is not JSON of the expected shape ({e.Message})");
        }
    }

    public static async ValueTask<(DialAnswer? Answer, string? Error)> ReadAnswerAsync(Stream stream, CancellationToken cancellationToken)
    {
        var (payload, error) = await ReadFrameAsync(stream, cancellationToken);
        if (payload is null) return (null, error);
        try
        {
            return (JsonSerializer.Deserialize(payload, DialJson.Default.DialAnswer) ?? throw new JsonException("null"), null);
        }
        catch (JsonException e)
        {
            return (null, $"the proxy's answer is not JSON of the expected shape ({e.Message})");
        }
    }

    private static async ValueTask WriteAsync(Stream stream, byte[] json, CancellationToken cancellationToken)
    {
        var frame = ArrayPool<byte>.Shared.Rent(json.Length + 4);
        try
        {
            BinaryPrimitives.WriteInt32BigEndian(frame, json.Length);
            json.CopyTo(frame, 4);
            await stream.WriteAsync(frame.AsMemory(0, json.Length + 4), cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static async ValueTask<(byte[]? Payload, string? Error)> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        if (!await ReadExactlyOrEndAsync(stream, header, cancellationToken)) return (null, "the connection closed before a dial frame");
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is <= 0 or > MaxFrameSize) return (null, $"a dial frame of {length} bytes is out of range (1 to {MaxFrameSize})");
        var payload = new byte[length];
        return await ReadExactlyOrEndAsync(stream, payload, cancellationToken) ? (payload, null) : (null, "the connection closed inside a dial frame");
    }

    private static async ValueTask<bool> ReadExactlyOrEndAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }
}
