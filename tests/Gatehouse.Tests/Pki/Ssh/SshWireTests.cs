using Gatehouse.Pki.Ssh;

namespace Gatehouse.Tests.Pki.Ssh;

public sealed class SshWireTests
{
    // The mpint examples of RFC 4251 §5, plus a magnitude that arrives with redundant leading zeros.
    [Theory]
    [InlineData("", "00000000")]
    [InlineData("00", "00000000")]
    [InlineData("09a378f9b2e332a7", "0000000809a378f9b2e332a7")]
    [InlineData("80", "000000020080")]
    [InlineData("0000ff", "0000000200ff")]
    public void Mpint_is_minimal_twos_complement(string magnitudeHex, string expectedHex)
    {
        var writer = new SshWireWriter();
        writer.WriteMpint(Convert.FromHexString(magnitudeHex));
        Assert.Equal(expectedHex, Convert.ToHexStringLower(writer.WrittenSpan));

        // Reading gives the magnitude back without the redundant zeros.
        var reader = new SshWireReader(writer.WrittenSpan);
        var expected = Convert.FromHexString(magnitudeHex).AsSpan().TrimStart((byte)0).ToArray();
        Assert.Equal(expected, reader.ReadUnsignedMpint("n").ToArray());
    }

    [Fact]
    public void String_and_integers_are_network_order()
    {
        var writer = new SshWireWriter();
        writer.WriteString("testing");
        writer.WriteUInt32(0x29b7f4aa);
        writer.WriteUInt64(ulong.MaxValue);
        Assert.Equal("0000000774657374696e67" + "29b7f4aa" + "ffffffffffffffff", Convert.ToHexStringLower(writer.WrittenSpan));
    }

    [Fact]
    public void Reader_names_the_field_it_could_not_read()
    {
        var e = Assert.Throws<FormatException>(() => new SshWireReader(Convert.FromHexString("000000ff01")).ReadString("key id"));
        Assert.Contains("key id", e.Message);
        e = Assert.Throws<FormatException>(() => new SshWireReader(Convert.FromHexString("0000000180")).ReadUnsignedMpint("rsa n"));
        Assert.Contains("negative", e.Message);
    }

    [Fact]
    public void Forever_maps_to_MaxValue_both_ways()
    {
        Assert.Equal(ulong.MaxValue, OpenSshTime.ToWire(DateTimeOffset.MaxValue));
        Assert.Equal(DateTimeOffset.MaxValue, OpenSshTime.FromWire(ulong.MaxValue));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000), OpenSshTime.FromWire(1_700_000_000));
    }
}
