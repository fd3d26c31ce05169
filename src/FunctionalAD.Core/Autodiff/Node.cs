namespace FunctionalAD.Autodiff;

/// <summary>
/// One taped application of a primitive: what was applied, to which primal values, and which nodes produced the
/// inputs that depend on this node's tag (null where an input is a constant for this tag). Adjoints are not stored
/// here: the backward walk owns them.
/// </summary>
internal sealed class Node
{
    public readonly Primitive? Op;           // null for a leaf (an input of the transformation)
    public readonly Tensor[] Inputs;         // primals of the inputs (derivatives of this tag stripped)
    public readonly Node?[] Parents;
    public readonly Tensor Output;           // primal of the output
    public readonly object? Attr;
    public readonly string? LeafName;
    public readonly IGradientSink? Sink;    // a leaf's owner that Backward() reports its gradient to
    /// <summary>Position on the tag's tape; for the untaped imperative tag, a creation stamp (also topological).</summary>
    public long Index;

    public Node(Primitive? op, Tensor[] inputs, Node?[] parents, Tensor output, object? attr, string? leafName = null, IGradientSink? sink = null)
    {
        Op = op; Inputs = inputs; Parents = parents; Output = output; Attr = attr; LeafName = leafName; Sink = sink;
    }
}
