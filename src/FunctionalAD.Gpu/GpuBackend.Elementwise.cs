using FunctionalAD.Backends;
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
    public RawTensor Unary(UnaryOp op, RawTensor x)
    {
        string name = op.ToString().ToLowerInvariant();
        lock (gate)
        {
            Enter();
            CheckDevice(name, x);
            bool integerOk = op is UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Sign;
            return x.DType switch
            {
                DType.Float32 => UnaryOf<float, Float32Ops>(op, x),
                DType.Float64 => UnaryOf<double, Float64Ops>(op, x),
                DType.Int32 when integerOk => UnaryOf<int, Int32Ops>(op, x),
                DType.Int64 when integerOk => UnaryOf<long, Int64Ops>(op, x),
                DType.Bool => throw new DTypeMismatchException(name, "Bool tensors have no arithmetic"),
                _ => throw new DTypeMismatchException(name, $"expected a floating-point tensor, got {x.DType}"),
            };
        }
    }

    RawTensor UnaryOf<T, TOps>(UnaryOp op, RawTensor x) where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var y = Allocate<T>(x.Numel, x.DType);
        if (x.Numel > 0)
            Kernel("unary", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, int>(Kernels.Unary<T, TOps>))
                (x.Numel, View<T>(x, "unary"), StridedLayout.Of("unary", x), y.View("unary"), (int)op);
        return new RawTensor(y, x.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Binary(BinaryOp op, RawTensor a, RawTensor b)
    {
        string name = op.ToString().ToLowerInvariant();
        lock (gate)
        {
            Enter();
            CheckDevice(name, a); CheckDevice(name, b);
            bool integerOk = op is not (BinaryOp.Pow or BinaryOp.Atan2);
            return a.DType switch
            {
                DType.Float32 => BinaryOf<float, Float32Ops>(op, a, b),
                DType.Float64 => BinaryOf<double, Float64Ops>(op, a, b),
                DType.Int32 when integerOk => BinaryOf<int, Int32Ops>(op, a, b),
                DType.Int64 when integerOk => BinaryOf<long, Int64Ops>(op, a, b),
                DType.Bool => throw new DTypeMismatchException(name, "Bool tensors have no arithmetic"),
                _ => throw new DTypeMismatchException(name, $"expected floating-point tensors, got {a.DType}"),
            };
        }
    }

    RawTensor BinaryOf<T, TOps>(BinaryOp op, RawTensor a, RawTensor b) where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var y = Allocate<T>(a.Numel, a.DType);
        if (a.Numel == 0) return new RawTensor(y, a.Shape);
        var (va, la, vb, lb) = (View<T>(a, "binary"), StridedLayout.Of("binary", a), View<T>(b, "binary"), StridedLayout.Of("binary", b));
        if (op == BinaryOp.Div && !a.DType.IsFloatingPoint())
        {
            using var flag = accelerator.Allocate1D<int>(1);
            flag.MemSetToZero(accelerator.DefaultStream);
            Kernel("intdiv", static c => c.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>, ArrayView<int>>(Kernels.IntegerDivide<T, TOps>))
                (a.Numel, va, la, vb, lb, y.View("div"), flag.View);
            var zero = new int[1];
            flag.View.CopyToCPU(accelerator.DefaultStream, zero);
            accelerator.DefaultStream.Synchronize();
            if (zero[0] != 0) { y.Dispose(); throw new DivideByZeroException("div: integer division by zero"); }
        }
        else
            Kernel("binary", static c => c.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, StridedLayout, ArrayView<T>, int>(Kernels.Binary<T, TOps>))
                (a.Numel, va, la, vb, lb, y.View("binary"), (int)op);
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
