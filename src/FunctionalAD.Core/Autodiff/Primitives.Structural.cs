using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>The primitive table, structural part: reductions, views, joins, indexing, casts, matmul.</summary>
internal static partial class Primitives
{
    static ReduceAttr R(object? attr) => (ReduceAttr)attr!;

    /// <summary>A reduced cotangent (or result) broadcast back to the input's shape.</summary>
    static Tensor Unreduce(Tensor g, int[] inputShape, ReduceAttr a) =>
        g.Reshape(Shape.Reduced(inputShape, a.Axes, true)).BroadcastOwned(inputShape);

    public static readonly Primitive Sum = Primitive.Linear("sum",
        (b, xs, a) => b.Reduce(ReduceOp.Sum, xs[0], R(a).Axes, R(a).KeepDim),
        (g, xs, _, a) => Unreduce(g, xs[0].ShapeRef, R(a)));

    // d prod / dx_i = prod / x_i: NaN (0/0) at an input that is exactly zero; the slice's other inputs get 0, which is
    // right when it holds one zero (README "Known limitations").
    public static readonly Primitive Prod = new("prod",
        (b, xs, a) => b.Reduce(ReduceOp.Prod, xs[0], R(a).Axes, R(a).KeepDim),
        [(dx, xs, y, a) => (dx * Unreduce(y, xs[0].ShapeRef, R(a)) / xs[0]).Sum(R(a).Axes, R(a).KeepDim)],
        [(g, xs, y, a) => Unreduce(g * y, xs[0].ShapeRef, R(a)) / xs[0]]);

    /// <summary>Where x attains the reduced max (or min), weighted so ties share equally.</summary>
    static Tensor ArgWeights(Tensor x, Tensor y, ReduceAttr a)
    {
        var hit = x.Eq(Unreduce(y, x.ShapeRef, a)).To(x.DType);
        return hit / Unreduce(hit.Sum(a.Axes, a.KeepDim), x.ShapeRef, a);
    }

    static Primitive Extremum(string name, ReduceOp op) => new(name,
        (b, xs, a) => b.Reduce(op, xs[0], R(a).Axes, R(a).KeepDim),
        [(dx, xs, y, a) => (dx * ArgWeights(xs[0], y, R(a))).Sum(R(a).Axes, R(a).KeepDim)],
        [(g, xs, y, a) => Unreduce(g, xs[0].ShapeRef, R(a)) * ArgWeights(xs[0], y, R(a))]);

    public static readonly Primitive Max = Extremum("max", ReduceOp.Max);
    public static readonly Primitive Min = Extremum("min", ReduceOp.Min);

    // argmax/argmin: Int64 indices, no derivative (primitives all the same, so tensors reach kernels through the table).
    public static readonly Primitive ArgMax = new("argmax", (b, xs, a) => b.Reduce(ReduceOp.ArgMax, xs[0], ((ReduceAttr)a!).Axes, ((ReduceAttr)a!).KeepDim), [null], [null], zeroDerivative: true);
    public static readonly Primitive ArgMin = new("argmin", (b, xs, a) => b.Reduce(ReduceOp.ArgMin, xs[0], ((ReduceAttr)a!).Axes, ((ReduceAttr)a!).KeepDim), [null], [null], zeroDerivative: true);

    public static readonly Primitive Reshape = Primitive.Linear("reshape",
        (b, xs, a) => xs[0].TryReshapeView((int[])a!) ?? b.Contiguous(xs[0]).TryReshapeView((int[])a!)!,
        (g, xs, _, _) => g.Reshape(xs[0].ShapeRef));

    public static readonly Primitive Permute = Primitive.Linear("permute",
        (_, xs, a) => xs[0].Permute((int[])a!),
        (g, _, _, a) => g.Permute(Inverse((int[])a!)));

    static int[] Inverse(int[] perm)
    {
        var inv = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inv[perm[i]] = i;
        return inv;
    }

    public static readonly Primitive Expand = Primitive.Linear("expand",
        (_, xs, a) => xs[0].Expand((int[])a!),
        (g, xs, _, _) => g.SumTo(xs[0].ShapeRef));

    public static readonly Primitive Slice = Primitive.Linear("slice",
        (_, xs, a) => { var s = (SliceAttr)a!; return xs[0].Slice(s.Axis, s.Start, s.Count, s.Step); },
        (g, xs, _, a) => { var s = (SliceAttr)a!; return Dispatch.Apply(SliceScatter!, [g], new SliceScatterAttr(xs[0].ShapeRef, s.Axis, s.Start, s.Step)); });

    public static readonly Primitive SliceScatter = Primitive.Linear("sliceScatter",
        (b, xs, a) => { var s = (SliceScatterAttr)a!; return b.SliceScatter(s.Shape, xs[0], s.Axis, s.Start, s.Step); },
        (g, xs, _, a) => { var s = (SliceScatterAttr)a!; return Dispatch.Apply(Slice, [g], new SliceAttr(s.Axis, s.Start, xs[0].ShapeRef[s.Axis], s.Step)); });

    /// <summary>Concatenation along an axis; its rules depend on the number of inputs, so one primitive per arity.</summary>
    public static Primitive Concat(int arity)
    {
        lock (concatByArity)
        {
            if (concatByArity.TryGetValue(arity, out var p)) return p;
            var jvp = new DerivativeRule?[arity]; var vjp = new DerivativeRule?[arity];
            for (int i = 0; i < arity; i++)
            {
                int k = i;
                jvp[k] = (dx, xs, y, a) => Dispatch.Apply(SliceScatter, [dx], new SliceScatterAttr(y.ShapeRef, (int)a!, OffsetOf(xs, k, (int)a!), 1));
                vjp[k] = (g, xs, _, a) => Dispatch.Apply(Slice, [g], new SliceAttr((int)a!, OffsetOf(xs, k, (int)a!), xs[k].ShapeRef[(int)a!], 1));
            }
            p = new Primitive("concat", (b, xs, a) => b.Concat(xs, (int)a!), jvp, vjp);
            concatByArity[arity] = p;
            return p;
        }
    }

    static readonly Dictionary<int, Primitive> concatByArity = [];

    static int OffsetOf(Tensor[] xs, int k, int axis)
    {
        int off = 0;
        for (int i = 0; i < k; i++) off += xs[i].ShapeRef[axis];
        return off;
    }

    public static readonly Primitive IndexSelect = Primitive.Linear("indexSelect",
        (b, xs, a) => { var s = (IndexAttr)a!; return b.IndexSelect(xs[0], s.Axis, s.Index); },
        (g, xs, _, a) => { var s = (IndexAttr)a!; return Dispatch.Apply(IndexAdd!, [g], s with { Shape = xs[0].ShapeRef }); });

    public static readonly Primitive IndexAdd = Primitive.Linear("indexAdd",
        (b, xs, a) => { var s = (IndexAttr)a!; return b.IndexAdd(s.Shape!, s.Axis, s.Index, xs[0]); },
        (g, _, _, a) => { var s = (IndexAttr)a!; return Dispatch.Apply(IndexSelect, [g], s with { Shape = null }); });

    public static readonly Primitive Cast = Primitive.Linear("cast",
        (b, xs, a) => b.Cast(xs[0], (DType)a!),
        (g, xs, _, _) => g.To(xs[0].DType));

    public static readonly Primitive ToDevice = Primitive.Linear("toDevice",
        (_, xs, a) => Transfer(xs[0], (Device)a!),
        (g, xs, _, _) => g.ToDevice(xs[0].Device));

    static RawTensor Transfer(RawTensor x, Device to) => DTypeDispatch.Any<TransferKernel, RawTensor>(x.DType, new(x, to));

    /// <summary>Copies x's elements to another device's backend (through host memory).</summary>
    readonly struct TransferKernel(RawTensor x, Device to) : IElementKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged => Backend.For(to).FromArray(Backend.For(x.Device).ToArray<T>(x), x.Shape);
    }

    // [B,m,k] x [B,k,n] -> [B,m,n], or [m,k] x [k,n] -> [m,n] (one product, no reshape nodes on the tape);
    // d(AB) = dA B + A dB; cotangents g Bᵀ and Aᵀ g.
    public static readonly Primitive BatchMatMul = new("matmul",
        (b, xs, _) => xs[0].Rank == 3 ? b.MatMul(xs[0], xs[1]) : Unbatch(b.MatMul(AsBatch(xs[0]), AsBatch(xs[1]))),
        [(dx, xs, _, _) => dx.MatMul(xs[1]), (dx, xs, _, _) => xs[0].MatMul(dx)],
        [(g, xs, _, _) => ColumnMajor(xs[0]) ? xs[1].MatMul(g.Transpose(-1, -2)).Transpose(-1, -2) : g.MatMul(xs[1].Transpose(-1, -2)),
         (g, xs, _, _) => ColumnMajor(xs[1]) ? g.Transpose(-1, -2).MatMul(xs[0]).Transpose(-1, -2) : xs[0].Transpose(-1, -2).MatMul(g)]);

    /// <summary>A matrix as a batch of one: the same view with a leading size-1 dimension (its stride is never used).</summary>
    static RawTensor AsBatch(RawTensor x) => new(x.Storage, [1, x.Shape[0], x.Shape[1]], [0, x.Strides[0], x.Strides[1]], x.Offset);

    /// <summary>The one product of a [1, m, n] result, as a matrix (the same view without the batch dimension).</summary>
    static RawTensor Unbatch(RawTensor r) => new(r.Storage, [r.Shape[1], r.Shape[2]], [r.Strides[1], r.Strides[2]], r.Offset);

    /// <summary>
    /// True when the matrices of x are stored column by column (x is a transposed view, like Wᵀ in x·Wᵀ). Its
    /// cotangent is then computed as the transpose of the transposed product, so it comes out in x's layout and the
    /// transpose's own vjp hands the parameter a contiguous gradient instead of a strided view that every later
    /// elementwise op (an optimizer step) would have to copy.
    /// </summary>
    static bool ColumnMajor(Tensor x)
    {
        var v = x.Value;
        int r = v.Rank;
        return r >= 2 && v.Shape[r - 1] > 1 && v.Shape[r - 2] > 1 && v.Strides[r - 2] == 1 && v.Strides[r - 1] != 1;
    }
}
