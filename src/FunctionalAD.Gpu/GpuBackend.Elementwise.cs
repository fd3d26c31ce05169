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
            return dtype switch
            {
                DType.Float32 => FullOf<float, Float32Ops>(shape, dtype, value),
                DType.Float64 => FullOf<double, Float64Ops>(shape, dtype, value),
                DType.Int32 => FullOf<int, Int32Ops>(shape, dtype, value),
                DType.Int64 => FullOf<long, Int64Ops>(shape, dtype, value),
                _ => FullOf<byte, BoolOps>(shape, dtype, value),
            };
        }
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
            return x.DType switch
            {
                DType.Float32 => GatherOf<float>(x),
                DType.Float64 => GatherOf<double>(x),
                DType.Int32 => GatherOf<int>(x),
                DType.Int64 => GatherOf<long>(x),
                _ => GatherOf<byte>(x),
            };
        }
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
            return x.DType switch
            {
                DType.Float32 => UnaryOf<float, Float32Ops, TOp>(x),
                DType.Float64 => UnaryOf<double, Float64Ops, TOp>(x),
                DType.Int32 when OpTraits<TOp>.AcceptsIntegers => UnaryOf<int, GpuIntegerMath<int, Int32Ops>, TOp>(x),
                DType.Int64 when OpTraits<TOp>.AcceptsIntegers => UnaryOf<long, GpuIntegerMath<long, Int64Ops>, TOp>(x),
                _ => throw OpTraits.Refused(name, x.DType, OpTraits<TOp>.AcceptsIntegers),
            };
        }
    }

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
            result = x.DType == DType.Float32 ? DerivativeOf<float, Float32Ops, TOp>(g, x, y) : DerivativeOf<double, Float64Ops, TOp>(g, x, y);
            return true;
        }
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
            return a.DType switch
            {
                DType.Float32 => BinaryOf<float, Float32Ops, TOp>(a, b),
                DType.Float64 => BinaryOf<double, Float64Ops, TOp>(a, b),
                DType.Int32 when OpTraits<TOp>.AcceptsIntegers => BinaryOf<int, GpuIntegerMath<int, Int32Ops>, TOp>(a, b),
                DType.Int64 when OpTraits<TOp>.AcceptsIntegers => BinaryOf<long, GpuIntegerMath<long, Int64Ops>, TOp>(a, b),
                _ => throw OpTraits.Refused(name, a.DType, OpTraits<TOp>.AcceptsIntegers),
            };
        }
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
            return a.DType switch
            {
                DType.Float32 => CompareOf<float, Float32Ops>(op, a, b),
                DType.Float64 => CompareOf<double, Float64Ops>(op, a, b),
                DType.Int32 => CompareOf<int, Int32Ops>(op, a, b),
                DType.Int64 => CompareOf<long, Int64Ops>(op, a, b),
                _ => CompareOf<byte, BoolOps>(op, a, b),
            };
        }
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
            return a.DType switch
            {
                DType.Float32 => WhereOf<float>(cond, a, b),
                DType.Float64 => WhereOf<double>(cond, a, b),
                DType.Int32 => WhereOf<int>(cond, a, b),
                DType.Int64 => WhereOf<long>(cond, a, b),
                _ => WhereOf<byte>(cond, a, b),
            };
        }
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
            return x.DType switch
            {
                DType.Float32 => CastFrom<float, Float32Ops>(x, dtype, false),
                DType.Float64 => CastFrom<double, Float64Ops>(x, dtype, false),
                DType.Int32 => CastFrom<int, Int32Ops>(x, dtype, true),
                DType.Int64 => CastFrom<long, Int64Ops>(x, dtype, true),
                _ => CastFrom<byte, BoolOps>(x, dtype, true),
            };
        }
    }

    RawTensor CastFrom<TFrom, TFromOps>(RawTensor x, DType dtype, bool fromInteger) where TFrom : unmanaged where TFromOps : struct, IElementOps<TFrom> => dtype switch
    {
        DType.Float32 => CastTo<TFrom, TFromOps, float, Float32Ops>(x, dtype, fromInteger),
        DType.Float64 => CastTo<TFrom, TFromOps, double, Float64Ops>(x, dtype, fromInteger),
        DType.Int32 => CastTo<TFrom, TFromOps, int, Int32Ops>(x, dtype, fromInteger),
        DType.Int64 => CastTo<TFrom, TFromOps, long, Int64Ops>(x, dtype, fromInteger),
        _ => CastTo<TFrom, TFromOps, byte, BoolOps>(x, dtype, fromInteger),
    };

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
