namespace Gatehouse.Pki.Ssh;

/// <summary>
/// known_hosts lines (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): "[marker] hostnames keytype base64 [comment]", fields
/// separated by spaces, hostnames a comma-separated list of patterns ('*' and '?' wildcards, '!' negates, "[host]:port").
/// </summary>
internal static class OpenSshKnownHosts
{
    public const string CertAuthorityMarker = "@cert-authority";

    /// <summary>"@cert-authority PATTERNS &lt;public key line&gt;": trust host certificates signed by that CA key for hosts
    /// matching the patterns. Throws <see cref="ArgumentException"/> saying what is wrong with the patterns.</summary>
    public static string CertAuthorityLine(string hostPatterns, string caPublicKeyLine)
    {
        ArgumentNullException.ThrowIfNull(caPublicKeyLine);
        if (ProblemWith(hostPatterns) is { } problem) throw new ArgumentException(problem, nameof(hostPatterns));
        return $"{CertAuthorityMarker} {hostPatterns} {caPublicKeyLine}";
    }

    /// <summary>Why the text cannot be a known_hosts hostnames field, or null when it can.</summary>
    public static string? ProblemWith(string? hostPatterns)
    {
        if (string.IsNullOrEmpty(hostPatterns))
            return "the host patterns are empty; give one or more comma-separated patterns such as * or *.example.com";
        if (hostPatterns.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return $"host patterns '{hostPatterns}' contain a space or control character; separate patterns with commas only";
        var patterns = hostPatterns.Split(',');
        if (patterns.Any(p => p.Length == 0 || p == "!"))
            return $"host patterns '{hostPatterns}' hold an empty pattern; remove the extra comma";
        // ssh trusts a line for a host only if some pattern matches it positively; negations alone match nothing.
        if (patterns.All(p => p.StartsWith('!')))
            return $"host patterns '{hostPatterns}' are all negated (!…), so they match no host; add a positive pattern such as *";
        return null;
    }
}
