using System.Net.Http.Headers;
using Gatehouse.Pki.Ocsp;
using Gatehouse.Testing;

namespace Gatehouse.Tests.Pki.Ocsp;

/// <summary>
/// The OCSP decoder survives whatever a network peer sends: random bytes, every truncation and every single-byte change
/// of a real <c>openssl ocsp</c> response. A changed response never yields a different answer; our request is what
/// openssl itself reads.
/// </summary>
public sealed class OcspDecoderMutationTests(OcspFixture pki) : IClassFixture<OcspFixture>
{
    private async Task<(byte[] Response, OcspCertId Id, byte[] Nonce)> RealResponseAsync(ExternalPki.Issued leaf)
    {
        using var certificate = leaf.Load();
        using var issuing = pki.Issuing.Load();
        var id = OcspCertId.For(certificate, issuing);
        var nonce = new byte[16];
        Random.Shared.NextBytes(nonce);
        using var http = new HttpClient();
        using var content = new ByteArrayContent(OcspRequest.Encode(id, nonce));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var response = await http.PostAsync(pki.Responder, content);
        return (await response.Content.ReadAsByteArrayAsync(), id, nonce);
    }

    [Fact]
    public async Task Our_request_is_what_openssl_reads()
    {
        using var certificate = pki.Revoked.Load();
        using var issuing = pki.Issuing.Load();
        var file = pki.Pki.File("request.der");
        await File.WriteAllBytesAsync(file, OcspRequest.Encode(OcspCertId.For(certificate, issuing), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]));
        var text = (await Peer.RunAsync("openssl", "ocsp", "-reqin", file, "-req_text")).EnsureSuccess("openssl ocsp -req_text").Stdout;
        Assert.Contains("Hash Algorithm: sha1", text);
        Assert.Contains($"Serial Number: {Convert.ToHexString(certificate.SerialNumberBytes.Span)}", text);
        Assert.Contains("OCSP Nonce", text);
        Assert.Contains("0410" + "0102030405060708090A0B0C0D0E0F10", text.Replace(" ", "").Replace("\n", ""));
    }

    [Fact]
    public async Task Every_truncation_and_single_byte_change_is_a_value_and_never_a_different_answer()
    {
        using var issuing = pki.Issuing.Load();
        var (der, id, nonce) = await RealResponseAsync(pki.Revoked);
        var now = DateTimeOffset.UtcNow;
        var (original, error) = OcspResponseDecoder.Decode(der, id, issuing, nonce, now);
        Assert.True(original is { Status: OcspCertStatus.Revoked }, error);

        for (var length = 0; length < der.Length; length++)
            Assert.Null(OcspResponseDecoder.Decode(der.AsMemory(0, length), id, issuing, nonce, now).Answer);
        for (var i = 0; i < der.Length; i++)
            foreach (var flip in new byte[] { 0x01, 0x80, 0xFF })
            {
                var changed = (byte[])der.Clone();
                changed[i] ^= flip;
                var (answer, why) = OcspResponseDecoder.Decode(changed, id, issuing, nonce, now);
                if (answer is null) Assert.False(string.IsNullOrEmpty(why));
                else Assert.Equal(original, answer); // only unsigned wrapping changed (e.g. the included certificate's bytes)
            }
    }

    [Fact]
    public void Random_bytes_are_refused_without_an_exception()
    {
        using var leaf = pki.Good.Load();
        using var issuing = pki.Issuing.Load();
        var id = OcspCertId.For(leaf, issuing);
        var random = new Random(6960);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length > 0) bytes[0] = 0x30;
            var (answer, error) = OcspResponseDecoder.Decode(bytes, id, issuing, null, DateTimeOffset.UtcNow);
            Assert.Null(answer);
            Assert.False(string.IsNullOrEmpty(error));
        }
    }

    [Fact]
    public async Task Another_requests_nonce_is_refused()
    {
        using var issuing = pki.Issuing.Load();
        var (der, id, nonce) = await RealResponseAsync(pki.Good);
        var other = (byte[])nonce.Clone();
        other[0] ^= 1;
        var (answer, error) = OcspResponseDecoder.Decode(der, id, issuing, other, DateTimeOffset.UtcNow);
        Assert.Null(answer);
        Assert.Contains("nonce", error);
        // And an answer read long after its nextUpdate is not believed.
        Assert.Contains("expired at its nextUpdate", OcspResponseDecoder.Decode(der, id, issuing, nonce, DateTimeOffset.UtcNow.AddDays(1)).Error);
    }
}
