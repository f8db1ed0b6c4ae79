using System.Collections.Concurrent;
using Gatehouse.Proxy.Resources;
using Gatehouse.Pki;

namespace Gatehouse.Proxy.Apps;

/// <summary>
/// Reuses an app's identity assertion for the same user, roles, app, signing key and certificate (or session) expiry
/// while more than half of its lifetime is left, instead of one ES256 signature per request (about 23 µs and 6 KB of
/// JSON and base64 here, a tenth of an app request's CPU in P4, docs/benchmarks.md). Every claim the token carries
/// is in the key, so a reused token says exactly what a fresh one would, apart from iat/nbf; it is handed only to
/// requests that have just been authenticated and allowed. Bounded: when full, expired entries go, then everything.
/// </summary>
internal sealed class IdentityAssertionCache(TimeProvider time, int capacity = 10_000)
{
    private readonly ConcurrentDictionary<AssertionKey, (string Token, DateTimeOffset Issued, DateTimeOffset Expires)> _entries = new();

    public int Count => _entries.Count;

    public string Get(JwtSigningKey key, string issuer, Identity.Identity identity, HttpApp app, DateTimeOffset notAfter)
    {
        var now = time.GetUtcNow();
        // Looked up without allocating (a request's key refers to its own identity's strings and roles).
        var cacheKey = new AssertionKey(key.KeyId, issuer, app.Uri.OriginalString, identity.User, notAfter.UtcTicks, identity.Roles);
        if (_entries.TryGetValue(cacheKey, out var entry) && now >= entry.Issued && now - entry.Issued < (entry.Expires - entry.Issued) / 2)
            return entry.Token;
        var token = IdentityAssertion.Create(key, issuer, identity, app, now, notAfter);
        var expires = now + IdentityAssertion.Lifetime < notAfter ? now + IdentityAssertion.Lifetime : notAfter;
        if (_entries.Count >= capacity)
        {
            foreach (var (k, v) in _entries)
                if (v.Expires <= now) _entries.TryRemove(k, out _);
            if (_entries.Count >= capacity) _entries.Clear();
        }
        // A stored key owns a copy of the roles, so that nothing the caller does to its list later changes a key.
        _entries[cacheKey with { Roles = [.. identity.Roles] }] = (token, now, expires);
        return token;
    }

    /// <summary>Every claim the token carries apart from iat/nbf/exp, compared part by part (ordinal; roles in order).</summary>
    private readonly record struct AssertionKey(string KeyId, string Issuer, string App, string User, long NotAfterTicks, IReadOnlyList<string> Roles)
    {
        public bool Equals(AssertionKey other)
        {
            if (KeyId != other.KeyId || Issuer != other.Issuer || App != other.App || User != other.User
                || NotAfterTicks != other.NotAfterTicks || Roles.Count != other.Roles.Count)
                return false;
            for (var i = 0; i < Roles.Count; i++)
                if (!string.Equals(Roles[i], other.Roles[i], StringComparison.Ordinal)) return false;
            return true;
        }

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(KeyId);
            hash.Add(Issuer);
            hash.Add(App);
            hash.Add(User);
            hash.Add(NotAfterTicks);
            foreach (var role in Roles) hash.Add(role);
            return hash.ToHashCode();
        }
    }
}
