using System.Collections.ObjectModel;
using System.Security.Cryptography;

namespace Gatehouse.Pki.Ssh;

/// <summary>SSH_CERT_TYPE_USER / SSH_CERT_TYPE_HOST (PROTOCOL.certkeys).</summary>
internal enum OpenSshCertificateType
{
    User = 1,
    Host = 2,
}

/// <summary>What the CA is asked to certify. Only the public part of <see cref="SubjectPublicKey"/> is read.</summary>
internal sealed record OpenSshCertificateRequest(
    AsymmetricAlgorithm SubjectPublicKey,
    ulong Serial,
    OpenSshCertificateType Type,
    string KeyId,
    IReadOnlyList<string> Principals,
    DateTimeOffset ValidAfter,
    DateTimeOffset ValidBefore)
{
    /// <summary>
    /// Name → value (force-command, source-address); an empty value is encoded as a flag
    /// (verify-required). sshd refuses a certificate with an option it does not know.
    /// </summary>
    public IReadOnlyDictionary<string, string> CriticalOptions { get; init; } = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>Flag extensions (empty data); sshd ignores names it does not know. By default the standard set for a
    /// user certificate and none for a host certificate.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = Type == OpenSshCertificateType.User ? StandardUserExtensions : [];

    /// <summary>What <c>ssh-keygen -s</c> grants a user certificate by default.</summary>
    public static IReadOnlyList<string> StandardUserExtensions { get; } =
    [
        "permit-X11-forwarding",
        "permit-agent-forwarding",
        "permit-port-forwarding",
        "permit-pty",
        "permit-user-rc",
    ];

    /// <summary>Throws one <see cref="ArgumentException"/> listing every problem, so a caller fixes them all at once.</summary>
    public void ThrowIfInvalid()
    {
        var problems = new List<string>();
        if (SubjectPublicKey is null)
            problems.Add("SubjectPublicKey is required");
        else
        {
            try { _ = OpenSshKeyFormat.KeyType(SubjectPublicKey); }
            catch (ArgumentException e) { problems.Add("SubjectPublicKey: " + e.Message); }
        }
        if (!Enum.IsDefined(Type))
            problems.Add($"Type {(int)Type} is neither User (1) nor Host (2)");
        if (string.IsNullOrEmpty(KeyId))
            problems.Add("KeyId is empty; sshd logs it to say who logged in");
        else if (KeyId.Contains('\0'))
            problems.Add("KeyId contains a NUL character");

        // An empty list means "any principal" (PROTOCOL.certkeys); Gatehouse never means that,
        // so an empty list is a caller mistake rather than a wildcard.
        if (Principals is null || Principals.Count == 0)
            problems.Add("Principals is empty; an empty list would make the certificate valid for any principal");
        else
            for (var i = 0; i < Principals.Count; i++)
                if (string.IsNullOrEmpty(Principals[i]) || Principals[i].Contains('\0'))
                    problems.Add($"Principals[{i}] is empty or contains a NUL character");

        if (ValidAfter < DateTimeOffset.UnixEpoch)
            problems.Add($"ValidAfter {ValidAfter:O} is before 1970-01-01, which the uint64 seconds field cannot hold");
        if (OpenSshTime.ToWire(ValidBefore) <= OpenSshTime.ToWire(ValidAfter))
            problems.Add($"ValidBefore {ValidBefore:O} is not after ValidAfter {ValidAfter:O} (compared in whole seconds)");

        CheckNames("CriticalOptions", CriticalOptions?.Keys, problems);
        if (CriticalOptions is not null)
            foreach (var (name, value) in CriticalOptions)
                if (value is null || value.Contains('\0'))
                    problems.Add($"CriticalOptions[{name}] value is null or contains a NUL character");
        // PROTOCOL.certkeys defines no critical options or extensions for host certificates.
        if (Type == OpenSshCertificateType.Host && CriticalOptions is { Count: > 0 })
            problems.Add("CriticalOptions are set on a host certificate; none are defined for hosts (PROTOCOL.certkeys)");
        if (Type == OpenSshCertificateType.Host && Extensions is { Count: > 0 })
            problems.Add("Extensions are set on a host certificate; none are defined for hosts (PROTOCOL.certkeys)");
        CheckNames("Extensions", Extensions, problems);
        if (Extensions is not null && Extensions.Distinct(StringComparer.Ordinal).Count() != Extensions.Count)
            problems.Add("Extensions lists a name more than once; each may appear only once (PROTOCOL.certkeys)");

        if (problems.Count > 0)
            throw new ArgumentException("Invalid OpenSSH certificate request: " + string.Join("; ", problems) + ".");
    }

    private static void CheckNames(string what, IEnumerable<string>? names, List<string> problems)
    {
        if (names is null)
        {
            problems.Add($"{what} is null");
            return;
        }
        foreach (var name in names)
            if (string.IsNullOrEmpty(name) || name.Contains('\0'))
                problems.Add($"{what} has an empty name or one containing a NUL character");
    }
}
