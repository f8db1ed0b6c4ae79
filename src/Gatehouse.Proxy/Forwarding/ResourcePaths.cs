namespace Gatehouse.Proxy.Forwarding;

/// <summary>Paths of the form <c>/PREFIX/NAME/rest</c>, how apps (<c>/apps/NAME/</c>) and Kubernetes clusters
/// (<c>/kube/NAME/</c>) are reached on a name they share with the proxy.</summary>
internal static class ResourcePaths
{
    /// <summary>True when <paramref name="path"/> is under <paramref name="prefix"/> with something after it:
    /// <paramref name="name"/> is the next segment, <paramref name="remaining"/> the rest from its slash on (empty when
    /// there is none).</summary>
    public static bool TryName(PathString path, string prefix, out string name, out PathString remaining)
    {
        name = "";
        remaining = PathString.Empty;
        if (!path.StartsWithSegments(prefix, StringComparison.Ordinal, out var rest) || !rest.HasValue) return false;
        var value = rest.Value!;
        var end = value.IndexOf('/', 1);
        name = end < 0 ? value[1..] : value[1..end];
        if (end >= 0) remaining = new PathString(value[end..]);
        return true;
    }
}
