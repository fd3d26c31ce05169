using System.Diagnostics.CodeAnalysis;
using FunctionalAD.Backends;
using FunctionalAD.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace FunctionalAD.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public RawTensor Full(int[] shape, DType dtype, double value)
    {
        lock (gate)
        {
            Enter();
            return GpuDTypeDispatch.Any<FullKernel, RawTensor>(dtype, new(this, shape, dtype, value));
        }
    }

    readonly struct FullKernel(GpuBackend b, int[] shape, DType dtype, double value) : IGpuElementKernel<RawTensor>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => b.FullOf<T, TOps>(shape, dtype, value);
    }

    RawTensor FullOf<T, TOps>(int[] shape, DType dtype, double value) where T : unmanaged where TOps : struct, IElementOps<T>
    {
        int n = Shape.Numel(shape);
        var s = Allocate<T>(n, dtype);
        var v = default(TOps).FromDouble(value);
        if (n > 0)
        {
            if (default(TOps).IsZero(v) && !default(TOps).IsNaN(v)) s.View("full").MemSetToZero(accelerator.DefaultStream);
            else Kernel("fill", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, T>(Kernels.Fill))(n, s.View("full"), v);
        }
        return new RawTensor(s, shape);
    }

    /// <inheritdoc/>
    public RawTensor Contiguous(RawTensor x)
    {
        if (x.IsContiguous) return x;
        lock (gate)
        {
            Enter();
            CheckDevice("contiguous", x);
            return GpuDTypeDispatch.Any<GatherKernel, RawTensor>(x.DType, new(this, x));
        }
    }

    readonly struct GatherKernel(GpuBackend b, RawTensor x) : IGpuElementKernel<RawTensor>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => b.GatherOf<T>(x);
    }

    RawTensor GatherOf<T>(RawTensor x) where T : unmanaged
    {
        var y = Allocate<T>(x.Numel, x.DType);
        if (x.Numel > 0)
            Kernel("gather", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>>(Kernels.Gather))
                (x.Numel, View<T>(x, "contiguous"), StridedLayout.Of("contiguous", x), y.View("contiguous"));
        return new RawTensor(y, x.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Unary<TOp>(RawTensor x) where TOp : struct, IUnaryOp
    {
        string name = OpTraits<TOp>.Name;
        lock (gate)
        {
            Enter();
            CheckDevice(name, x);
            return GpuDTypeDispatch.Visit<UnaryKernel<TOp>, RawTensor>(x.DType, new(this, x));
        }
    }

    /// <summary>Floats in their own XMath, integers in <see cref="GpuIntegerMath{T, TOps}"/> where the op accepts them; the rest refused.</summary>
    readonly struct UnaryKernel<TOp>(GpuBackend b, RawTensor x) : IGpuDTypeVisitor<RawTensor> where TOp : struct, IUnaryOp
    {
        public RawTensor Floating<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>, IElementMath<T> => b.UnaryOf<T, TOps, TOp>(x);
        public RawTensor Integer<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> =>
            OpTraits<TOp>.AcceptsIntegers ? b.UnaryOf<T, GpuIntegerMath<T, TOps>, TOp>(x) : throw Refused<TOp>(x.DType);
        public RawTensor Bool() => throw Refused<TOp>(x.DType);
    }

    static DTypeMismatchException Refused<TOp>(DType dtype) where TOp : struct => OpTraits.Refused(OpTraits<TOp>.Name, dtype, OpTraits<TOp>.AcceptsIntegers);

    RawTensor UnaryOf<T, TMath, TOp>(RawTensor x) where T : unmanaged where TMath : struct, IElementMath<T> where TOp : struct, IUnaryOp
    {
        var y = Allocate<T>(x.Numel, x.DType);
        if (x.Numel > 0)
            Kernel<TOp, Action<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>>>("unary", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>>(Kernels.Unary<T, TMath, TOp>))
                (x.Numel, View<T>(x, "unary"), StridedLayout.Of("unary", x), y.View("unary"));
        return new RawTensor(y, x.Shape);
    }

    /// <inheritdoc/>
    public bool TryUnaryDerivative<TOp>(RawTensor g, RawTensor x, RawTensor y, [NotNullWhen(true)] out RawTensor? result) where TOp : struct, IUnaryOp
    {
        result = null;
        if (OpTraits<TOp>.ZeroDerivative || !x.DType.IsFloatingPoint()) return false;
        lock (gate)
        {
            Enter();
            string name = OpTraits<TOp>.Name;
            CheckDevice(name, g); CheckDevice(name, x); CheckDevice(name, y);
            result = GpuDTypeDispatch.Visit<DerivativeKernel<TOp>, RawTensor?>(x.DType, new(this, g, x, y));
            return result is not null;
        }
    }

    /// <summary>The fused kernel on floats; none (null) on integers, which the caller has already turned away.</summary>
    readonly struct DerivativeKernel<TOp>(GpuBackend b, RawTensor g, RawTensor x, RawTensor y) : IGpuDTypeVisitor<RawTensor?> where TOp : struct, IUnaryOp
    {
        public RawTensor? Floating<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>, IElementMath<T> => b.DerivativeOf<T, TOps, TOp>(g, x, y);
        public RawTensor? Integer<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => null;
        public RawTensor? Bool() => null;
    }

    RawTensor DerivativeOf<T, TMath, TOp>(RawTensor g, RawTensor x, RawTensor y) where T : unmanaged where TMath : struct, IElementMath<T> where TOp : struct, IUnaryOp
    {
        var r = Allocate<T>(x.Numel, x.DType);
        if (x.Numel > 0)
            Kernel<TOp, Action<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>>>("derivative",
                static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>>(Kernels.UnaryDerivative<T, TMath, TOp>))
                (x.Numel, View<T>(g, "derivative"), StridedLayout.Of("derivative", g), View<T>(x, "derivative"), StridedLayout.Of("derivative", x),
                 View<T>(y, "derivative"), StridedLayout.Of("derivative", y), r.View("derivative"));
        return new RawTensor(r, x.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Binary<TOp>(RawTensor a, RawTensor b) where TOp : struct, IBinaryOp
    {
        string name = OpTraits<TOp>.Name;
        lock (gate)
        {
            Enter();
            CheckDevice(name, a); CheckDevice(name, b);
            return GpuDTypeDispatch.Visit<BinaryKernel<TOp>, RawTensor>(a.DType, new(this, a, b));
        }
    }

    readonly struct BinaryKernel<TOp>(GpuBackend g, RawTensor a, RawTensor b) : IGpuDTypeVisitor<RawTensor> where TOp : struct, IBinaryOp
    {
        public RawTensor Floating<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>, IElementMath<T> => g.BinaryOf<T, TOps, TOp>(a, b);
        public RawTensor Integer<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> =>
            OpTraits<TOp>.AcceptsIntegers ? g.BinaryOf<T, GpuIntegerMath<T, TOps>, TOp>(a, b) : throw Refused<TOp>(a.DType);
        public RawTensor Bool() => throw Refused<TOp>(a.DType);
    }

    RawTensor BinaryOf<T, TMath, TOp>(RawTensor a, RawTensor b) where T : unmanaged where TMath : struct, IElementMath<T> where TOp : struct, IBinaryOp
    {
        var y = Allocate<T>(a.Numel, a.DType);
        if (a.Numel > 0)
            Kernel<TOp, Action<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>>>("binary",
                static c => c.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>>(Kernels.Binary<T, TMath, TOp>))
                (a.Numel, View<T>(a, "binary"), StridedLayout.Of("binary", a), View<T>(b, "binary"), StridedLayout.Of("binary", b), y.View("binary"));
        return new RawTensor(y, a.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Compare(CompareOp op, RawTensor a, RawTensor b)
    {
        lock (gate)
        {
            Enter();
            string name = op.ToString().ToLowerInvariant();
            CheckDevice(name, a); CheckDevice(name, b);
            return GpuDTypeDispatch.Any<CompareKernel, RawTensor>(a.DType, new(this, op, a, b));
        }
    }

    readonly struct CompareKernel(GpuBackend g, CompareOp op, RawTensor a, RawTensor b) : IGpuElementKernel<RawTensor>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => g.CompareOf<T, TOps>(op, a, b);
    }

    RawTensor CompareOf<T, TOps>(CompareOp op, RawTensor a, RawTensor b) where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var y = Allocate<byte>(a.Numel, DType.Bool);
        if (a.Numel > 0)
            Kernel("compare", static c => c.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<byte>, int>(Kernels.Compare<T, TOps>))
                (a.Numel, View<T>(a, "compare"), StridedLayout.Of("compare", a), View<T>(b, "compare"), StridedLayout.Of("compare", b), y.View("compare"), (int)op);
        return new RawTensor(y, a.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Where(RawTensor cond, RawTensor a, RawTensor b)
    {
        lock (gate)
        {
            Enter();
            CheckDevice("where", cond); CheckDevice("where", a); CheckDevice("where", b);
            return GpuDTypeDispatch.Any<WhereKernel, RawTensor>(a.DType, new(this, cond, a, b));
        }
    }

    readonly struct WhereKernel(GpuBackend g, RawTensor cond, RawTensor a, RawTensor b) : IGpuElementKernel<RawTensor>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => g.WhereOf<T>(cond, a, b);
    }

    RawTensor WhereOf<T>(RawTensor cond, RawTensor a, RawTensor b) where T : unmanaged
    {
        var y = Allocate<T>(a.Numel, a.DType);
        if (a.Numel > 0)
            Kernel("where", static c => c.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>>(Kernels.Where))
                (a.Numel, View<byte>(cond, "where"), StridedLayout.Of("where", cond), View<T>(a, "where"), StridedLayout.Of("where", a),
                 View<T>(b, "where"), StridedLayout.Of("where", b), y.View("where"));
        return new RawTensor(y, a.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Cast(RawTensor x, DType dtype)
    {
        if (x.DType == dtype) return x;
        lock (gate)
        {
            Enter();
            CheckDevice("cast", x);
            return GpuDTypeDispatch.Any<CastKernel, RawTensor>(x.DType, new(this, x, dtype));
        }
    }

    /// <summary>Casts from the dtype it runs for to <paramref name="dtype"/>: integers and Bool convert through long, floats through double.</summary>
    readonly struct CastKernel(GpuBackend b, RawTensor x, DType dtype) : IGpuElementKernel<RawTensor>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> =>
            GpuDTypeDispatch.Any<CastToKernel<T, TOps>, RawTensor>(dtype, new(b, x, dtype, !x.DType.IsFloatingPoint()));
    }

    readonly struct CastToKernel<TFrom, TFromOps>(GpuBackend b, RawTensor x, DType dtype, bool fromInteger) : IGpuElementKernel<RawTensor>
        where TFrom : unmanaged where TFromOps : struct, IElementOps<TFrom>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => b.CastTo<TFrom, TFromOps, T, TOps>(x, dtype, fromInteger);
    }

    RawTensor CastTo<TFrom, TFromOps, TTo, TToOps>(RawTensor x, DType dtype, bool fromInteger)
        where TFrom : unmanaged where TFromOps : struct, IElementOps<TFrom> where TTo : unmanaged where TToOps : struct, IElementOps<TTo>
    {
        var y = Allocate<TTo>(x.Numel, dtype);
        if (x.Numel > 0)
            Kernel("cast", static c => c.LoadAutoGroupedStreamKernel<Index1D, ArrayView<TFrom>, StridedLayout, ArrayView<TTo>, int>(Kernels.Cast<TFrom, TFromOps, TTo, TToOps>))
                (x.Numel, View<TFrom>(x, "cast"), StridedLayout.Of("cast", x), y.View("cast"), fromInteger ? 1 : 0);
        return new RawTensor(y, x.Shape);
    }
}
