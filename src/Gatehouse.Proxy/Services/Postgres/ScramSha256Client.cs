using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Proxy.Services.Postgres;

/// <summary>
/// The client side of SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash) as PostgreSQL speaks it (PostgreSQL documentation
/// §53.3.1): no channel binding (gs2 header <c>n,,</c>), an empty user name in the message since the server takes the
/// startup message's user. Also proves the server knew the password: its final signature is checked.
/// </summary>
internal sealed class ScramSha256Client(string password)
{
    public const string Mechanism = "SCRAM-SHA-256";
    private const string Gs2Header = "n,,";

    /// <summary>More iterations than any server would use: a larger count is refused rather than computed.</summary>
    private const int MaxIterations = 10_000_000;

    private readonly string _clientNonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
    private string? _authMessage;
    private byte[]? _saltedPassword;

    /// <summary>client-first-message.</summary>
    public string ClientFirst() => Gs2Header + ClientFirstBare;

    private string ClientFirstBare => $"n=,r={_clientNonce}";

    /// <summary>client-final-message for the server-first-message; throws <see cref="InvalidDataException"/> when it is not
    /// one this exchange can continue from.</summary>
    public string ClientFinal(string serverFirst)
    {
        var attributes = Attributes(serverFirst);
        if (!attributes.TryGetValue('r', out var nonce) || !nonce.StartsWith(_clientNonce, StringComparison.Ordinal) || nonce.Length == _clientNonce.Length)
            throw new InvalidDataException("the server's SCRAM nonce does not extend the client's");
        if (!attributes.TryGetValue('s', out var saltText) || !TryBase64(saltText, out var salt) || salt.Length == 0)
            throw new InvalidDataException("the server's SCRAM salt is missing or not base64");
        if (!attributes.TryGetValue('i', out var iterationText) || !int.TryParse(iterationText, out var iterations) || iterations is < 1 or > MaxIterations)
            throw new InvalidDataException($"the server's SCRAM iteration count '{iterationText}' is out of range (1 to {MaxIterations})");

        _saltedPassword = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var withoutProof = $"c={Convert.ToBase64String(Encoding.ASCII.GetBytes(Gs2Header))},r={nonce}";
        _authMessage = $"{ClientFirstBare},{serverFirst},{withoutProof}";
        var clientKey = HMACSHA256.HashData(_saltedPassword, "Client Key"u8);
        var clientSignature = HMACSHA256.HashData(SHA256.HashData(clientKey), Encoding.UTF8.GetBytes(_authMessage));
        for (var i = 0; i < clientKey.Length; i++) clientKey[i] ^= clientSignature[i];
        return $"{withoutProof},p={Convert.ToBase64String(clientKey)}";
    }

    /// <summary>Whether the server-final-message proves the server knows the password (or says why not).</summary>
    public string? CheckServerFinal(string serverFinal)
    {
        if (_saltedPassword is null || _authMessage is null) return "the server finished SCRAM before the client's final message";
        var attributes = Attributes(serverFinal);
        if (attributes.TryGetValue('e', out var error)) return $"the server refused the SCRAM proof ({error})";
        if (!attributes.TryGetValue('v', out var verifierText) || !TryBase64(verifierText, out var verifier))
            return "the server's SCRAM final message has no signature";
        var serverKey = HMACSHA256.HashData(_saltedPassword, "Server Key"u8);
        var expected = HMACSHA256.HashData(serverKey, Encoding.UTF8.GetBytes(_authMessage));
        return CryptographicOperations.FixedTimeEquals(expected, verifier) ? null
            : "the server's SCRAM signature is wrong: it does not know the password (is addr the right database?)";
    }

    private static Dictionary<char, string> Attributes(string message)
    {
        var attributes = new Dictionary<char, string>();
        foreach (var part in message.Split(','))
            if (part.Length >= 2 && part[1] == '=')
                attributes.TryAdd(part[0], part[2..]);
        return attributes;
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, bytes, out var written)) return false;
        bytes = bytes[..written];
        return true;
    }
}
