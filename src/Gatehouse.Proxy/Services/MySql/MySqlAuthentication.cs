using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Proxy.Services.MySql;

/// <summary>
/// The password scrambles of the two auth plugins Gatehouse logs in with (MySQL source documentation, "Authentication
/// Methods"). Neither sends the password: each proves it against the server's 20-byte scramble.
/// </summary>
internal static class MySqlAuthentication
{
    public const string NativePassword = "mysql_native_password", CachingSha2 = "caching_sha2_password";

    /// <summary>mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for no password.</summary>
    public static byte[] NativeScramble(string password, ReadOnlySpan<byte> scramble)
    {
        if (password.Length == 0) return [];
        var stage1 = SHA1.HashData(Encoding.UTF8.GetBytes(password));
        var stage2 = SHA1.HashData(stage1);
        var mixed = SHA1.HashData([.. scramble, .. stage2]);
        for (var i = 0; i < mixed.Length; i++) mixed[i] ^= stage1[i];
        return mixed;
    }

    /// <summary>caching_sha2_password's fast path: SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble).</summary>
    public static byte[] CachingSha2Scramble(string password, ReadOnlySpan<byte> scramble)
    {
        if (password.Length == 0) return [];
        var stage1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        var stage2 = SHA256.HashData(stage1);
        var mixed = SHA256.HashData([.. stage2, .. scramble]);
        for (var i = 0; i < mixed.Length; i++) mixed[i] ^= stage1[i];
        return mixed;
    }

    /// <summary>The answer to a plugin's request for <paramref name="plugin"/>: the password's scramble, or null when the
    /// plugin is not one Gatehouse speaks.</summary>
    public static byte[]? Answer(string plugin, string password, ReadOnlySpan<byte> scramble) => plugin switch
    {
        NativePassword => NativeScramble(password, scramble),
        CachingSha2 => CachingSha2Scramble(password, scramble),
        // A user with no password answers any plugin with nothing (a certificate user: REQUIRE SUBJECT, no password).
        _ when password.Length == 0 => [],
        _ => null,
    };

    /// <summary>An ERR packet's code and message, for a log line or a sentence.</summary>
    public static string ErrorText(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 3 || payload[0] != 0xFF) return "(not an error packet)";
        var code = BinaryPrimitives.ReadUInt16LittleEndian(payload[1..]);
        var message = payload[3..];
        if (message.Length >= 6 && message[0] == (byte)'#') message = message[6..];
        return $"{code}: {Encoding.UTF8.GetString(message)}";
    }
}
