namespace FunctionalAD.Persistence;

/// <summary>A file is truncated, damaged or not in the expected format. Nothing was loaded from it.</summary>
/// <remarks>The message names the file (or stream) and what is wrong with it: where it is truncated, which
/// tensor's entry is malformed, or that its checksum does not match.</remarks>
public sealed class CorruptFileException : IOException
{
    /// <summary>A refusal of <paramref name="source"/> because of <paramref name="problem"/>.</summary>
    /// <param name="source">The file path (or a description of the stream).</param>
    /// <param name="problem">What is wrong, in words.</param>
    /// <param name="inner">The underlying error (a JSON parse error, say), if any.</param>
    public CorruptFileException(string source, string problem, Exception? inner = null)
        : base($"{source}: {problem}", inner)
    {
        FileName = source;
        Problem = problem;
    }

    /// <summary>The file path (or stream description) that was refused.</summary>
    public string FileName { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
