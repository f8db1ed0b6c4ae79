using Gatehouse.Cluster;
using Gatehouse.Pki;
using Gatehouse.Pki.Trust;
using Gatehouse.Pki.Validation;

namespace Gatehouse.Tests.Pki;

internal static class TestCluster
{
    public static Task<ClusterState> OpenAsync(string dataDirectory, TimeProvider? time = null, TrustOptions? trust = null,
        string cluster = "test-cluster", KeyAlgorithm algorithm = KeyAlgorithm.EcdsaP256, string? masterKey = null, bool create = true,
        TimeSpan? maxUserCertTtl = null) =>
        ClusterState.OpenAsync(new ClusterOptions(cluster, dataDirectory, algorithm, trust ?? TrustOptions.None, new ValidationOptions(), masterKey)
        {
            MaxUserCertTtl = maxUserCertTtl ?? CertificateIssuer.DefaultMaxUserTtl,
        }, time ?? TimeProvider.System, create, CancellationToken.None);
}
