using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Pki.Validation;

/// <summary>
/// Reading a built chain's status the same way wherever a client certificate is judged (the proxy's validator, the
/// edge's verify mode): whose it is first (untrusted), then whether it is intact (structural), time and revocation being
/// judged by the callers themselves, element by element, against their own clock and CRLs.
/// </summary>
internal static class ChainStatus
{
    public const X509ChainStatusFlags Untrusted =
        X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.ExplicitDistrust;

    /// <summary>What the platform says about time; the callers compare each element's validity with their own clock.</summary>
    public const X509ChainStatusFlags Time = X509ChainStatusFlags.NotTimeValid | X509ChainStatusFlags.NotTimeNested;

    private const X509ChainStatusFlags JudgedByCallers = Time | X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation;

    public static X509ChainStatusFlags Flags(X509Chain chain) =>
        chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);

    /// <summary>The problems that make the chain itself invalid (signatures, constraints, …), time and revocation aside.</summary>
    public static X509ChainStatusFlags Structural(X509ChainStatusFlags flags) => flags & ~JudgedByCallers;

    /// <summary>The platform's sentences for the chain's problems, for a refusal's reason.</summary>
    public static string Describe(X509Chain chain) => string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct());
}
