using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Storage;

namespace Gatehouse.Pki.Revocation;

internal enum RevokeStatus { Revoked, AlreadyRevoked, UnknownSerial, NotRevocableHere }

internal sealed record RevokeResult(RevokeStatus Status, string Serial, string Message);

/// <summary>Revokes the cluster's user certificates and publishes the user CA's CRL.</summary>
internal sealed class RevocationService(Authorities authorities, ICertificateLedger ledger, TimeProvider time)
{
    /// <summary>How long a published CRL is good for (its nextUpdate). A balancer's copy must be refreshed before then.</summary>
    public static readonly TimeSpan DefaultCrlValidity = TimeSpan.FromDays(7);

    /// <summary>Reason names as typed on the command line (RFC 5280 §5.3.1, kebab-case).</summary>
    public static readonly IReadOnlyDictionary<string, X509RevocationReason> Reasons = new Dictionary<string, X509RevocationReason>(StringComparer.OrdinalIgnoreCase)
    {
        ["unspecified"] = X509RevocationReason.Unspecified,
        ["key-compromise"] = X509RevocationReason.KeyCompromise,
        ["ca-compromise"] = X509RevocationReason.CACompromise,
        ["affiliation-changed"] = X509RevocationReason.AffiliationChanged,
        ["superseded"] = X509RevocationReason.Superseded,
        ["cessation-of-operation"] = X509RevocationReason.CessationOfOperation,
        ["certificate-hold"] = X509RevocationReason.CertificateHold,
        ["privilege-withdrawn"] = X509RevocationReason.PrivilegeWithdrawn,
        ["aa-compromise"] = X509RevocationReason.AACompromise,
    };

    public async ValueTask<RevokeResult> RevokeAsync(string serial, X509RevocationReason reason, CancellationToken cancellationToken)
    {
        var issued = await ledger.FindIssuedAsync(serial, cancellationToken);
        if (issued is null)
            return new(RevokeStatus.UnknownSerial, serial,
                $"no certificate with serial {serial} was issued by cluster '{authorities.ClusterName}'; check the serial that `gatehouse admin certs issue` printed.");
        if (issued.Authority != Authorities.UserKind)
            return new(RevokeStatus.NotRevocableHere, serial,
                $"serial {serial} is a {issued.Usage} certificate; only user certificates (X.509) are revoked through the user CA's CRL.");
        var outcome = await ledger.RevokeAsync(new StoredRevocation(serial, issued.Authority, (int)reason, time.GetUtcNow()), cancellationToken);
        return outcome == RevokeOutcome.Revoked
            ? new(RevokeStatus.Revoked, serial, $"revoked {serial} ({issued.Subject}, valid until {issued.NotAfter:u}); export the CRL again for balancers that keep a copy.")
            : new(RevokeStatus.AlreadyRevoked, serial, $"{serial} was already revoked; nothing changed.");
    }

    /// <summary>A new CRL of the user CA (DER), with the next CRL number (RFC 5280 §5.2.3).</summary>
    public async ValueTask<byte[]> BuildCrlAsync(TimeSpan validity, CancellationToken cancellationToken)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var revocation in await ledger.ListRevocationsAsync(Authorities.UserKind, cancellationToken))
            builder.AddEntry(SerialNumbers.ToBytes(revocation.Serial), revocation.RevokedAt, (X509RevocationReason)revocation.Reason);
        var number = await ledger.NextCrlNumberAsync(Authorities.UserKind, cancellationToken);
        var now = time.GetUtcNow();
        var ca = authorities.User;
        return builder.Build(ca.Certificate.SubjectName, ca.Signer.Generator, new BigInteger(number), now + validity, ca.Signer.Hash,
            ca.AuthorityKeyIdentifier, now.AddMinutes(-1));
    }
}
