using Gatehouse.Cluster;
using Gatehouse.Pki.Revocation;

namespace Gatehouse.Proxy.Web;

/// <summary>
/// GET /v1/crl/user.crl, unauthenticated, DER (<c>application/pkix-crl</c>): the user CA's CRL, as named in the CRL
/// Distribution Points of every user certificate (issue 16), so other systems that see these certificates can check
/// them. One CRL is signed and then served until the cluster's revocations change or half its validity has passed
/// (each signing takes the next CRL number, so it is not done per request).
/// </summary>
internal sealed class UserCrlEndpoint(ClusterState cluster)
{
    public const string Path = "/v1/crl/user.crl";

    private readonly SemaphoreSlim _build = new(1, 1);
    private (string Fingerprint, DateTimeOffset BuiltAt, byte[] Der)? _current;

    public static void Map(WebApplication app, ClusterState cluster)
    {
        var endpoint = new UserCrlEndpoint(cluster);
        app.MapGet(Path, async context =>
        {
            var der = await endpoint.CurrentAsync(context.RequestAborted);
            context.Response.ContentType = "application/pkix-crl";
            context.Response.ContentLength = der.Length;
            await context.Response.Body.WriteAsync(der, context.RequestAborted);
        });
    }

    private async Task<byte[]> CurrentAsync(CancellationToken cancellationToken)
    {
        var revoked = cluster.Trust.RevokedGatehouseSerials;
        var fingerprint = string.Join(',', revoked.Order(StringComparer.Ordinal));
        var now = cluster.Time.GetUtcNow();
        bool Current((string Fingerprint, DateTimeOffset BuiltAt, byte[] Der)? c) =>
            c is { } built && built.Fingerprint == fingerprint && now - built.BuiltAt < RevocationService.DefaultCrlValidity / 2;
        if (Current(_current)) return _current!.Value.Der;
        await _build.WaitAsync(cancellationToken);
        try
        {
            if (Current(_current)) return _current!.Value.Der;
            var der = await cluster.Revocation.BuildCrlAsync(RevocationService.DefaultCrlValidity, cancellationToken);
            _current = (fingerprint, now, der);
            return der;
        }
        finally
        {
            _build.Release();
        }
    }
}
