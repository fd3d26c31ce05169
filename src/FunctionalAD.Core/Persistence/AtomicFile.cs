namespace FunctionalAD.Persistence;

/// <summary>Writes a file so that readers see either the old content or the complete new one, never a part:
/// the bytes go to a temporary file in the same folder, are flushed to disk, and the temporary file is renamed
/// over the target (an atomic replace on POSIX file systems and NTFS).</summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/> atomically. If
    /// <paramref name="write"/> throws, or the process dies before the rename, the previous file at
    /// <paramref name="path"/> (if any) is left as it was; a left-over temporary file is named
    /// <c>.&lt;name&gt;.&lt;random&gt;.tmp</c>.</summary>
    /// <param name="path">The file to create or replace. Its folder is created when missing.</param>
    /// <param name="write">Writes the whole content to the given stream.</param>
    /// <exception cref="IOException">the file could not be written or renamed.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
