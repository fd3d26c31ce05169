using System.Buffers.Binary;
using System.IO.Compression;
using FunctionalAD.Persistence;

namespace FunctionalAD.Data;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed): a 4-byte magic (0, 0, type, rank), the sizes
/// as big-endian 32-bit integers, then the big-endian elements in C order. Unsigned and signed bytes, shorts and
/// ints load as Int32; floats as Float32; doubles as Float64.
/// </summary>
public static class Idx
{
    /// <summary>Reads an IDX file (".gz" or raw: detected from the content, not the name).</summary>
    /// <exception cref="CorruptFileException">not an IDX file, an unknown element type, or truncated; the message
    /// names the file.</exception>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    public static Tensor Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> head = stackalloc byte[2];
        int got = file.Read(head);
        file.Position = 0;
        bool gzip = got == 2 && head[0] == 0x1f && head[1] == 0x8b;
        using Stream s = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        try { return Read(s, path); }
        catch (InvalidDataException e) { throw new CorruptFileException(path, $"the gzip stream is damaged: {e.Message}", e); }
    }

    /// <summary>Reads one IDX array from a stream (<paramref name="source"/> names it in errors).</summary>
    /// <exception cref="CorruptFileException">see <see cref="Load"/>.</exception>
    public static Tensor Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var magic = ReadExactly(stream, 4, source, "magic number");
        if (magic[0] != 0 || magic[1] != 0) throw new CorruptFileException(source, "not an IDX file (the magic number does not start with two zero bytes)");
        int type = magic[2], rank = magic[3];
        int size = type switch { 0x08 or 0x09 => 1, 0x0B => 2, 0x0C or 0x0D => 4, 0x0E => 8, _ => 0 };
        if (size == 0) throw new CorruptFileException(source, $"unknown IDX element type 0x{type:X2} (expected 08, 09, 0B, 0C, 0D or 0E)");
        var dims = ReadExactly(stream, 4 * rank, source, "sizes");
        var shape = new int[rank];
        long n = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dims.AsSpan(4 * i));
            if (d > int.MaxValue || (n *= d) > int.MaxValue) throw new CorruptFileException(source, $"size {i} ({d}) makes the array larger than {int.MaxValue} elements");
            shape[i] = (int)d;
        }
        var data = ReadExactly(stream, checked((int)n * size), source, $"data ({n} elements)");
        int count = (int)n;
        return type switch
        {
            0x08 => Tensor.FromArray(Array.ConvertAll(data, b => (int)b), shape),
            0x09 => Tensor.FromArray(Array.ConvertAll(data, b => (int)(sbyte)b), shape),
            0x0B => Tensor.FromArray(Enumerable.Range(0, count).Select(i => (int)BinaryPrimitives.ReadInt16BigEndian(data.AsSpan(2 * i))).ToArray(), shape),
            0x0C => Tensor.FromArray(Enumerable.Range(0, count).Select(i => BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4 * i))).ToArray(), shape),
            0x0D => Tensor.FromArray(Enumerable.Range(0, count).Select(i => BinaryPrimitives.ReadSingleBigEndian(data.AsSpan(4 * i))).ToArray(), shape),
            _ => Tensor.FromArray(Enumerable.Range(0, count).Select(i => BinaryPrimitives.ReadDoubleBigEndian(data.AsSpan(8 * i))).ToArray(), shape),
        };
    }

    static byte[] ReadExactly(Stream s, int n, string source, string what)
    {
        var b = new byte[n];
        try { s.ReadExactly(b); }
        catch (EndOfStreamException) { throw new CorruptFileException(source, $"truncated in the {what}"); }
        return b;
    }
}
