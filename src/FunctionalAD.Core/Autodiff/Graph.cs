using System.Text;

namespace FunctionalAD.Autodiff
{
    /// <summary>Reads the recorded computation graph behind a taped value (PyTorch's grad_fn chain).</summary>
    internal static class Graph
    {
        public static string? CreatorName(Tensor t) => t.node is { } n ? n.Op?.Name ?? "leaf" : null;
    }
}

namespace FunctionalAD
{
    using FunctionalAD.Autodiff;

    /// <summary>
    /// One recorded operation of a reverse-mode graph: which operation created a value and from which inputs.
    /// Obtained from <see cref="Tensor.GradFn"/> of a value computed inside <c>grad</c>/<c>vjp</c> or from a
    /// tensor marked with <see cref="Tensor.RequiresGrad"/>.
    /// </summary>
    public sealed class GraphNode
    {
        internal readonly Node node;
        internal GraphNode(Node node) => this.node = node;

        /// <summary>The operation's name ("add", "sin", "matmul", ...), or "leaf" for an input of the transformation.</summary>
        public string Operation => node.Op?.Name ?? "leaf";

        /// <summary>For a leaf, its name (e.g. "x0", or the name given to RequiresGrad); otherwise null.</summary>
        public string? Name => node.LeafName;

        /// <summary>True for an input of the transformation (a value not computed from others).</summary>
        public bool IsLeaf => node.Op is null;

        /// <summary>The recorded nodes of the inputs, one per argument; null for an argument that is a constant.</summary>
        public IReadOnlyList<GraphNode?> Inputs => node.Parents.Select(p => p is null ? null : new GraphNode(p)).ToArray();

        /// <summary>The shape of the value this node produced.</summary>
        public int[] Shape => node.Output.Shape;

        /// <inheritdoc/>
        public override string ToString() => IsLeaf ? $"leaf {Name} {FunctionalAD.Shape.Format(node.Output.ShapeRef)}" : $"{Operation} {FunctionalAD.Shape.Format(node.Output.ShapeRef)}";

        /// <summary>Every node reachable from this one, each once, inputs before the nodes that use them.</summary>
        public IReadOnlyList<GraphNode> Walk() => Backprop.Reachable(node).Select(n => new GraphNode(n)).ToArray();

        string Id(Dictionary<Node, int> ids) => "n" + ids[node];

        /// <summary>One line per node, e.g. "n2 = mul(n0, n1) [3]".</summary>
        public string ToText()
        {
            var nodes = Walk();
            var ids = Ids(nodes);
            var sb = new StringBuilder();
            foreach (var g in nodes)
            {
                sb.Append(g.Id(ids)).Append(" = ");
                if (g.IsLeaf) sb.Append("leaf ").Append(g.Name);
                else sb.Append(g.Operation).Append('(').Append(string.Join(", ", g.node.Parents.Select(p => p is null ? "const" : "n" + ids[p]))).Append(')');
                sb.Append(' ').Append(FunctionalAD.Shape.Format(g.node.Output.ShapeRef)).Append('\n');
            }
            return sb.ToString();
        }

        /// <summary>The graph in Graphviz DOT.</summary>
        public string ToDot()
        {
            var nodes = Walk();
            var ids = Ids(nodes);
            var sb = new StringBuilder("digraph G {\n  rankdir=LR;\n");
            foreach (var g in nodes)
            {
                sb.Append($"  {g.Id(ids)} [label=\"{(g.IsLeaf ? g.Name : g.Operation)}\\n{FunctionalAD.Shape.Format(g.node.Output.ShapeRef)}\"{(g.IsLeaf ? ", shape=box" : "")}];\n");
                foreach (var p in g.node.Parents) if (p is not null) sb.Append($"  n{ids[p]} -> {g.Id(ids)};\n");
            }
            return sb.Append("}\n").ToString();
        }

        /// <summary>The graph as a Mermaid flowchart.</summary>
        public string ToMermaid()
        {
            var nodes = Walk();
            var ids = Ids(nodes);
            var sb = new StringBuilder("flowchart LR\n");
            foreach (var g in nodes)
            {
                var label = $"{(g.IsLeaf ? g.Name : g.Operation)} {FunctionalAD.Shape.Format(g.node.Output.ShapeRef)}";
                sb.Append(g.IsLeaf ? $"  {g.Id(ids)}[\"{label}\"]\n" : $"  {g.Id(ids)}((\"{label}\"))\n");
                foreach (var p in g.node.Parents) if (p is not null) sb.Append($"  n{ids[p]} --> {g.Id(ids)}\n");
            }
            return sb.ToString();
        }

        static Dictionary<Node, int> Ids(IReadOnlyList<GraphNode> nodes)
        {
            var ids = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < nodes.Count; i++) ids[nodes[i].node] = i;
            return ids;
        }
    }

    public sealed partial class Tensor
    {
        /// <summary>The operation that created this value on the innermost reverse-mode graph it belongs to, or null
        /// for a value that is not being differentiated in reverse mode (PyTorch's grad_fn).</summary>
        public GraphNode? GradFn => node is null ? null : new GraphNode(node);

        /// <summary>
        /// PyTorch-style tracking: this value as a leaf whose uses are recorded, so that <see cref="Backward"/> of a
        /// scalar computed from it gives its gradient. Outermost of all nesting levels; no tape is kept, the graph
        /// lives only as long as the values that reference it.
        /// </summary>
        /// <exception cref="DTypeMismatchException">the tensor is not floating point.</exception>
        /// <param name="name">The leaf's name in printed graphs.</param>
        /// <param name="sink">Receives this leaf's gradient on every <see cref="Backward"/> (how a PyTorch-style
        /// Parameter fills its .Grad).</param>
        public Tensor RequiresGrad(string? name = null, IGradientSink? sink = null)
        {
            if (!DType.IsFloatingPoint()) throw new DTypeMismatchException("requiresGrad", $"only floating-point tensors can require gradients, got {DType}");
            var value = StopGradient();
            var leaf = new Node(null, [], [], value, null, name ?? "leaf", sink);
            leaf.Index = Tag.Imperative.Record(leaf);
            return new Tensor(value, null, leaf, Tag.Imperative);
        }

        /// <summary>True for a value tracked by <see cref="RequiresGrad"/> (directly or computed from one).</summary>
        public bool IsTracked => ReferenceEquals(tag, Tag.Imperative);

        /// <summary>Backpropagates from this scalar to the tracked leaves it was computed from, returning their
        /// gradients (a value that did not contribute gets zeros). Leaves created with a sink also receive their
        /// gradient through <see cref="IGradientSink.Accumulate"/>.</summary>
        /// <exception cref="ShapeMismatchException">this tensor has more than one element.</exception>
        /// <exception cref="InvalidOperationException">this value is not tracked (no leaf marked with RequiresGrad was used).</exception>
        public Gradients Backward()
        {
            if (Numel != 1) throw new ShapeMismatchException("backward", $"backward needs a scalar (one-element) value, got shape {FunctionalAD.Shape.Format(shape)}");
            if (!IsTracked) throw new InvalidOperationException("backward: this value was not computed from a tensor marked with RequiresGrad, so there is nothing to differentiate");
            return new Gradients(this);
        }
    }

    /// <summary>An owner of a tracked leaf (e.g. a PyTorch-style Parameter) that receives its gradient.</summary>
    public interface IGradientSink
    {
        /// <summary>Called once per <see cref="Tensor.Backward"/> with the gradient of the leaf (leaf-shaped).</summary>
        void Accumulate(Tensor gradient);
    }

    /// <summary>The gradients of one <see cref="Tensor.Backward"/> call, looked up by leaf.</summary>
    public sealed class Gradients
    {
        readonly Tensor root;
        readonly Dictionary<Node, Tensor> cache = new(ReferenceEqualityComparer.Instance);

        internal Gradients(Tensor root)
        {
            this.root = root;
            var (leaves, adj) = Backprop.RunToLeaves(root.node!, Tensor.OnesLike(root.primal!));
            for (int i = 0; i < leaves.Length; i++) if (adj[i] is { } a) cache[leaves[i]] = a;
            foreach (var leaf in leaves)
                leaf.Sink?.Accumulate(cache.TryGetValue(leaf, out var g) ? g : Tensor.ZerosLike(leaf.Output));
        }

        /// <summary>The gradient of the backward root with respect to <paramref name="leaf"/> (zeros if unused).</summary>
        /// <exception cref="ArgumentException">leaf is not a tensor returned by RequiresGrad.</exception>
        public Tensor this[Tensor leaf]
        {
            get
            {
                if (leaf.node is not { Op: null } n || !leaf.IsTracked)
                    throw new ArgumentException("gradients: the tensor is not a leaf created with RequiresGrad", nameof(leaf));
                return cache.TryGetValue(n, out var g) ? g : Tensor.ZerosLike(leaf.primal!);
            }
        }

        /// <summary>The leaves that received a gradient.</summary>
        public int Count => cache.Count;

        /// <inheritdoc/>
        public override string ToString() => $"Gradients of {root.GradFn} for {cache.Count} leaves";
    }
}
