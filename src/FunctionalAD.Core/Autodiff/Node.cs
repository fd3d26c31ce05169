namespace FunctionalAD.Autodiff;

/// <summary>
/// One taped application of a primitive: what was applied, to which primal values, and which nodes produced the
/// inputs that depend on this node's tag (null where an input is a constant for this tag). Adjoints are not stored
/// here: the backward walk owns them. A leaf (an input of the transformation) has no primitive; its name and owner
/// ride in the attribute slot, which only applications use, so a node is five references and a stamp.
/// </summary>
internal sealed class Node
{
    public readonly Primitive? Op;           // null for a leaf
    public readonly Tensor[] Inputs;         // primals of the inputs (derivatives of this tag stripped)
    public readonly Node?[] Parents;
    public readonly Tensor Output;           // primal of the output
    readonly object? attr;                   // the primitive's attribute; a leaf's Leaf
    /// <summary>Position on the tag's tape; for the untaped imperative tag, a creation stamp (also topological).</summary>
    public long Index;

    /// <summary>An application of <paramref name="op"/>.</summary>
    public Node(Primitive op, Tensor[] inputs, Node?[] parents, Tensor output, object? attr)
    {
        Op = op; Inputs = inputs; Parents = parents; Output = output; this.attr = attr;
    }

    /// <summary>A leaf: an input called <paramref name="name"/>, reporting its gradient to <paramref name="sink"/> if any.</summary>
    public Node(Tensor output, string name, IGradientSink? sink = null)
    {
        Inputs = []; Parents = []; Output = output; attr = new Leaf(name, sink);
    }

    /// <summary>The primitive's attribute (null for a leaf).</summary>
    public object? Attr => Op is null ? null : attr;

    /// <summary>A leaf's name ("x0", or the name given to RequiresGrad); null for an application.</summary>
    public string? LeafName => (attr as Leaf)?.Name;

    /// <summary>A leaf's owner that Backward() reports its gradient to; null otherwise.</summary>
    public IGradientSink? Sink => (attr as Leaf)?.Sink;

    sealed record Leaf(string Name, IGradientSink? Sink);
}
