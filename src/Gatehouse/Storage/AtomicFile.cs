namespace Gatehouse.Storage;

/// <summary>Writes a file so that readers see the old content or the new, never half of it.</summary>
internal static class AtomicFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>One file of <see cref="WriteAll"/>; <paramref name="Mode"/> null for the default permissions.</summary>
    public sealed record Entry(string Path, string Contents, UnixFileMode? Mode = null);

    public static void Write(string path, ReadOnlySpan<byte> contents, UnixFileMode? mode = null)
    {
        var full = Path.GetFullPath(path);
        var temp = WriteTemp(full, contents, mode);
        try
        {
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static void Write(string path, string contents, UnixFileMode? mode = null) =>
        Write(path, System.Text.Encoding.UTF8.GetBytes(contents), mode);

    /// <summary>
    /// Writes files that belong together (a key and its certificate): every one to a temporary file first, and only when
    /// all of them are written are they renamed into place, so a failure (a full disk, a directory that cannot be written)
    /// leaves none of them changed. Each rename is atomic; the set is not (a crash between renames can leave some new).
    /// </summary>
    public static void WriteAll(IReadOnlyList<Entry> files)
    {
        // Once the temporary files are written beside them, a rename fails in practice only where a directory has the
        // target's name: that is found before anything is written.
        if (files.Select(f => Path.GetFullPath(f.Path)).FirstOrDefault(Directory.Exists) is { } taken)
            throw new IOException($"{taken} is a directory");
        var written = new List<(string Temp, string Full)>();
        try
        {
            foreach (var file in files)
            {
                var full = Path.GetFullPath(file.Path);
                written.Add((WriteTemp(full, System.Text.Encoding.UTF8.GetBytes(file.Contents), file.Mode), full));
            }
            foreach (var (temp, full) in written)
                File.Move(temp, full, overwrite: true);
        }
        finally
        {
            foreach (var (temp, _) in written)
                if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes and flushes a new temporary file beside <paramref name="full"/>; returns its path.</summary>
    private static string WriteTemp(string full, ReadOnlySpan<byte> contents, UnixFileMode? mode)
    {
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (mode is { } m && !OperatingSystem.IsWindows())
                options.UnixCreateMode = m; // the secret never exists on disk with wider permissions
            using var stream = new FileStream(temp, options);
            stream.Write(contents);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            if (File.Exists(temp)) File.Delete(temp);
            throw;
        }
        return temp;
    }
}
