using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Access.Users;

/// <summary>
/// Password hashes as PBKDF2-HMAC-SHA256 with 600 000 iterations (OWASP's current figure for this construction;
/// Argon2id has no package here), stored as <c>$pbkdf2-sha256$i=600000$&lt;salt b64&gt;$&lt;hash b64&gt;</c>.
/// </summary>
internal static class PasswordHasher
{
    public const int Iterations = 600_000;
    private const int SaltSize = 16, HashSize = 32;
    private const string Prefix = "$pbkdf2-sha256$";

    /// <summary>A hash of nothing in particular: checking an unknown user against it costs what a real check costs,
    /// so a wrong user name and a wrong password take the same time.</summary>
    private static readonly string Decoy = Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));

    public static string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, HashSize);
        return $"{Prefix}i={Iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>Constant-time check; a null or malformed stored hash never matches but costs the same.</summary>
    public static bool Verify(string password, string? stored)
    {
        if (!TryParse(stored, out var iterations, out var salt, out var expected))
        {
            TryParse(Decoy, out iterations, out salt, out expected);
            Compute(password, salt, iterations, expected.Length);
            return false;
        }
        var actual = Compute(password, salt, iterations, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static byte[] Compute(string password, byte[] salt, int iterations, int length) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, length);

    private static bool TryParse(string? stored, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = hash = [];
        if (stored is null || !stored.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var parts = stored[Prefix.Length..].Split('$');
        if (parts.Length != 3 || !parts[0].StartsWith("i=", StringComparison.Ordinal)
            || !int.TryParse(parts[0][2..], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < 1)
            return false;
        try
        {
            salt = Convert.FromBase64String(parts[1]);
            hash = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }
        return salt.Length > 0 && hash.Length > 0;
    }
}
