namespace Gatehouse.Storage.Sql;

/// <summary>Authorities, issued certificates, revocations and CRL numbers.</summary>
internal abstract partial class SqlStore
{
    public async ValueTask<StoredAuthority?> GetAuthorityAsync(string kind, CancellationToken cancellationToken) =>
        await ReadOneAsync("SELECT kind, key_family, public_part, sealed_key, created_at FROM authorities WHERE kind = @kind",
            command => Add(command, "kind", SqlType.Text, kind),
            reader => new StoredAuthority(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<byte[]>(3),
                ReadTime(reader, 4)),
            cancellationToken);

    public async ValueTask<StoredAuthority> AddAuthorityIfAbsentAsync(StoredAuthority authority, CancellationToken cancellationToken)
    {
        // One transaction for the row and the revision, as for every other change: a crash between the two would leave a
        // new CA that no proxy is told to load. ON CONFLICT waits for a concurrent inserter of the same kind to commit.
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, """
                INSERT INTO authorities (kind, key_family, public_part, sealed_key, created_at)
                VALUES (@kind, @family, @public, @sealed, @created) ON CONFLICT (kind) DO NOTHING
                """);
            Add(command, "kind", SqlType.Text, authority.Kind);
            Add(command, "family", SqlType.Text, authority.KeyFamily);
            Add(command, "public", SqlType.Text, authority.PublicPart);
            Add(command, "sealed", SqlType.Bytes, authority.SealedPrivateKey);
            Add(command, "created", SqlType.Time, authority.CreatedAt);
            var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (added, added);
        }, cancellationToken);
        // Read after commit, in a new statement: whoever won, ours or a concurrent first start, is visible now.
        return await GetAuthorityAsync(authority.Kind, cancellationToken)
            ?? throw new InvalidOperationException($"authority '{authority.Kind}' vanished right after it was stored");
    }

    public async ValueTask RecordIssuedAsync(IssuedCertificate certificate, CancellationToken cancellationToken) =>
        await ExecuteAsync("""
            INSERT INTO issued_certificates (serial, authority, usage, subject, not_before, not_after, issued_at)
            VALUES (@serial, @authority, @usage, @subject, @nb, @na, @at)
            """,
            command =>
            {
                Add(command, "serial", SqlType.Text, certificate.Serial);
                Add(command, "authority", SqlType.Text, certificate.Authority);
                Add(command, "usage", SqlType.Text, certificate.Usage);
                Add(command, "subject", SqlType.Text, certificate.Subject);
                Add(command, "nb", SqlType.Time, certificate.NotBefore);
                Add(command, "na", SqlType.Time, certificate.NotAfter);
                Add(command, "at", SqlType.Time, certificate.IssuedAt);
            },
            cancellationToken);

    public async ValueTask<IssuedCertificate?> FindIssuedAsync(string serial, CancellationToken cancellationToken) =>
        await ReadOneAsync("SELECT serial, authority, usage, subject, not_before, not_after, issued_at FROM issued_certificates WHERE serial = @serial",
            command => Add(command, "serial", SqlType.Text, serial),
            reader => new IssuedCertificate(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                ReadTime(reader, 4), ReadTime(reader, 5), ReadTime(reader, 6)),
            cancellationToken);

    public async ValueTask<RevokeOutcome> RevokeAsync(StoredRevocation revocation, CancellationToken cancellationToken) =>
        await WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, """
                INSERT INTO revocations (serial, authority, reason, revoked_at) VALUES (@serial, @authority, @reason, @at)
                ON CONFLICT (serial) DO NOTHING
                """);
            Add(command, "serial", SqlType.Text, revocation.Serial);
            Add(command, "authority", SqlType.Text, revocation.Authority);
            Add(command, "reason", SqlType.Integer, revocation.Reason);
            Add(command, "at", SqlType.Time, revocation.RevokedAt);
            var added = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            return (added ? RevokeOutcome.Revoked : RevokeOutcome.AlreadyRevoked, added);
        }, cancellationToken);

    public async ValueTask<IReadOnlyList<StoredRevocation>> ListRevocationsAsync(string authority, CancellationToken cancellationToken) =>
        await ReadAllAsync(
            $"SELECT serial, authority, reason, revoked_at FROM revocations WHERE authority = @authority ORDER BY revoked_at, serial COLLATE {ByteOrder}",
            command => Add(command, "authority", SqlType.Text, authority),
            reader => new StoredRevocation(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), ReadTime(reader, 3)),
            cancellationToken);

    public async ValueTask<long> NextCrlNumberAsync(string authority, CancellationToken cancellationToken) =>
        // One statement: the upsert locks the row (SQLite serialises writers), so concurrent callers from any proxy queue
        // and each gets its own number.
        (long)(await ScalarAsync("""
            INSERT INTO crl_numbers (authority, last_number) VALUES (@authority, 1)
            ON CONFLICT (authority) DO UPDATE SET last_number = crl_numbers.last_number + 1
            RETURNING last_number
            """,
            command => Add(command, "authority", SqlType.Text, authority),
            cancellationToken))!;
}
