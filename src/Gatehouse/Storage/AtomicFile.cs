namespace Gatehouse.Storage;

/// <summary>Writes a file so that readers see the old content or the new, never half of it.</summary>
internal static class AtomicFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void Write(string path, ReadOnlySpan<byte> contents, UnixFileMode? mode = null)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (mode is { } m && !OperatingSystem.IsWindows())
                options.UnixCreateMode = m; // the secret never exists on disk with wider permissions
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static void Write(string path, string contents, UnixFileMode? mode = null) =>
        Write(path, System.Text.Encoding.UTF8.GetBytes(contents), mode);
}
