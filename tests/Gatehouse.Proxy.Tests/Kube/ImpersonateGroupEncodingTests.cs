using System.Text;
using Gatehouse.Proxy.Kube;

namespace Gatehouse.Proxy.Tests.Kube;

/// <summary>The bytes the kube upstream writes for Impersonate-Group: one line per group, nothing else.</summary>
public sealed class ImpersonateGroupEncodingTests
{
    private static string Encode(string value)
    {
        var encoding = ImpersonateGroupEncoding.Instance;
        var bytes = new byte[encoding.GetMaxByteCount(value.Length)];
        var written = encoding.GetBytes(value.AsSpan(), bytes);
        Assert.Equal(encoding.GetByteCount(value), written);
        return Encoding.ASCII.GetString(bytes, 0, written);
    }

    [Fact]
    public void Joined_groups_become_one_header_line_each()
    {
        var value = string.Join(ImpersonateGroupEncoding.LineBreak, "developers", "viewers", "system:authenticated");

        Assert.Equal("developers\r\nImpersonate-Group: viewers\r\nImpersonate-Group: system:authenticated", Encode(value));
    }

    [Fact]
    public void One_group_is_written_as_is()
    {
        Assert.Equal("dev team", Encode("dev team"));
    }

    [Theory]
    [InlineData("ops\r\nImpersonate-User: root")]
    [InlineData("ops\nX: y")]
    [InlineData("équipe")]
    [InlineData("ops\uE000admins")]
    [InlineData("")]
    public void Groups_that_could_write_anything_but_themselves_are_not_sendable(string group)
    {
        Assert.False(ImpersonateGroupEncoding.IsSendable(group));
    }

    [Fact]
    public void Characters_outside_visible_ascii_never_reach_the_wire_raw()
    {
        // IsSendable keeps them out; should one slip through, it is a '?' and not a line break.
        Assert.Equal("a?b?c", Encode("a\rb\nc"));
    }
}
