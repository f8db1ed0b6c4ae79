using System.Security.Cryptography.X509Certificates;
using Gatehouse.Pki;

namespace Gatehouse.Tests.Pki;

public sealed class SerialNumbersTests
{
    [Theory]
    [InlineData("8F01", new byte[] { 0x00, 0x8F, 0x01 })]
    [InlineData("7F01", new byte[] { 0x7F, 0x01 })]
    [InlineData("F01", new byte[] { 0x0F, 0x01 })]
    public void Bytes_are_a_positive_der_integer(string serial, byte[] expected) => Assert.Equal(expected, SerialNumbers.ToBytes(serial));

    [Theory]
    [InlineData("8f:01", "8F01")]
    [InlineData("0x008F01", "8F01")]
    [InlineData(" 00 8f 01 ", "8F01")]
    [InlineData("F01", "0F01")]
    public void Pasted_serials_are_read_in_their_canonical_form(string text, string expected)
    {
        Assert.True(SerialNumbers.TryParse(text, out var serial));
        Assert.Equal(expected, serial);
    }

    [Theory]
    [InlineData("")]
    [InlineData("xyz")]
    [InlineData("12345678901234567890123456789012345678901234")]
    public void Nonsense_is_not_a_serial(string text) => Assert.False(SerialNumbers.TryParse(text, out _));

    [Fact]
    public void A_crl_built_from_stored_serials_lists_the_certificates_positive_serials()
    {
        // High-bit serials are the case a plain byte copy gets wrong (the CRL would list a negative number).
        var builder = new CertificateRevocationListBuilder();
        builder.AddEntry(SerialNumbers.ToBytes("8F01"), DateTimeOffset.UtcNow);
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new CertificateRequest("CN=ca", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var der = builder.Build(ca, 1, DateTimeOffset.UtcNow.AddDays(1), System.Security.Cryptography.HashAlgorithmName.SHA256);
        Assert.True(der.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x02, 0x03, 0x00, 0x8F, 0x01]) > 0, "the CRL does not hold INTEGER 0x008F01");
    }
}
