using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Logging;

/// <summary>
/// Where connection- or access-log lines go: a file (appended, created owner-only) or standard output. Lines are queued
/// and written by one background loop, so a slow disk never holds up a handshake or a request; each burst is flushed.
/// </summary>
internal sealed class LogSink : IAsyncDisposable
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    private LogSink(TextWriter writer, bool own, string destination, ILogger logger) => _writer = WriteAsync(writer, own, destination, logger);

    /// <summary>Opens the destination now (so a path that cannot be written stops the start); null for no destination.</summary>
    public static LogSink? Open(string? destination, ILogger logger)
    {
        if (destination is null) return null;
        if (destination == Configuration.LogTarget.Stdout) return new LogSink(Console.Out, own: false, destination, logger);
        var stream = new FileStream(destination, new FileStreamOptions
        {
            Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, Options = FileOptions.Asynchronous,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        return new LogSink(new StreamWriter(stream) { NewLine = "\n" }, own: true, destination, logger);
    }

    public void Write(string line) => _lines.Writer.TryWrite(line);

    private async Task WriteAsync(TextWriter writer, bool own, string destination, ILogger logger)
    {
        await Task.Yield();
        try
        {
            while (await _lines.Reader.WaitToReadAsync())
            {
                try
                {
                    while (_lines.Reader.TryRead(out var line)) await writer.WriteLineAsync(line);
                    await writer.FlushAsync();
                }
                catch (IOException e)
                {
                    EdgeLog.LogWriteFailed(logger, destination, e.Message);
                }
            }
        }
        finally
        {
            if (own) await writer.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer;
    }
}
