using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Numerics.Tensors;
using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public bool TryUnaryDerivative<TOp>(RawTensor g, RawTensor x, RawTensor y, [NotNullWhen(true)] out RawTensor? result) where TOp : struct, IUnaryOp
    {
        result = OpTraits<TOp>.ZeroDerivative ? null : DTypeDispatch.Floating<DerivativeKernel<TOp>, RawTensor?>(x.DType, new(g, x, y));
        return result is not null;
    }

    /// <summary>The fused kernel on floats; none (null) on integers.</summary>
    readonly struct DerivativeKernel<TOp>(RawTensor g, RawTensor x, RawTensor y) : IFloatingKernel<RawTensor?> where TOp : struct, IUnaryOp
    {
        public RawTensor? Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => DerivativeOf<T, TOp>(g, x, y);
        public RawTensor? NotFloating() => null;
    }

    static RawTensor DerivativeOf<T, TOp>(RawTensor g, RawTensor x, RawTensor y) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp
    {
        Block<T> gs = Source<T>(g), xs = Source<T>(x), ys = Source<T>(y);
        var r = Uninit<T>(x.Numel);
        if (r.Length == 1)
        {
            var m = default(ScalarMath<T>);
            r[0] = First(gs) * default(TOp).Derivative(m, First(xs), First(ys));
        }
        else if (Parallelism.ShouldSplit(r.Length)) DerivativeParallel<T, TOp>(gs, xs, ys, r);
        else DerivativeRange<T, TOp>(gs, xs, ys, r, 0, r.Length);
        Release(g, gs.Array); Release(x, xs.Array); Release(y, ys.Array);
        return Wrap(r, x.Shape);
    }

    // Kept apart so the closure is only allocated when the work is split (not for every 0-D derivative).
    static void DerivativeParallel<T, TOp>(Block<T> g, Block<T> x, Block<T> y, T[] r) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp =>
        Parallelism.For(r.Length, Parallelism.Grain, (s, n) => DerivativeRange<T, TOp>(g, x, y, r, s, n));

    /// <summary>r[start .. start+n) = g·f'(x) block by block: f'(x) is evaluated over the block in L1 and multiplied
    /// by g in place (the op's one derivative formula, over <see cref="BlockMath{T}"/>).</summary>
    static void DerivativeRange<T, TOp>(Block<T> g, Block<T> x, Block<T> y, T[] r, int start, int n) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp
    {
        var arena = BlockArena<T>.ForThread();
        var m = new BlockMath<T>(arena);
        for (int s = start; s < start + n; s += BlockArena<T>.MaxLength)
        {
            arena.Begin(r, s, Math.Min(BlockArena<T>.MaxLength, start + n - s));
            var d = default(TOp).Derivative(m, At(x, s), At(y, s));
            var gb = At(g, s);
            if (!arena.IsDestination(d)) { arena.Store(m.Mul(gb, d)); continue; }
            var dst = arena.Span(d);
            if (gb.IsScalar) TensorPrimitives.Multiply(dst, gb.Value, dst);
            else TensorPrimitives.Multiply(dst, arena.Span(gb), dst);
        }
    }

    /// <inheritdoc/>
    public bool TryAddInPlace(RawTensor target, RawTensor x) =>
        target.IsContiguous && x.DType == target.DType && x.Shape.AsSpan().SequenceEqual(target.Shape)
        && DTypeDispatch.Floating<AddInPlaceKernel, bool>(target.DType, new(target, x));

    /// <summary>
    /// a + alpha·b in one pass (TensorPrimitives.MultiplyAdd, split over threads for large tensors): an optimizer's
    /// update p - lr·g read and written once instead of through the intermediate lr·g. Floating point only.
    /// </summary>
    public bool TryAddScaled(RawTensor a, RawTensor b, double alpha, out RawTensor? result)
    {
        result = a.DType == b.DType && a.Shape.AsSpan().SequenceEqual(b.Shape)
            ? DTypeDispatch.Floating<AddScaledKernel, RawTensor?>(a.DType, new(a, b, alpha))
            : null;
        return result is not null;
    }

    readonly struct AddScaledKernel(RawTensor a, RawTensor b, double alpha) : IFloatingKernel<RawTensor?>
    {
        public RawTensor? Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => AddScaled(a, b, T.CreateChecked(alpha));
        public RawTensor? NotFloating() => null;
    }

    static RawTensor AddScaled<T>(RawTensor a, RawTensor b, T alpha) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = a.Numel;
        var (aa, ao) = Read<T>(a);
        var (ba, bo) = Read<T>(b);
        var r = Uninit<T>(n);
        if (Parallelism.ShouldSplit(n))
            Parallelism.For(n, Parallelism.Grain, (s, len) => TensorPrimitives.MultiplyAdd<T>(ba.AsSpan(bo + s, len), alpha, aa.AsSpan(ao + s, len), r.AsSpan(s, len)));
        else TensorPrimitives.MultiplyAdd<T>(ba.AsSpan(bo, n), alpha, aa.AsSpan(ao, n), r.AsSpan(0, n));
        Release(a, aa);
        Release(b, ba);
        return Wrap(r, a.Shape);
    }

    /// <summary>Adds in place on floats (true); integers are not accumulated in place (false).</summary>
    readonly struct AddInPlaceKernel(RawTensor target, RawTensor x) : IFloatingKernel<bool>
    {
        public bool Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> { AddInPlace<T>(target, x); return true; }
        public bool NotFloating() => false;
    }

    static void AddInPlace<T>(RawTensor target, RawTensor x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Data<T>(target);
        int to = target.Offset, n = target.Numel;
        if (IsScalarLike(x))
        {
            T s = Data<T>(x)[x.Offset];
            if (Parallelism.ShouldSplit(n)) AddParallel(t, to, n, s);
            else TensorPrimitives.Add(t.AsSpan(to, n), s, t.AsSpan(to, n));
            return;
        }
        var (xa, xo) = Read<T>(x);
        if (Parallelism.ShouldSplit(n)) AddParallel(t, to, n, xa, xo);
        else TensorPrimitives.Add(t.AsSpan(to, n), xa.AsSpan(xo, n), t.AsSpan(to, n));
    }

    // Kept apart so their closures are only allocated when the work is split.
    static void AddParallel<T>(T[] t, int to, int n, T s) where T : unmanaged, IFloatingPointIeee754<T> =>
        Parallelism.For(n, Parallelism.Grain, (st, len) => TensorPrimitives.Add(t.AsSpan(to + st, len), s, t.AsSpan(to + st, len)));

    static void AddParallel<T>(T[] t, int to, int n, T[] xa, int xo) where T : unmanaged, IFloatingPointIeee754<T> =>
        Parallelism.For(n, Parallelism.Grain, (st, len) => TensorPrimitives.Add(t.AsSpan(to + st, len), xa.AsSpan(xo + st, len), t.AsSpan(to + st, len)));
}
