using System.Text;
using FunctionalAD.Autodiff;

namespace FunctionalAD;

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
}
