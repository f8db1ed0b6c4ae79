namespace Gatehouse.Storage.Sql;

/// <summary>
/// The schema, as numbered steps written once for every engine in its own column types. A step that has run in some store
/// never changes (what it creates must read the same as before); a change to the schema is a new step at the end.
/// </summary>
internal static class SqlSchema
{
    public static IReadOnlyList<string> Steps(SqlColumnTypes t) =>
    [
        $"""
        CREATE TABLE authorities (
            kind {t.Text} PRIMARY KEY,
            key_family {t.Text} NOT NULL,
            public_part {t.Text} NOT NULL,
            sealed_key {t.Bytes} NOT NULL,
            created_at {t.Time} NOT NULL);
        CREATE TABLE issued_certificates (
            serial {t.Text} PRIMARY KEY,
            authority {t.Text} NOT NULL,
            usage {t.Text} NOT NULL,
            subject {t.Text} NOT NULL,
            not_before {t.Time} NOT NULL,
            not_after {t.Time} NOT NULL,
            issued_at {t.Time} NOT NULL);
        CREATE TABLE revocations (
            serial {t.Text} PRIMARY KEY,
            authority {t.Text} NOT NULL,
            reason {t.Integer} NOT NULL,
            revoked_at {t.Time} NOT NULL);
        {(t.IndexRevocationsByAuthority ? "CREATE INDEX revocations_by_authority ON revocations (authority, revoked_at, serial);\n" : "")}CREATE TABLE crl_numbers (
            authority {t.Text} PRIMARY KEY,
            last_number {t.BigInt} NOT NULL);
        """,
        $"""
        CREATE TABLE users (
            name {t.Text} PRIMARY KEY,
            roles {t.Json} NOT NULL,
            traits {t.Json} NOT NULL,
            password_hash {t.Text},
            sealed_totp {t.Bytes},
            locked {t.Boolean} NOT NULL,
            created_at {t.Time} NOT NULL,
            updated_at {t.Time} NOT NULL);
        CREATE TABLE login_failures (
            user_name {t.Text} NOT NULL,
            failed_at {t.Time} NOT NULL);
        CREATE INDEX login_failures_by_user ON login_failures (user_name, failed_at);
        CREATE TABLE roles (
            name {t.Text} PRIMARY KEY,
            definition {t.Text} NOT NULL,
            updated_at {t.Time} NOT NULL);
        CREATE TABLE audit_events (
            id {t.IdentityKey},
            time {t.Time} NOT NULL,
            type {t.Text} NOT NULL,
            user_name {t.Text},
            identity_source {t.Text},
            cert_issuer {t.Text},
            cert_serial {t.Text},
            cert_sha256 {t.Text},
            source_ip {t.Text},
            resource {t.Text},
            decision {t.Text},
            reason {t.Text},
            details {t.Json});
        CREATE INDEX audit_events_by_time ON audit_events (time);
        CREATE TABLE revision (
            id {t.Integer} PRIMARY KEY CHECK (id = 1),
            value {t.BigInt} NOT NULL);
        INSERT INTO revision (id, value) VALUES (1, 1);
        """,
        // Issue 11: the TOTP steps each user has used, so a code is accepted once, whichever proxy it reaches.
        $"""
        CREATE TABLE totp_used_steps (
            user_name {t.Text} NOT NULL,
            step {t.BigInt} NOT NULL,
            PRIMARY KEY (user_name, step));
        CREATE INDEX totp_used_steps_by_step ON totp_used_steps (step);
        """,
        // Issue 11: a login attempt is counted when it starts; while in progress its row carries the attempt's id.
        $"ALTER TABLE login_failures ADD COLUMN attempt {t.Text}",
    ];
}
