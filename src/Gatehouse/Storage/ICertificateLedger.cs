namespace Gatehouse.Storage;

/// <summary>What was issued and what was revoked: the source of the CRL and of revocation checks.</summary>
internal interface ICertificateLedger
{
    ValueTask RecordIssuedAsync(IssuedCertificate certificate, CancellationToken cancellationToken);

    ValueTask<IssuedCertificate?> FindIssuedAsync(string serial, CancellationToken cancellationToken);

    ValueTask<RevokeOutcome> RevokeAsync(StoredRevocation revocation, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<StoredRevocation>> ListRevocationsAsync(string authority, CancellationToken cancellationToken);

    /// <summary>Reserves the next CRL number of an authority (1, 2, …): CRL numbers must increase (RFC 5280 §5.2.3).</summary>
    ValueTask<long> NextCrlNumberAsync(string authority, CancellationToken cancellationToken);
}
