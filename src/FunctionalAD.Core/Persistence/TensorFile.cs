namespace FunctionalAD.Persistence;

/// <summary>How a reader treats the checksum this library writes into every file's metadata.</summary>
public enum ChecksumPolicy
{
    /// <summary>Verify the checksum when the file has one; accept a file without one (written by PyTorch,
    /// JAX or Hugging Face tools). The file's structure is checked either way.</summary>
    IfPresent = 0,
    /// <summary>Refuse a file without a checksum (checkpoints: files this library wrote).</summary>
    Required = 1,
}

/// <summary>The content of a safetensors file: named tensors (in the file's data order) and the string metadata.</summary>
public sealed class TensorFile
{
    internal TensorFile(string source, IReadOnlyList<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string> metadata, bool verified)
    {
        Source = source;
        Tensors = tensors;
        Metadata = metadata;
        Verified = verified;
        var byName = new Dictionary<string, Tensor>(tensors.Count, StringComparer.Ordinal);
        foreach (var kv in tensors) byName[kv.Key] = kv.Value;
        ByName = byName;
    }

    /// <summary>The file path (or stream description) it was read from.</summary>
    public string Source { get; }

    /// <summary>The tensors as (name, tensor) pairs, in the order of their data in the file.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; }

    /// <summary>The tensors by name.</summary>
    public IReadOnlyDictionary<string, Tensor> ByName { get; }

    /// <summary>The "__metadata__" string map, without this library's checksum entry.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>True when the file carried a checksum and it matched.</summary>
    public bool Verified { get; }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">no tensor has that name; the message names the file.</exception>
    public Tensor this[string name] =>
        ByName.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"{Source}: no tensor '{name}'; the file has {string.Join(", ", ByName.Keys)}");
}
