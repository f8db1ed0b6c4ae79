using System.Security.Cryptography;
using System.Text;
using Gatehouse.Storage;

namespace Gatehouse.Pki;

/// <summary>
/// The AES-256-GCM key that seals the authorities' private keys at rest. It comes from
/// <c>GATEHOUSE_MASTER_KEY</c> (base64 of 32 bytes) or from <c>master.key</c> in the data directory,
/// created on first start with owner-only permissions.
/// </summary>
internal sealed class MasterKey : IDisposable
{
    public const string EnvironmentVariable = "GATEHOUSE_MASTER_KEY";
    public const string FileName = "master.key";
    private const int KeySize = 32, NonceSize = 12, TagSize = 16;
    private static readonly byte[] Magic = "GHK1"u8.ToArray();

    private readonly byte[] _key;

    private MasterKey(byte[] key, string source)
    {
        _key = key;
        Source = source;
    }

    /// <summary>Where the key came from, for error messages (never the key itself).</summary>
    public string Source { get; }

    public static MasterKey FromBytes(byte[] key, string source) =>
        key.Length == KeySize ? new MasterKey(key, source) : throw new ArgumentException("a master key is 32 bytes", nameof(key));

    /// <summary>Loads the key from the environment value if given, else from the data directory; creates the file when allowed.</summary>
    public static MasterKey Load(string dataDirectory, string? environmentValue, bool createIfMissing)
    {
        if (!string.IsNullOrWhiteSpace(environmentValue))
            return new MasterKey(Decode(environmentValue, EnvironmentVariable), EnvironmentVariable);

        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            string text;
            try { text = File.ReadAllText(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SetupException($"{path}: cannot read the master key ({e.Message}); fix its permissions or set {EnvironmentVariable}.", e);
            }
            return new MasterKey(Decode(text, path), path);
        }
        if (!createIfMissing)
            throw new SetupException($"{path} is missing and {EnvironmentVariable} is not set: the CA keys in this data directory cannot be decrypted without the key they were sealed with. Restore master.key from your backup or set {EnvironmentVariable}.");

        var key = RandomNumberGenerator.GetBytes(KeySize);
        AtomicFile.Write(path, Convert.ToBase64String(key) + "\n", AtomicFile.OwnerOnly);
        return new MasterKey(key, path);
    }

    private static byte[] Decode(string text, string source)
    {
        byte[]? key = null;
        var trimmed = text.Trim();
        try { key = Convert.FromBase64String(trimmed); }
        catch (FormatException)
        {
            if (trimmed.Length == KeySize * 2 && trimmed.All(Uri.IsHexDigit))
                key = Convert.FromHexString(trimmed);
        }
        if (key is not { Length: KeySize })
            throw new SetupException($"{source}: a master key is 32 random bytes in base64 (make one with `openssl rand -base64 32`); this value is not.");
        return key;
    }

    /// <summary>Encrypts; <paramref name="purpose"/> is bound into the tag so a sealed key cannot be swapped for another.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, string purpose)
    {
        var output = new byte[Magic.Length + NonceSize + TagSize + plaintext.Length];
        Magic.CopyTo(output, 0);
        var nonce = output.AsSpan(Magic.Length, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(Magic.Length + NonceSize + TagSize), output.AsSpan(Magic.Length + NonceSize, TagSize),
            Encoding.UTF8.GetBytes(purpose));
        return output;
    }

    /// <summary>Decrypts, or says why it cannot (wrong key, corrupt or foreign data).</summary>
    public bool TryUnseal(ReadOnlySpan<byte> sealedData, string purpose, out byte[] plaintext, out string? error)
    {
        plaintext = [];
        if (sealedData.Length < Magic.Length + NonceSize + TagSize || !sealedData[..Magic.Length].SequenceEqual(Magic))
        {
            error = "the sealed key is corrupt (unknown format)";
            return false;
        }
        var body = sealedData[(Magic.Length + NonceSize + TagSize)..];
        var result = new byte[body.Length];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(sealedData.Slice(Magic.Length, NonceSize), body, sealedData.Slice(Magic.Length + NonceSize, TagSize), result,
                Encoding.UTF8.GetBytes(purpose));
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(result);
            error = $"the master key from {Source} does not decrypt it (a different key, or the data was altered)";
            return false;
        }
        plaintext = result;
        error = null;
        return true;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
