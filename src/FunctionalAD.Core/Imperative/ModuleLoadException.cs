namespace FunctionalAD.Imperative;

/// <summary>How a set of named tensors (a state dict or a safetensors file) compares with a module's parameters.</summary>
/// <param name="Missing">Paths the module has and the source lacks.</param>
/// <param name="Unexpected">Names the source has and the module lacks.</param>
/// <param name="Mismatched">Paths in both whose shape or dtype differ, with the difference in words.</param>
public sealed record LoadDifferences(IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected,
    IReadOnlyList<(string Name, string Difference)> Mismatched)
{
    /// <summary>True when every name, shape and dtype matched.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <summary>The differences, one per line ("" when exact).</summary>
    public override string ToString() => string.Join("\n",
        Missing.Select(n => $"  missing from the source: '{n}'")
            .Concat(Unexpected.Select(n => $"  not in the module: '{n}'"))
            .Concat(Mismatched.Select(m => $"  '{m.Name}': {m.Difference}")));
}

/// <summary>Strict loading into a module found names, shapes or dtypes that differ; nothing was changed.</summary>
public sealed class ModuleLoadException : Exception
{
    /// <summary>An exception for loading from <paramref name="source"/> (a file path or "state dict").</summary>
    public ModuleLoadException(string source, LoadDifferences differences)
        : base($"{source}: the tensors do not match the module's parameters (load with strict: false to load what matches):\n{differences}")
    {
        From = source;
        Differences = differences;
    }

    /// <summary>Where the tensors came from.</summary>
    public string From { get; }

    /// <summary>What differs.</summary>
    public LoadDifferences Differences { get; }
}
