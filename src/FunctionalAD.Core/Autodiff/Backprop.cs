using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>
/// The backward walk: visits the nodes of one tag in reverse topological order with a loop (no recursion, so a chain
/// of millions of operations cannot overflow the stack), applies each node's vjp rules and accumulates adjoints in
/// an array the walk owns. Intermediate adjoints are dropped as soon as they are consumed; large arrays that only
/// the walk could reach go back to <see cref="ResultPool"/>.
/// </summary>
internal static class Backprop
{
    /// <summary>The adjoints of <paramref name="leaves"/> (inputs of a transformation, on <paramref name="tag"/>'s
    /// tape) given cotangent <paramref name="seed"/> of <paramref name="root"/>. Null entries mean a zero adjoint.
    /// <paramref name="ready"/>, when given, is called with (k, adjoint of leaves[k]) as soon as that adjoint is final
    /// (right after its first consumer on the tape has been processed), while the walk goes on: a data-parallel
    /// trainer starts reducing a bucket of gradients before the rest are computed. Leaves no node consumed are
    /// reported at the end with null. The adjoint must not be changed by the callback.</summary>
    public static Tensor?[] Run(Tag tag, Node root, Tensor seed, Node[] leaves, Action<int, Tensor?>? ready = null) =>
        Walk(tag.Tape!.Prefix((int)root.Index), (int)root.Index, n => (int)n.Index, seed, leaves, ready);

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
        return (found, Walk(order.ToArray(), order.Count - 1, n => slots.TryGetValue(n, out var s) ? s : -1, seed, found));
    }

    static Tensor?[] Walk(Node[] order, int rootSlot, Func<Node, int> slotOf, Tensor seed, Node[] leaves, Action<int, Tensor?>? ready = null)
    {
        var readyAfter = ready is null ? null : FirstConsumers(order, rootSlot, slotOf, leaves);
        var adjoint = new Tensor?[rootSlot + 1];
        adjoint[rootSlot] = seed;
        // owned[s]: adjoint[s] is a sum this walk allocated, or a rule's fresh result, and has not been handed to anyone
        // (a node's adjoint is only passed on when the node itself is processed, after its last contribution), so it
        // may be added into in place, and its large arrays recycled once consumed (ResultPool).
        var owned = new bool[rootSlot + 1];
        var keep = new HashSet<int>();
        foreach (var l in leaves) { int s = slotOf(l); if (s >= 0 && s <= rootSlot) keep.Add(s); }
        var outerLog = ResultPool.BeginLog();
        try
        {
            for (int i = rootSlot; i >= 0; i--)
            {
                Step(i);
                if (readyAfter is not null && readyAfter.TryGetValue(i, out var done))
                    foreach (int k in done) ready!(k, adjoint[slotOf(leaves[k])]);
            }
        }
        finally { ResultPool.EndLog(outerLog); }
        void Step(int i)
        {
            var g = adjoint[i];
            if (g is null) return; // before reading the slot: one with no adjoint may be another thread's, unwritten
            var node = order[i];
            if (node.Op is null) return;
            bool kept = keep.Contains(i);
            if (!kept) adjoint[i] = null;
            var inputs = node.Inputs;
            // With no operand carrying a derivative, no rule records anything on a tape; with the library's rules (a
            // custom function's may keep what it is given or computes), a rule's temporaries die when it returns, and
            // g dies here when the walk owns it and no rule returns a view of it (checked below).
            bool untraced = g.IsConstant && !node.Op.UserRules && Untraced(node.Output, inputs);
            var dead = owned[i] && !kept && untraced ? ResultPool.ArrayOf(g.Value) : null;
            ResultPool.RentedSince(0, null); // forget the sums of the last node (and what a ready callback rented)
            for (int j = 0; j < inputs.Length; j++)
            {
                var parent = node.Parent(j);
                if (parent is null) continue;
                int mark = ResultPool.LogMark;
                var gj = node.Op.Vjp[j]!(g, inputs, node.Output, node.Attr);
                // fresh: an array this rule call rented and that carries no derivative, so only gj references it; the
                // call's other arrays were its temporaries
                var gjArray = gj.IsConstant && !node.Op.UserRules ? ResultPool.ArrayOf(gj.Value) : null;
                bool fresh = ResultPool.RentedSince(mark, gjArray, recycle: untraced && gj.IsConstant && !node.Op.RulesKeepResults) && gjArray is not null;
                if (!gj.IsConstant || ReferenceEquals(ResultPool.ArrayOf(gj.Value), dead)) dead = null;
                int s = slotOf(parent);
                if (adjoint[s] is not { } acc) { adjoint[s] = gj; owned[s] = fresh; }
                else if (owned[s] && AddInPlace(acc, gj)) { if (fresh) ResultPool.Return(gjArray!); }
                else
                {
                    var sum = acc + gj;
                    if (sum.IsConstant && ResultPool.ArrayOf(sum.Value) is { } sumArray) // acc and gj die, unless + returned one of them
                    {
                        if (owned[s] && ResultPool.ArrayOf(acc.Value) is { } accArray && accArray != sumArray) ResultPool.Return(accArray);
                        if (fresh && gjArray != sumArray) ResultPool.Return(gjArray!);
                    }
                    adjoint[s] = sum;
                    owned[s] = sum.IsConstant; // a fresh result (a traced sum's primal belongs to the outer tape)
                }
            }
            if (dead is not null) ResultPool.Return(dead);
        }
        var result = new Tensor?[leaves.Length];
        for (int k = 0; k < leaves.Length; k++) { int s = slotOf(leaves[k]); result[k] = s >= 0 && s <= rootSlot ? adjoint[s] : null; }
        if (readyAfter is not null)
            foreach (int k in readyAfter[-1]) ready!(k, result[k]); // consumed by no node the walk reached: a zero adjoint
        return result;
    }

    /// <summary>For the ready callback: tape slot i -> the leaves whose adjoint is final once node i is processed (the
    /// smallest slot consuming them, since every contribution comes from a consumer). Leaves no node consumes sit
    /// under slot -1, reported after the walk.</summary>
    static Dictionary<int, List<int>> FirstConsumers(Node[] order, int rootSlot, Func<Node, int> slotOf, Node[] leaves)
    {
        var leafOf = new Dictionary<int, List<int>>();
        for (int k = 0; k < leaves.Length; k++)
        {
            int s = slotOf(leaves[k]);
            if (!leafOf.TryGetValue(s, out var ks)) leafOf[s] = ks = [];
            ks.Add(k);
        }
        var first = new Dictionary<int, List<int>>();
        var unconsumed = new List<int>();
        foreach (var (s, ks) in leafOf)
            if (s < 0 || s > rootSlot) unconsumed.AddRange(ks);
        var pending = new HashSet<int>(leafOf.Keys.Where(s => s >= 0 && s <= rootSlot));
        if (pending.Contains(rootSlot)) { first[rootSlot] = [.. leafOf[rootSlot]]; pending.Remove(rootSlot); } // f returned an input
        for (int i = 0; i <= rootSlot && pending.Count > 0; i++)
            for (int j = 0, arity = order[i]?.Arity ?? 0; j < arity; j++) // null: another thread's slot, unwritten
            {
                var parent = order[i].Parent(j);
                if (parent is null) continue;
                int s = slotOf(parent);
                if (!pending.Remove(s)) continue;
                if (!first.TryGetValue(i, out var ks)) first[i] = ks = [];
                ks.AddRange(leafOf[s]);
            }
        foreach (int s in pending) unconsumed.AddRange(leafOf[s]);
        first[-1] = unconsumed;
        return first;
    }

    /// <summary>True when no input or output of the node carries a derivative of an outer transformation.</summary>
    static bool Untraced(Tensor output, Tensor[] inputs)
    {
        if (!output.IsConstant) return false;
        foreach (var x in inputs) if (!x.IsConstant) return false;
        return true;
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
            for (int j = 0; j < n.Arity; j++)
                if (n.Parent(j) is { } p && seen.Add(p)) stack.Push(p);
        }
        all.Sort((a, b) => a.Index.CompareTo(b.Index));
        return all;
    }
}
