namespace FunctionalAD.Autodiff;

/// <summary>
/// One taped application of a primitive: what was applied, to which primal values, and which nodes produced the
/// inputs that depend on this node's tag (null where an input is a constant for this tag). Adjoints are not stored
/// here: the backward walk owns them. A leaf (an input of the transformation) has no primitive; its name and owner
/// ride in the attribute slot, which only applications use. An elementwise op on rank-0 values is not a node but a
/// <see cref="ScalarRecord"/> on the tape; it is viewed as a node (created once, on demand) only for inspection or as
/// the input of an op that is not a record.
/// </summary>
internal sealed class Node
{
    public readonly Primitive? Op;           // null for a leaf
    public readonly Tensor Output;           // primal of the output
    readonly object? attr;                   // the primitive's attribute; a leaf's Leaf
    // The inputs' primals (derivatives of this tag stripped) and the nodes that produced them (null for a constant):
    // for one or two inputs inline, so that an elementwise op is recorded as one object instead of a node and two
    // arrays (a scalar operation's recording is mostly allocation); for three or more in the arrays.
    readonly Tensor? input0, input1;
    readonly Node? parent0, parent1;
    readonly Tensor[]? inputs;
    readonly Node?[]? parents;
    // A record's view (Tape.NodeAt): its parents are the nodes of these slots on this tape, looked up when asked for.
    readonly Tape? tape;
    readonly int slot0 = -1, slot1 = -1;
    /// <summary>Position on the tag's tape; for the untaped imperative tag, a creation stamp (also topological).</summary>
    public long Index;

    /// <summary>An application of <paramref name="op"/>; parents[i] produced input i (null for a constant).</summary>
    public Node(Primitive op, Tensor[] inputs, Node?[] parents, Tensor output, object? attr)
    {
        Op = op; Output = output; this.attr = attr;
        if (inputs.Length > 2) { this.inputs = inputs; this.parents = parents; return; }
        if (inputs.Length > 0) { input0 = inputs[0]; parent0 = parents[0]; }
        if (inputs.Length > 1) { input1 = inputs[1]; parent1 = parents[1]; }
        if (inputs.Length == 0) this.inputs = [];
    }

    /// <summary>An application of <paramref name="op"/> to one input (<paramref name="input1"/> null) or two.</summary>
    public Node(Primitive op, Tensor input0, Node? parent0, Tensor? input1, Node? parent1, Tensor output, object? attr)
    {
        Op = op; Output = output; this.attr = attr;
        this.input0 = input0; this.parent0 = parent0; this.input1 = input1; this.parent1 = parent1;
    }

    /// <summary>Slot <paramref name="slot"/>'s <paramref name="record"/> of <paramref name="tape"/> as a node.</summary>
    public Node(Tape tape, int slot, in ScalarRecord record)
    {
        Op = record.Primitive; Index = slot; this.tape = tape;
        Output = ScalarRecord.Constant(record.Y, record.Single);
        input0 = ScalarRecord.Constant(record.X0, record.Single); slot0 = record.Parent0;
        if (record.Binary) { input1 = ScalarRecord.Constant(record.X1, record.Single); slot1 = record.Parent1; }
    }

    /// <summary>A leaf: an input called <paramref name="name"/>, reporting its gradient to <paramref name="sink"/> if any.</summary>
    public Node(Tensor output, string name, IGradientSink? sink = null)
    {
        inputs = []; Output = output; attr = new Leaf(name, sink);
    }

    /// <summary>Number of inputs (0 for a leaf).</summary>
    public int Arity => inputs is not null ? inputs.Length : input1 is null ? 1 : 2;

    /// <summary>The node that produced input <paramref name="j"/> (0 &lt;= j &lt; Arity), null where it is a constant.</summary>
    public Node? Parent(int j) =>
        parents is not null ? parents[j] : tape is not null ? tape.NodeAt(j == 0 ? slot0 : slot1) : j == 0 ? parent0 : parent1;

    /// <summary>The inputs' primals, in order (a new array for one or two inputs: the backward walk asks once per node).</summary>
    public Tensor[] Inputs => inputs ?? (input1 is null ? [input0!] : [input0!, input1]);

    /// <summary>Every input's parent (a new array; for inspection).</summary>
    public Node?[] Parents
    {
        get
        {
            var r = new Node?[Arity];
            for (int j = 0; j < r.Length; j++) r[j] = Parent(j);
            return r;
        }
    }

    /// <summary>The primitive's attribute (null for a leaf).</summary>
    public object? Attr => Op is null ? null : attr;

    /// <summary>A leaf's name ("x0", or the name given to RequiresGrad); null for an application.</summary>
    public string? LeafName => (attr as Leaf)?.Name;

    /// <summary>A leaf's owner that Backward() reports its gradient to; null otherwise.</summary>
    public IGradientSink? Sink => (attr as Leaf)?.Sink;

    sealed record Leaf(string Name, IGradientSink? Sink);
}
