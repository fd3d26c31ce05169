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
    /// tape) given cotangent <paramref name="seed"/> of the value in tape slot <paramref name="rootSlot"/>. Null entries
    /// mean a zero adjoint. <paramref name="ready"/>, when given, is called with (k, adjoint of leaves[k]) as soon as
    /// that adjoint is final (right after its first consumer on the tape has been processed), while the walk goes on: a
    /// data-parallel trainer starts reducing a bucket of gradients before the rest are computed. Leaves no node
    /// consumed are reported at the end with null. The adjoint must not be changed by the callback.</summary>
    public static Tensor?[] Run(Tag tag, int rootSlot, Tensor seed, Node[] leaves, Action<int, Tensor?>? ready = null) =>
        Walk(new Graph(tag.Tape!, null, null), rootSlot, seed, leaves, ready);

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
        return (found, Walk(new Graph(null, order.ToArray(), slots), order.Count - 1, seed, found));
    }

    /// <summary>The graph a walk visits: a tag's tape (slots hold nodes or scalar records), or the imperative graph's
    /// nodes in creation order with their positions.</summary>
    readonly struct Graph(Tape? tape, Node[]? order, Dictionary<Node, int>? slots)
    {
        public bool Record(int i, out ScalarRecord r)
        {
            if (tape is not null) return tape.TryRecord(i, out r);
            r = default;
            return false;
        }

        /// <summary>The node in slot i (null for a record, or a slot another thread has not written yet).</summary>
        public Node? Node(int i) => tape is not null ? tape.Stored(i) : order![i];

        /// <summary>Slot i's node as a node (a record viewed as one).</summary>
        public Node? View(int i) => tape is not null ? tape.NodeAt(i) : order![i];

        public int SlotOf(Node n) => slots is null ? (int)n.Index : slots.TryGetValue(n, out var s) ? s : -1;

        /// <summary>The slots of slot i's inputs' nodes (-1 for a constant), or none for an unwritten slot.</summary>
        public int Parents(int i, Span<int> two, out Node? node)
        {
            node = null;
            if (Record(i, out var r)) { two[0] = r.Parent0; two[1] = r.Parent1; return r.Binary ? 2 : 1; }
            node = Node(i);
            return node?.Arity ?? 0;
        }
    }

    // Adjoint kinds per slot: none, a tensor (adjoint[s]), or a plain number of a scalar record's dtype (scalar[s]).
    const byte None = 0, TensorAdjoint = 1, Double = 2, Single = 3;

    /// <summary>The walk's per-slot arrays, reused by the next walk on the thread (cleared after each): a long tape's
    /// arrays would otherwise be large-object-heap allocations on every backward pass under .NET's default GC.</summary>
    sealed class Buffers(int n)
    {
        public readonly Tensor?[] Adjoint = new Tensor?[n];
        public readonly double[] Scalar = new double[n];
        public readonly byte[] Kind = new byte[n];
        public readonly bool[] Owned = new bool[n];
        public int Length => Kind.Length;

        [ThreadStatic] static Buffers? spare;
        const int MaxKept = 1 << 16; // about 1.2 MB kept per thread

        /// <summary>Buffers of at least n slots, all clear; a walk nested in a rule gets its own.</summary>
        public static Buffers Take(int n)
        {
            var b = spare;
            if (b is not null && b.Length >= n) { spare = null; return b; }
            return new Buffers(Math.Max(n, Math.Min(MaxKept, 2 * (b?.Length ?? 0))));
        }

        public void Give(int used)
        {
            Array.Clear(Adjoint, 0, used); Array.Clear(Kind, 0, used); Array.Clear(Owned, 0, used);
            if (Length <= MaxKept && (spare is null || spare.Length < Length)) spare = this;
        }
    }

    static Tensor?[] Walk(Graph graph, int rootSlot, Tensor seed, Node[] leaves, Action<int, Tensor?>? ready = null)
    {
        var readyAfter = ready is null ? null : FirstConsumers(graph, rootSlot, leaves);
        var buffers = Buffers.Take(rootSlot + 1);
        var adjoint = buffers.Adjoint;
        var scalar = buffers.Scalar;
        var kind = buffers.Kind;
        var ops = Primitive.ScalarOps; // every record's primitive was registered before it was recorded
        adjoint[rootSlot] = seed;
        kind[rootSlot] = TensorAdjoint;
        // owned[s]: adjoint[s] is a sum this walk allocated, or a rule's fresh result, and has not been handed to anyone
        // (a node's adjoint is only passed on when the node itself is processed, after its last contribution), so it
        // may be added into in place, and its large arrays recycled once consumed (ResultPool).
        var owned = buffers.Owned;
        var keep = new HashSet<int>();
        foreach (var l in leaves) { int s = graph.SlotOf(l); if (s >= 0 && s <= rootSlot) keep.Add(s); }
        var outerLog = ResultPool.BeginLog();
        var result = new Tensor?[leaves.Length];
        try
        {
            for (int i = rootSlot; i >= 0; i--)
            {
                if (kind[i] == None) continue; // before reading the slot: one with no adjoint may be another thread's, unwritten
                if (!graph.Record(i, out var r) || !ScalarStep(i, r)) Step(i);
                if (readyAfter is not null && readyAfter.TryGetValue(i, out var done))
                    foreach (int k in done) ready!(k, AdjointTensor(graph.SlotOf(leaves[k])));
            }
            for (int k = 0; k < leaves.Length; k++) { int s = graph.SlotOf(leaves[k]); result[k] = s >= 0 && s <= rootSlot ? AdjointTensor(s) : null; }
        }
        finally
        {
            ResultPool.EndLog(outerLog);
            buffers.Give(rootSlot + 1);
        }
        if (readyAfter is not null)
            foreach (int k in readyAfter[-1]) ready!(k, result[k]); // consumed by no node the walk reached: a zero adjoint
        return result;

        // A record whose adjoint is a plain number (or a constant rank-0 tensor of its dtype): its rules on numbers,
        // nothing allocated. False where the adjoint carries a derivative (a higher order is being traced): the record
        // then takes the general step as a node.
        bool ScalarStep(int i, in ScalarRecord r)
        {
            double g;
            if (kind[i] == TensorAdjoint)
            {
                if (!ScalarRecord.TryValue(adjoint[i]!, out g, out bool single) || single != r.Single) return false;
                adjoint[i] = null; owned[i] = false;
            }
            else g = scalar[i];
            kind[i] = None;
            var rule = ops[r.Op - 1].Scalar!;
            if (r.Parent0 >= 0) AddScalar(r.Parent0, rule(0, g, r.X0, r.X1, r.Y, r.Single), r.Single);
            if (r.Binary && r.Parent1 >= 0) AddScalar(r.Parent1, rule(1, g, r.X0, r.X1, r.Y, r.Single), r.Single);
            return true;
        }

        void AddScalar(int s, double v, bool single)
        {
            switch (kind[s])
            {
                case None: scalar[s] = v; kind[s] = single ? Single : Double; break;
                case Double: scalar[s] += v; break;
                case Single: scalar[s] = (float)scalar[s] + (float)v; break;
                default: Accumulate(s, ScalarRecord.Constant(v, single), fresh: false); break;
            }
        }

        // Slot s's adjoint as a tensor (a number becomes a rank-0 tensor the walk owns); null for none.
        Tensor? AdjointTensor(int s)
        {
            if (kind[s] is Double or Single)
            {
                adjoint[s] = ScalarRecord.Constant(scalar[s], kind[s] == Single);
                kind[s] = TensorAdjoint;
                owned[s] = false;
            }
            return adjoint[s];
        }

        // Adds the contribution gj into slot s's adjoint (fresh: gj's array was rented by its rule and only gj holds it).
        void Accumulate(int s, Tensor gj, bool fresh)
        {
            var gjArray = fresh ? ResultPool.ArrayOf(gj.Value) : null;
            if (AdjointTensor(s) is not { } acc) { adjoint[s] = gj; kind[s] = TensorAdjoint; owned[s] = fresh; }
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

        void Step(int i)
        {
            var g = AdjointTensor(i)!;
            var node = graph.View(i)!;
            if (node.Op is null) return;
            bool kept = keep.Contains(i);
            if (!kept) { adjoint[i] = null; kind[i] = None; }
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
                Accumulate(graph.SlotOf(parent), gj, fresh);
            }
            if (dead is not null) ResultPool.Return(dead);
        }
    }

    /// <summary>For the ready callback: tape slot i -> the leaves whose adjoint is final once node i is processed (the
    /// smallest slot consuming them, since every contribution comes from a consumer). Leaves no node consumes sit
    /// under slot -1, reported after the walk.</summary>
    static Dictionary<int, List<int>> FirstConsumers(Graph graph, int rootSlot, Node[] leaves)
    {
        var leafOf = new Dictionary<int, List<int>>();
        for (int k = 0; k < leaves.Length; k++)
        {
            int s = graph.SlotOf(leaves[k]);
            if (!leafOf.TryGetValue(s, out var ks)) leafOf[s] = ks = [];
            ks.Add(k);
        }
        var first = new Dictionary<int, List<int>>();
        var unconsumed = new List<int>();
        foreach (var (s, ks) in leafOf)
            if (s < 0 || s > rootSlot) unconsumed.AddRange(ks);
        var pending = new HashSet<int>(leafOf.Keys.Where(s => s >= 0 && s <= rootSlot));
        if (pending.Contains(rootSlot)) { first[rootSlot] = [.. leafOf[rootSlot]]; pending.Remove(rootSlot); } // f returned an input
        Span<int> two = stackalloc int[2];
        for (int i = 0; i <= rootSlot && pending.Count > 0; i++)
            for (int j = 0, arity = graph.Parents(i, two, out var node); j < arity; j++) // 0: another thread's slot, unwritten
            {
                int s = node is null ? two[j] : node.Parent(j) is { } parent ? graph.SlotOf(parent) : -1;
                if (s < 0 || !pending.Remove(s)) continue;
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
