using System.Net;
using Gatehouse.Pki.Revocation;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Revocation;

/// <summary>The fetcher's limits against a loopback server that misbehaves on purpose: silence, too much, chunked too much.</summary>
public sealed class CrlFetcherLimitTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly HttpListener _listener = new();
    private readonly int _port = Peer.FreePort();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CrlFetcherLimitTests()
    {
        _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _listener.Start();
        _ = ServeAsync();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(async () =>
            {
                try
                {
                    switch (context.Request.Url!.AbsolutePath)
                    {
                        case "/silent": await _release.Task; break; // never answers until the test ends
                        case "/big": context.Response.ContentLength64 = 4096; await context.Response.OutputStream.WriteAsync(new byte[4096]); break;
                        case "/chunked":
                            context.Response.SendChunked = true;
                            for (var i = 0; i < 8; i++) await context.Response.OutputStream.WriteAsync(new byte[1024]);
                            break;
                    }
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { }
            });
        }
    }

    private async Task<CrlFetchResult> FetchAsync(string path, CrlFetchOptions options)
    {
        using var http = new HttpClient();
        return await new CrlFetcher(http, options).FetchAsync(new Uri($"http://user:secret@127.0.0.1:{_port}{path}"), _dir.Path, [], CancellationToken.None);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_a_failed_fetch_written_down()
    {
        var result = await FetchAsync("/silent", new CrlFetchOptions(TimeSpan.FromMilliseconds(300), 1024));
        Assert.Contains("no answer within", result.Error);
        Assert.DoesNotContain("secret", result.Error); // user information never reaches a message
        var url = new Uri($"http://user:secret@127.0.0.1:{_port}/silent");
        Assert.Equal(result.Error, File.ReadAllText(CrlCache.ErrorPath(_dir.Path, url)));
    }

    [Theory]
    [InlineData("/big")]
    [InlineData("/chunked")]
    public async Task A_crl_over_the_size_cap_is_refused(string path)
    {
        var result = await FetchAsync(path, new CrlFetchOptions(TimeSpan.FromSeconds(30), 1024));
        Assert.Contains("more than the 1024", result.Error);
    }

    public void Dispose()
    {
        _release.TrySetResult();
        _listener.Close();
        _dir.Dispose();
    }
}
