using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FunctionalAD.Persistence;

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON mapping each
/// tensor name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> plus an optional <c>"__metadata__"</c>
/// string map, then the raw little-endian, row-major data (offsets relative to the end of the header). Files move
/// to and from PyTorch (<c>safetensors.torch</c>), JAX/Flax and Hugging Face tools. dtypes: F32, F64, I32, I64, BOOL.
/// </summary>
/// <remarks>
/// Every file written here carries a SHA-256 of all its bytes (with the 64 hex digits of the checksum itself read
/// as zeros) in the metadata entry <see cref="ChecksumKey"/>, so any change to the header or the data is detected.
/// Readers check the structure completely (header length, JSON, dtypes, shapes, offsets covering the data exactly)
/// before creating any tensor: a damaged file is refused with a <see cref="CorruptFileException"/>, never half-loaded.
/// </remarks>
public static class SafeTensors
{
    /// <summary>The metadata key holding this library's checksum ("sha256:" and 64 lowercase hex digits).</summary>
    public const string ChecksumKey = "functionalad.checksum";

    const string ChecksumPrefix = "sha256:";
    const int HexDigits = 64;
    const long MaxHeaderBytes = 100_000_000; // the limit of the reference implementation

    static string DTypeName(DType d) => d switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        _ => "BOOL",
    };

    static DType? ParseDType(string s) => s switch
    {
        "F32" => DType.Float32,
        "F64" => DType.Float64,
        "I32" => DType.Int32,
        "I64" => DType.Int64,
        "BOOL" => DType.Bool,
        _ => null,
    };

    static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors: big-endian machines are not supported");
    }

    // ---------------------------------------------------------------- writing

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temporary file, flush,
    /// rename; see <see cref="AtomicFile"/>), with a checksum.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">(name, tensor) pairs; names must be distinct. Tensors on any device, any layout.</param>
    /// <param name="metadata">Extra "__metadata__" entries, or null.</param>
    /// <exception cref="ArgumentException">a name repeats or is empty, or the metadata uses <see cref="ChecksumKey"/>.</exception>
    /// <exception cref="IOException">the file could not be written.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var bytes = Serialize(tensors, metadata);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The bytes of a safetensors file holding <paramref name="tensors"/> (names sorted ordinally) and
    /// <paramref name="metadata"/>, with a checksum.</summary>
    /// <param name="tensors">(name, tensor) pairs; names must be distinct.</param>
    /// <param name="metadata">Extra "__metadata__" entries, or null.</param>
    /// <exception cref="ArgumentException">a name repeats or is empty, or the metadata uses <see cref="ChecksumKey"/>.</exception>
    public static byte[] Serialize(IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        RequireLittleEndian();
        var entries = new SortedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var kv in tensors)
        {
            if (string.IsNullOrEmpty(kv.Key) || kv.Key == "__metadata__")
                throw new ArgumentException($"safetensors: '{kv.Key}' is not a valid tensor name");
            if (!entries.TryAdd(kv.Key, kv.Value ?? throw new ArgumentException($"safetensors: tensor '{kv.Key}' is null")))
                throw new ArgumentException($"safetensors: the name '{kv.Key}' appears more than once");
        }
        if (metadata is not null && metadata.ContainsKey(ChecksumKey))
            throw new ArgumentException($"safetensors: the metadata key '{ChecksumKey}' is reserved for the checksum");

        var data = new List<byte[]>(entries.Count);
        using var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            w.WriteString(ChecksumKey, ChecksumPrefix + new string('0', HexDigits)); // patched below
            if (metadata is not null)
                foreach (var kv in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            long offset = 0;
            foreach (var (name, t) in entries)
            {
                var bytes = ToBytes(t);
                data.Add(bytes);
                w.WriteStartObject(name);
                w.WriteString("dtype", DTypeName(t.DType));
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes.LongLength);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes.LongLength;
            }
            w.WriteEndObject();
        }
        // pad the header with spaces so the data starts 8-byte aligned, as the reference implementation does
        int headerLength = (int)header.Length;
        int padded = (headerLength + 8 + 7) / 8 * 8 - 8;
        long total = 8L + padded + data.Sum(b => (long)b.LongLength);
        var file = new byte[checked((int)total)];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        header.GetBuffer().AsSpan(0, headerLength).CopyTo(file.AsSpan(8));
        file.AsSpan(8 + headerLength, padded - headerLength).Fill((byte)' ');
        int pos = 8 + padded;
        foreach (var b in data) { b.CopyTo(file, pos); pos += b.Length; }

        int hexAt = FindChecksumDigits(file.AsSpan(8, padded), ChecksumPrefix + new string('0', HexDigits));
        var hash = SHA256.HashData(file); // the digits are zeros right now, as the reader will see them
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(hash)).CopyTo(file, 8 + hexAt);
        return file;
    }

    static byte[] ToBytes(Tensor t) => t.DType switch
    {
        DType.Float32 => MemoryMarshal.AsBytes(t.ToArray<float>().AsSpan()).ToArray(),
        DType.Float64 => MemoryMarshal.AsBytes(t.ToArray<double>().AsSpan()).ToArray(),
        DType.Int32 => MemoryMarshal.AsBytes(t.ToArray<int>().AsSpan()).ToArray(),
        DType.Int64 => MemoryMarshal.AsBytes(t.ToArray<long>().AsSpan()).ToArray(),
        _ => MemoryMarshal.AsBytes(t.ToArray<bool>().AsSpan()).ToArray(),
    };

    /// <summary>Where, within the header, the 64 hex digits of the checksum entry with this value start; -1 if absent.</summary>
    static int FindChecksumDigits(ReadOnlySpan<byte> header, string value)
    {
        var needle = Encoding.UTF8.GetBytes($"\"{ChecksumKey}\":\"{value}\"");
        int at = header.IndexOf(needle);
        return at < 0 ? -1 : at + needle.Length - 1 - HexDigits;
    }

    // ---------------------------------------------------------------- reading

    /// <summary>Reads a safetensors file, checking its structure and (see <paramref name="checksum"/>) its checksum
    /// before any tensor is created.</summary>
    /// <param name="path">The file.</param>
    /// <param name="checksum">Whether a file without this library's checksum is accepted.</param>
    /// <exception cref="CorruptFileException">the file is truncated, damaged, not a safetensors file, uses a dtype
    /// other than F32/F64/I32/I64/BOOL, or its checksum differs (or is missing under
    /// <see cref="ChecksumPolicy.Required"/>); the message names the file and the problem.</exception>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    public static TensorFile Load(string path, ChecksumPolicy checksum = ChecksumPolicy.IfPresent)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(fs, path, checksum);
    }

    /// <summary>Reads safetensors bytes (see <see cref="Load"/>).</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="source">Names the bytes in error messages.</param>
    /// <param name="checksum">Whether bytes without this library's checksum are accepted.</param>
    /// <exception cref="CorruptFileException">the bytes are truncated, damaged or not safetensors.</exception>
    public static TensorFile Deserialize(byte[] bytes, string source = "<bytes>", ChecksumPolicy checksum = ChecksumPolicy.IfPresent)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var ms = new MemoryStream(bytes, writable: false);
        return Read(ms, source, checksum);
    }

    sealed record Entry(string Name, DType DType, int[] Shape, long Begin, long End);

    /// <summary>Reads a safetensors file from a seekable stream positioned at its start (see <see cref="Load"/>).</summary>
    /// <param name="stream">A readable, seekable stream; the file is everything from its position to its end.</param>
    /// <param name="source">Names the stream in error messages (the path for files).</param>
    /// <param name="checksum">Whether a file without this library's checksum is accepted.</param>
    /// <exception cref="CorruptFileException">the content is truncated, damaged or not safetensors.</exception>
    /// <exception cref="ArgumentException">the stream cannot seek.</exception>
    public static TensorFile Read(Stream stream, string source, ChecksumPolicy checksum = ChecksumPolicy.IfPresent)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("safetensors: the stream must be seekable", nameof(stream));
        RequireLittleEndian();
        source ??= "<stream>";
        long length = stream.Length - stream.Position;
        CorruptFileException Bad(string problem, Exception? inner = null) => new(source, problem, inner);

        if (length < 8)
            throw Bad($"truncated or not a safetensors file: {length} bytes, but the 8-byte header length alone needs 8");
        var prefix = new byte[8];
        stream.ReadExactly(prefix);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n == 0 || n > (ulong)MaxHeaderBytes)
            throw Bad($"not a safetensors file: the header length field says {n} bytes (expected 1 to {MaxHeaderBytes})");
        if ((long)n > length - 8)
            throw Bad($"truncated or not a safetensors file: the header length field says {n} bytes but only {length - 8} follow it");
        var header = new byte[(int)n];
        stream.ReadExactly(header);
        if (header[0] != (byte)'{')
            throw Bad("not a safetensors file: the header does not start with '{'");
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw Bad("the header is not valid UTF-8 text");

        var (entries, metadata, checksumValue) = ParseHeader(header, Bad);
        long dataLength = length - 8 - (long)n;
        CheckLayout(entries, dataLength, Bad);

        // the checksum covers every byte of the file, with its own 64 digits read as zeros
        int hexAt = -1;
        if (checksumValue is not null)
        {
            if (!checksumValue.StartsWith(ChecksumPrefix, StringComparison.Ordinal) || checksumValue.Length != ChecksumPrefix.Length + HexDigits)
                throw Bad($"the checksum entry '{ChecksumKey}' is malformed (expected \"{ChecksumPrefix}\" and {HexDigits} hex digits)");
            hexAt = FindChecksumDigits(header, checksumValue);
            if (hexAt < 0) throw Bad($"the checksum entry '{ChecksumKey}' is not in the form this library writes");
        }
        else if (checksum == ChecksumPolicy.Required)
            throw Bad($"the file has no checksum ('{ChecksumKey}' in __metadata__); it was not written by FunctionalAD or its header is damaged");

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(prefix);
        if (hexAt >= 0)
        {
            var zeroed = (byte[])header.Clone();
            zeroed.AsSpan(hexAt, HexDigits).Fill((byte)'0');
            hash.AppendData(zeroed);
        }
        else hash.AppendData(header);

        var raw = new byte[entries.Count][];
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            raw[i] = new byte[checked((int)(e.End - e.Begin))];
            try { stream.ReadExactly(raw[i]); }
            catch (EndOfStreamException ex) { throw Bad($"truncated in the data of tensor '{e.Name}'", ex); }
            hash.AppendData(raw[i]);
        }
        if (hexAt >= 0)
        {
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            var expected = checksumValue!.Substring(ChecksumPrefix.Length);
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
                throw Bad($"checksum mismatch: the file says {expected} but its content hashes to {actual}; the file is damaged");
        }

        var tensors = new List<KeyValuePair<string, Tensor>>(entries.Count);
        for (int i = 0; i < entries.Count; i++)
            tensors.Add(new(entries[i].Name, FromBytes(entries[i], raw[i])));
        return new TensorFile(source, tensors, metadata, verified: hexAt >= 0);
    }

    static (List<Entry>, Dictionary<string, string>, string?) ParseHeader(byte[] header, Func<string, Exception?, CorruptFileException> bad)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException ex) { throw bad($"the header is not valid JSON ({ex.Message})", ex); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw bad("the header is not a JSON object", null);
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            string? checksum = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var prop in root.EnumerateObject())
            {
                if (!seen.Add(prop.Name)) throw bad($"the header names '{prop.Name}' twice", null);
                if (prop.Name == "__metadata__")
                {
                    sawMetadata = true;
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw bad("__metadata__ is not a JSON object of strings", null);
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw bad($"__metadata__ entry '{m.Name}' is not a string", null);
                        if (m.Name == ChecksumKey) checksum = m.Value.GetString();
                        else if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw bad($"__metadata__ names '{m.Name}' twice", null);
                    }
                    continue;
                }
                entries.Add(ParseEntry(prop, bad));
            }
            _ = sawMetadata;
            return (entries, metadata, checksum);
        }
    }

    static Entry ParseEntry(JsonProperty prop, Func<string, Exception?, CorruptFileException> bad)
    {
        var name = prop.Name;
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object) throw bad($"tensor '{name}': its entry is not a JSON object", null);
        string? dtype = null;
        int[]? shape = null;
        long[]? offsets = null;
        foreach (var f in v.EnumerateObject())
        {
            switch (f.Name)
            {
                case "dtype" when dtype is null && f.Value.ValueKind == JsonValueKind.String:
                    dtype = f.Value.GetString();
                    break;
                case "shape" when shape is null && f.Value.ValueKind == JsonValueKind.Array:
                    shape = f.Value.EnumerateArray().Select(d =>
                        d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var x) && x >= 0 ? x
                        : throw bad($"tensor '{name}': shape {f.Value.GetRawText()} is not a list of sizes >= 0", null)).ToArray();
                    break;
                case "data_offsets" when offsets is null && f.Value.ValueKind == JsonValueKind.Array:
                    offsets = f.Value.EnumerateArray().Select(d =>
                        d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var x) && x >= 0 ? x
                        : throw bad($"tensor '{name}': data_offsets {f.Value.GetRawText()} are not two offsets >= 0", null)).ToArray();
                    break;
                default:
                    throw bad($"tensor '{name}': unexpected or repeated field '{f.Name}' (expected dtype, shape, data_offsets)", null);
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw bad($"tensor '{name}': the entry lacks {(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}", null);
        var dt = ParseDType(dtype) ?? throw bad($"tensor '{name}': dtype \"{dtype}\" is not supported (FunctionalAD reads F32, F64, I32, I64, BOOL)", null);
        if (offsets.Length != 2 || offsets[1] < offsets[0])
            throw bad($"tensor '{name}': data_offsets [{string.Join(",", offsets)}] are not [begin, end] with begin <= end", null);
        long numel = 1;
        foreach (var d in shape)
        {
            numel *= d;
            if (numel > int.MaxValue) throw bad($"tensor '{name}': shape {Shape.Format(shape)} has more than {int.MaxValue} elements", null);
        }
        if (offsets[1] - offsets[0] != numel * dt.SizeOf())
            throw bad($"tensor '{name}': {dtype} {Shape.Format(shape)} needs {numel * dt.SizeOf()} bytes but data_offsets [{offsets[0]},{offsets[1]}] span {offsets[1] - offsets[0]}", null);
        return new Entry(name, dt, shape, offsets[0], offsets[1]);
    }

    static void CheckLayout(List<Entry> entries, long dataLength, Func<string, Exception?, CorruptFileException> bad)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.Begin != expected)
                throw bad(e.Begin < expected
                    ? $"tensor '{e.Name}': its data [{e.Begin},{e.End}] overlaps the previous tensor's (which ends at {expected})"
                    : $"tensor '{e.Name}': its data starts at {e.Begin} but the previous tensor's ends at {expected} (a gap)", null);
            expected = e.End;
        }
        if (expected > dataLength)
            throw bad($"truncated: the header describes {expected} bytes of data but the file holds {dataLength}", null);
        if (expected < dataLength)
            throw bad($"{dataLength - expected} unexpected bytes after the last tensor's data (the header describes {expected})", null);
    }

    static Tensor FromBytes(Entry e, byte[] bytes) => e.DType switch
    {
        DType.Float32 => Tensor.FromArray(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), e.Shape),
        DType.Float64 => Tensor.FromArray(MemoryMarshal.Cast<byte, double>(bytes).ToArray(), e.Shape),
        DType.Int32 => Tensor.FromArray(MemoryMarshal.Cast<byte, int>(bytes).ToArray(), e.Shape),
        DType.Int64 => Tensor.FromArray(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), e.Shape),
        _ => Tensor.FromArray(Array.ConvertAll(bytes, b => b != 0), e.Shape),
    };
}
