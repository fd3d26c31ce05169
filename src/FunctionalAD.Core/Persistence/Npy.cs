using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace FunctionalAD.Persistence;

/// <summary>NumPy's .npy (one array) and .npz (a zip of .npy files) formats: little-endian float32/float64/int32/
/// int64/bool in C order; uint8 (images) is read as Int32. Files are written atomically.</summary>
public static partial class Npy
{
    static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    static string Descr(DType d) => d switch
    {
        DType.Float32 => "<f4",
        DType.Float64 => "<f8",
        DType.Int32 => "<i4",
        DType.Int64 => "<i8",
        _ => "|b1",
    };

    /// <summary>Writes one tensor as .npy (format 1.0) to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentNullException">stream or tensor is null.</exception>
    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        var shape = tensor.Shape.Length switch
        {
            0 => "()",
            1 => $"({tensor.Shape[0]},)",
            _ => "(" + string.Join(", ", tensor.Shape) + ")",
        };
        var dict = $"{{'descr': '{Descr(tensor.DType)}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = (Magic.Length + 4 + dict.Length + 1 + 63) / 64 * 64;
        var header = dict.PadRight(total - Magic.Length - 4 - 1) + "\n";
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, checked((ushort)header.Length));
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(tensor.DType switch
        {
            DType.Float32 => MemoryMarshal.AsBytes(tensor.ToArray<float>().AsSpan()),
            DType.Float64 => MemoryMarshal.AsBytes(tensor.ToArray<double>().AsSpan()),
            DType.Int32 => MemoryMarshal.AsBytes(tensor.ToArray<int>().AsSpan()),
            DType.Int64 => MemoryMarshal.AsBytes(tensor.ToArray<long>().AsSpan()),
            _ => MemoryMarshal.AsBytes(tensor.ToArray<bool>().AsSpan()),
        });
    }

    /// <summary>Writes a tensor to a .npy file atomically.</summary>
    /// <exception cref="IOException">the file could not be written.</exception>
    public static void Save(string path, Tensor tensor) => AtomicFile.Write(path, s => Write(s, tensor));

    /// <summary>Reads a .npy file.</summary>
    /// <exception cref="CorruptFileException">not a .npy file, truncated, Fortran order, big-endian or an
    /// unsupported dtype; the message names the file.</exception>
    public static Tensor Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(fs, path);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();

    /// <summary>Reads one .npy array from a stream (<paramref name="source"/> names it in errors).</summary>
    /// <exception cref="CorruptFileException">see <see cref="Load"/>.</exception>
    public static Tensor Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CorruptFileException Bad(string problem) => new(source, problem);
        byte[] ReadN(int n, string what)
        {
            var b = new byte[n];
            try { stream.ReadExactly(b); } catch (EndOfStreamException) { throw Bad($"truncated in the {what}"); }
            return b;
        }
        var pre = ReadN(8, "magic string");
        if (!pre.AsSpan(0, 6).SequenceEqual(Magic)) throw Bad("not a .npy file (no \\x93NUMPY magic string)");
        int major = pre[6];
        int headerLength = major switch
        {
            1 => BinaryPrimitives.ReadUInt16LittleEndian(ReadN(2, "header length")),
            2 or 3 => checked((int)BinaryPrimitives.ReadUInt32LittleEndian(ReadN(4, "header length"))),
            _ => throw Bad($".npy format version {major}.{pre[7]} is not supported (1.0, 2.0, 3.0 are)"),
        };
        if (headerLength > 1 << 20) throw Bad($"the header length {headerLength} is implausible");
        var header = Encoding.UTF8.GetString(ReadN(headerLength, "header"));
        var descr = DescrRegex().Match(header);
        var fortran = FortranRegex().Match(header);
        var shapeMatch = ShapeRegex().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw Bad($"the header {header.Trim()} lacks descr, fortran_order or shape");
        if (fortran.Groups[1].Value == "True") throw Bad("Fortran-order arrays are not supported (save with np.ascontiguousarray)");
        int[] shape;
        try
        {
            shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException) { throw Bad($"the shape ({shapeMatch.Groups[1].Value}) is malformed"); }
        if (shape.Any(d => d < 0)) throw Bad($"the shape {Shape.Format(shape)} has a negative size");
        long numel = 1;
        foreach (var d in shape) { numel *= d; if (numel > int.MaxValue) throw Bad($"the shape {Shape.Format(shape)} is too large"); }
        int n = (int)numel;
        var code = descr.Groups[1].Value;
        int size = code switch { "<f4" or "<i4" => 4, "<f8" or "<i8" => 8, "|b1" or "|u1" or "<u1" => 1, _ => 0 };
        if (size == 0) throw Bad($"dtype '{code}' is not supported (little-endian f4, f8, i4, i8, b1, u1 are)");
        var data = ReadN(checked(n * size), $"data ({n} elements of '{code}')");
        return code switch
        {
            "<f4" => Tensor.FromArray(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
            "<f8" => Tensor.FromArray(MemoryMarshal.Cast<byte, double>(data).ToArray(), shape),
            "<i4" => Tensor.FromArray(MemoryMarshal.Cast<byte, int>(data).ToArray(), shape),
            "<i8" => Tensor.FromArray(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
            "|b1" => Tensor.FromArray(Array.ConvertAll(data, b => b != 0), shape),
            _ => Tensor.FromArray(Array.ConvertAll(data, b => (int)b), shape),
        };
    }

    /// <summary>Writes named tensors as an .npz archive (uncompressed, like np.savez) atomically.</summary>
    /// <exception cref="IOException">the file could not be written.</exception>
    public static void SaveNpz(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var items = tensors.ToList();
        AtomicFile.Write(path, s =>
        {
            using var zip = new ZipArchive(s, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, t) in items)
            {
                using var e = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                Write(e, t);
            }
        });
    }

    /// <summary>Reads every array of an .npz archive (np.savez or np.savez_compressed), by name without ".npy".</summary>
    /// <exception cref="CorruptFileException">not a zip archive, or an entry is not a valid .npy array.</exception>
    public static IReadOnlyDictionary<string, Tensor> LoadNpz(string path)
    {
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new CorruptFileException(path, $"not an .npz (zip) archive: {e.Message}", e); }
        using (zip)
        {
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                var name = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
                try
                {
                    using var s = entry.Open();
                    result[name] = Read(s, $"{path}[{entry.FullName}]");
                }
                catch (InvalidDataException e) // a damaged deflate stream inside the archive
                {
                    throw new CorruptFileException(path, $"entry '{entry.FullName}' is damaged: {e.Message}", e);
                }
            }
            return result;
        }
    }
}
