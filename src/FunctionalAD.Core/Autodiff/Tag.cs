namespace FunctionalAD.Autodiff;

/// <summary>Forward (tangents travel with values) or reverse (operations are taped).</summary>
internal enum Mode { Forward, Reverse }

/// <summary>
/// The identity of one transformation call (one <c>grad</c>, <c>jvp</c>, ...). A value carrying a derivative is
/// marked with the tag of the call that created the perturbation; a larger <see cref="Level"/> means a call nested
/// deeper, and an operation differentiates with respect to the deepest tag among its operands only (the others are
/// constants to it). Levels come from the call's nesting depth in the current async flow, so nothing is shared
/// between threads.
/// </summary>
internal sealed class Tag
{
    static readonly AsyncLocal<int> Depth = new();

    public readonly int Level;
    public readonly Mode Mode;
    /// <summary>The nodes recorded under this tag in creation (= topological) order; null for forward mode and for
    /// the imperative tag, whose graph is found by walking parents.</summary>
    public readonly Tape? Tape;

    Tag(int level, Mode mode, Tape? tape) { Level = level; Mode = mode; Tape = tape; }

    /// <summary>True once the transformation call that made this tag has returned. A value that escaped it (stored in
    /// a closure, a cache, another thread) is from then on the constant it now is: <see cref="Dispatch"/> strips the
    /// finished layer instead of recording onto a tape nobody will read. (A vjp's pullback still reads the tape.)</summary>
    public bool Finished { get; private set; }

    /// <summary>The tag of PyTorch-style tracking (<c>RequiresGrad</c> / <c>Backward</c>): outermost, never taped.</summary>
    public static readonly Tag Imperative = new(0, Mode.Reverse, null);

    /// <summary>Runs <paramref name="body"/> with a fresh tag one level deeper than the enclosing transformation.</summary>
    public static TResult Scope<TResult>(Mode mode, Func<Tag, TResult> body)
    {
        int outer = Depth.Value;
        var tag = new Tag(outer + 1, mode, mode == Mode.Reverse ? new Tape() : null);
        Depth.Value = outer + 1;
        try { return body(tag); }
        finally { Depth.Value = outer; tag.Finished = true; }
    }

    /// <summary>Appends a node (ops of one grad may run on several threads); its index is its position in the tape.
    /// For the untaped imperative tag nothing is appended and the index is a creation stamp.</summary>
    public long Record(Node node)
    {
        if (Tape is null) return Interlocked.Increment(ref imperativeStamp);
        return Tape.Append(node);
    }

    static long imperativeStamp;
}
