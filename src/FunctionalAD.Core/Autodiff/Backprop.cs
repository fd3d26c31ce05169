namespace FunctionalAD.Autodiff;

/// <summary>
/// The backward walk: visits the nodes of one tag in reverse topological order with a loop (no recursion, so a chain
/// of millions of operations cannot overflow the stack), applies each node's vjp rules and accumulates adjoints in
/// an array the walk owns. Intermediate adjoints are dropped as soon as they are consumed.
/// </summary>
internal static class Backprop
{
    /// <summary>The adjoints of <paramref name="leaves"/> (inputs of a transformation, on <paramref name="tag"/>'s
    /// tape) given cotangent <paramref name="seed"/> of <paramref name="root"/>. Null entries mean a zero adjoint.</summary>
    public static Tensor?[] Run(Tag tag, Node root, Tensor seed, Node[] leaves) =>
        Walk(tag.Tape!, (int)root.Index, n => (int)n.Index, seed, leaves);

    /// <summary>For the untaped imperative tag: the leaves <paramref name="root"/> was computed from and their
    /// adjoints, from one walk over the graph (ordered by creation stamp). Null entries mean a zero adjoint.</summary>
    public static (Node[] Leaves, Tensor?[] Adjoints) RunToLeaves(Node root, Tensor seed)
    {
        var order = Reachable(root);
        var slots = new Dictionary<Node, int>(order.Count, ReferenceEqualityComparer.Instance);
        var leaves = new List<Node>();
        for (int i = 0; i < order.Count; i++)
        {
            slots[order[i]] = i;
            if (order[i].Op is null) leaves.Add(order[i]);
        }
        var found = leaves.ToArray();
        return (found, Walk(order, order.Count - 1, n => slots.TryGetValue(n, out var s) ? s : -1, seed, found));
    }

    static Tensor?[] Walk(List<Node> order, int rootSlot, Func<Node, int> slotOf, Tensor seed, Node[] leaves)
    {
        var adjoint = new Tensor?[rootSlot + 1];
        adjoint[rootSlot] = seed;
        // owned[s]: adjoint[s] is a sum this walk allocated and has not handed to anyone (a node's adjoint is only
        // passed on when the node itself is processed, after its last contribution), so it may be added into in place.
        var owned = new bool[rootSlot + 1];
        var keep = new HashSet<int>();
        foreach (var l in leaves) { int s = slotOf(l); if (s >= 0 && s <= rootSlot) keep.Add(s); }
        for (int i = rootSlot; i >= 0; i--)
        {
            var g = adjoint[i];
            var node = order[i];
            if (g is null || node.Op is null) continue;
            if (!keep.Contains(i)) adjoint[i] = null;
            for (int j = 0; j < node.Parents.Length; j++)
            {
                var parent = node.Parents[j];
                if (parent is null) continue;
                var gj = node.Op.Vjp[j]!(g, node.Inputs, node.Output, node.Attr);
                int s = slotOf(parent);
                if (adjoint[s] is not { } acc) adjoint[s] = gj;
                else if (!(owned[s] && AddInPlace(acc, gj)))
                {
                    var sum = acc + gj;
                    adjoint[s] = sum;
                    owned[s] = sum.IsConstant; // a fresh result (a traced sum's primal belongs to the outer tape)
                }
            }
        }
        var result = new Tensor?[leaves.Length];
        for (int k = 0; k < leaves.Length; k++) { int s = slotOf(leaves[k]); result[k] = s >= 0 && s <= rootSlot ? adjoint[s] : null; }
        return result;
    }

    /// <summary>acc += g in acc's own storage (acc is an owned, hence constant, sum), where g carries no derivative
    /// and the backend can (the CPU).</summary>
    static bool AddInPlace(Tensor acc, Tensor g) =>
        g.IsConstant && acc.Device == g.Device && acc.Backend.TryAddInPlace(acc.Value, g.Value);

    /// <summary>Every node reachable from root through parents, each once, in creation (topological) order.</summary>
    public static List<Node> Reachable(Node root)
    {
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance) { root };
        var stack = new Stack<Node>();
        stack.Push(root);
        var all = new List<Node>();
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            all.Add(n);
            foreach (var p in n.Parents)
                if (p is not null && seen.Add(p)) stack.Push(p);
        }
        all.Sort((a, b) => a.Index.CompareTo(b.Index));
        return all;
    }
}
