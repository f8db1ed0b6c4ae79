namespace Gatehouse.Storage;

/// <summary>A certificate authority as stored: its public part and its private key sealed with the master key.</summary>
/// <param name="Kind">"user", "host", "ssh-user", "ssh-host" or "jwt".</param>
/// <param name="KeyFamily">"ecdsa" or "rsa": how to read the sealed PKCS#8 key.</param>
/// <param name="PublicPart">The CA certificate (PEM) for X.509 authorities, the OpenSSH public key line for SSH ones.</param>
internal sealed record StoredAuthority(string Kind, string KeyFamily, string PublicPart, byte[] SealedPrivateKey, DateTimeOffset CreatedAt);

/// <summary>One certificate the cluster issued, kept so that revocation can name what it revokes.</summary>
/// <param name="Serial">Canonical upper-case hex (as Pki's SerialNumbers writes it).</param>
/// <param name="Usage">"user-tls", "host-tls", "user-ssh" or "host-ssh".</param>
internal sealed record IssuedCertificate(string Serial, string Authority, string Usage, string Subject,
    DateTimeOffset NotBefore, DateTimeOffset NotAfter, DateTimeOffset IssuedAt);

/// <param name="Reason">An RFC 5280 §5.3.1 CRLReason code.</param>
internal sealed record StoredRevocation(string Serial, string Authority, int Reason, DateTimeOffset RevokedAt);

internal enum RevokeOutcome { Revoked, AlreadyRevoked }
