using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public RawTensor Unary(UnaryOp op, RawTensor x) => x.DType switch
    {
        DType.Float32 => UnaryOf<float>(op, x),
        DType.Float64 => UnaryOf<double>(op, x),
        DType.Int32 => UnaryInteger<int>(op, x),
        DType.Int64 => UnaryInteger<long>(op, x),
        _ => throw new DTypeMismatchException(op.ToString().ToLowerInvariant(), "Bool tensors have no arithmetic"),
    };

    static RawTensor UnaryOf<T>(UnaryOp op, RawTensor x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, off) = Read<T>(x);
        var r = Uninit<T>(x.Numel);
        if (Parallelism.ShouldSplit(r.Length)) UnaryParallel(op, a, off, r);
        else UnarySpan<T>(op, a.AsSpan(off, r.Length), r);
        return Wrap(r, x.Shape);
    }

    // Kept apart so the closure is only allocated when the work is split.
    static void UnaryParallel<T>(UnaryOp op, T[] a, int off, T[] r) where T : unmanaged, IFloatingPointIeee754<T> =>
        Parallelism.For(r.Length, Parallelism.Grain, (s, n) => UnarySpan<T>(op, a.AsSpan(off + s, n), r.AsSpan(s, n)));

    static void BinaryParallel<T>(BinaryOp op, T[] x, int xo, T[] y, int yo, T[] r) where T : unmanaged, IFloatingPointIeee754<T> =>
        Parallelism.For(r.Length, Parallelism.Grain, (st, n) => BinarySpan(op, x.AsSpan(xo + st, n), y.AsSpan(yo + st, n), r.AsSpan(st, n)));

    static void ScalarRightParallel<T>(BinaryOp op, T[] x, int xo, T s, T[] r) where T : unmanaged, IFloatingPointIeee754<T> =>
        Parallelism.For(r.Length, Parallelism.Grain, (st, n) => BinaryScalarRight(op, x.AsSpan(xo + st, n), s, r.AsSpan(st, n)));

    static void ScalarLeftParallel<T>(BinaryOp op, T s, T[] y, int yo, T[] r) where T : unmanaged, IFloatingPointIeee754<T> =>
        Parallelism.For(r.Length, Parallelism.Grain, (st, n) => BinaryScalarLeft(op, s, y.AsSpan(yo + st, n), r.AsSpan(st, n)));

    static void UnarySpan<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Sign: for (int i = 0; i < x.Length; i++) y[i] = T.IsNaN(x[i]) ? x[i] : T.CreateTruncating(T.Sign(x[i])); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Log1p: TensorPrimitives.LogP1(x, y); break;
            case UnaryOp.Expm1: TensorPrimitives.ExpM1(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, y); break;
            case UnaryOp.Sin: TensorPrimitives.Sin(x, y); break;
            case UnaryOp.Cos: TensorPrimitives.Cos(x, y); break;
            case UnaryOp.Tan: TensorPrimitives.Tan(x, y); break;
            case UnaryOp.Asin: TensorPrimitives.Asin(x, y); break;
            case UnaryOp.Acos: TensorPrimitives.Acos(x, y); break;
            case UnaryOp.Atan: TensorPrimitives.Atan(x, y); break;
            case UnaryOp.Sinh: TensorPrimitives.Sinh(x, y); break;
            case UnaryOp.Cosh: TensorPrimitives.Cosh(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Relu: TensorPrimitives.Max(x, T.Zero, y); break;
            case UnaryOp.Softplus:
                // softplus(x) = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|
                TensorPrimitives.Abs(x, y);
                TensorPrimitives.Negate(y, y);
                TensorPrimitives.Exp(y, y);
                TensorPrimitives.LogP1(y, y);
                for (int i = 0; i < x.Length; i++) if (x[i] > T.Zero) y[i] += x[i];
                break;
            case UnaryOp.Floor: TensorPrimitives.Floor(x, y); break;
            case UnaryOp.Ceil: TensorPrimitives.Ceiling(x, y); break;
            case UnaryOp.Round: TensorPrimitives.Round(x, y); break;
            default: throw new InvalidOperationException($"unary op {op} has no kernel");
        }
    }

    static RawTensor UnaryInteger<T>(UnaryOp op, RawTensor x) where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
    {
        var (a, off) = Read<T>(x);
        var r = Uninit<T>(x.Numel);
        var src = a.AsSpan(off, r.Length);
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(src, r); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(src, r); break;
            case UnaryOp.Sign: for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating(T.Sign(src[i])); break;
            default: throw new DTypeMismatchException(op.ToString().ToLowerInvariant(), $"expected a floating-point tensor, got {x.DType}");
        }
        return Wrap(r, x.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Binary(BinaryOp op, RawTensor a, RawTensor b) => a.DType switch
    {
        DType.Float32 => BinaryOf<float>(op, a, b),
        DType.Float64 => BinaryOf<double>(op, a, b),
        DType.Int32 => BinaryInteger<int>(op, a, b),
        DType.Int64 => BinaryInteger<long>(op, a, b),
        _ => throw new DTypeMismatchException(op.ToString().ToLowerInvariant(), "Bool tensors have no arithmetic"),
    };

    static RawTensor BinaryOf<T>(BinaryOp op, RawTensor a, RawTensor b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = Uninit<T>(a.Numel);
        // A broadcast scalar operand uses TensorPrimitives' scalar overloads instead of a materialised copy.
        if (IsScalarLike(b) && r.Length > 1 && op != BinaryOp.Atan2)
        {
            var (x, xo) = Read<T>(a); var s = Data<T>(b)[b.Offset];
            if (Parallelism.ShouldSplit(r.Length)) ScalarRightParallel(op, x, xo, s, r);
            else BinaryScalarRight(op, x.AsSpan(xo, r.Length), s, r);
        }
        else if (IsScalarLike(a) && r.Length > 1 && op is BinaryOp.Sub or BinaryOp.Div or BinaryOp.Pow or BinaryOp.Add or BinaryOp.Mul)
        {
            var (y, yo) = Read<T>(b); var s = Data<T>(a)[a.Offset];
            if (Parallelism.ShouldSplit(r.Length)) ScalarLeftParallel(op, s, y, yo, r);
            else BinaryScalarLeft(op, s, y.AsSpan(yo, r.Length), r);
        }
        else
        {
            var (x, xo) = Read<T>(a); var (y, yo) = Read<T>(b);
            if (Parallelism.ShouldSplit(r.Length)) BinaryParallel(op, x, xo, y, yo, r);
            else BinarySpan(op, x.AsSpan(xo, r.Length), y.AsSpan(yo, r.Length), r);
        }
        return Wrap(r, a.Shape);
    }

    /// <summary>One element, or one element broadcast everywhere (stride zero on every dimension longer than 1).</summary>
    static bool IsScalarLike(RawTensor t)
    {
        if (t.Numel == 1) return true;
        for (int i = 0; i < t.Rank; i++) if (t.Shape[i] != 1 && t.Strides[i] != 0) return false;
        return true;
    }

    static void BinarySpan<T>(BinaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, r); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, r); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(x, y, r); break;
            case BinaryOp.Div: TensorPrimitives.Divide(x, y, r); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(x, y, r); break;
            case BinaryOp.Atan2: TensorPrimitives.Atan2(x, y, r); break;
            case BinaryOp.Max: TensorPrimitives.Max(x, y, r); break;
            case BinaryOp.Min: TensorPrimitives.Min(x, y, r); break;
            default: throw new InvalidOperationException($"binary op {op} has no kernel"); // results are not zeroed
        }
    }

    static void BinaryScalarRight<T>(BinaryOp op, ReadOnlySpan<T> x, T y, Span<T> r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, r); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, r); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(x, y, r); break;
            case BinaryOp.Div: TensorPrimitives.Divide(x, y, r); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(x, y, r); break;
            case BinaryOp.Max: TensorPrimitives.Max(x, y, r); break;
            case BinaryOp.Min: TensorPrimitives.Min(x, y, r); break;
            default: throw new InvalidOperationException($"binary op {op} has no kernel"); // results are not zeroed
        }
    }

    static void BinaryScalarLeft<T>(BinaryOp op, T x, ReadOnlySpan<T> y, Span<T> r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(y, x, r); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(y, x, r); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, r); break;
            case BinaryOp.Div: TensorPrimitives.Divide(x, y, r); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(x, y, r); break;
            default: throw new InvalidOperationException($"binary op {op} has no kernel for a scalar left operand");
        }
    }

    static RawTensor BinaryInteger<T>(BinaryOp op, RawTensor a, RawTensor b) where T : unmanaged, IBinaryInteger<T>
    {
        var (x, xo) = Read<T>(a); var (y, yo) = Read<T>(b);
        var r = Uninit<T>(a.Numel);
        var xs = x.AsSpan(xo, r.Length); var ys = y.AsSpan(yo, r.Length);
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(xs, ys, r); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(xs, ys, r); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(xs, ys, r); break;
            case BinaryOp.Max: TensorPrimitives.Max(xs, ys, r); break;
            case BinaryOp.Min: TensorPrimitives.Min(xs, ys, r); break;
            case BinaryOp.Div:
                for (int i = 0; i < r.Length; i++)
                {
                    if (T.IsZero(ys[i])) throw new DivideByZeroException("div: integer division by zero");
                    r[i] = xs[i] / ys[i];
                }
                break;
            default: throw new DTypeMismatchException(op.ToString().ToLowerInvariant(), $"expected floating-point tensors, got {a.DType}");
        }
        return Wrap(r, a.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Compare(CompareOp op, RawTensor a, RawTensor b) => a.DType switch
    {
        DType.Float32 => CompareOf<float>(op, a, b),
        DType.Float64 => CompareOf<double>(op, a, b),
        DType.Int32 => CompareOf<int>(op, a, b),
        DType.Int64 => CompareOf<long>(op, a, b),
        _ => CompareBool(op, a, b),
    };

    static RawTensor CompareOf<T>(CompareOp op, RawTensor a, RawTensor b) where T : INumber<T>
    {
        var (x, xo) = Read<T>(a); var (y, yo) = Read<T>(b);
        var r = Uninit<bool>(a.Numel);
        for (int i = 0; i < r.Length; i++)
        {
            T p = x[xo + i], q = y[yo + i];
            r[i] = op switch
            {
                CompareOp.Eq => p == q,
                CompareOp.Ne => p != q,
                CompareOp.Lt => p < q,
                CompareOp.Le => p <= q,
                CompareOp.Gt => p > q,
                _ => p >= q,
            };
        }
        return Wrap(r, a.Shape);
    }

    static RawTensor CompareBool(CompareOp op, RawTensor a, RawTensor b) =>
        CompareOf<int>(op, Instance.Cast(a, DType.Int32), Instance.Cast(b, DType.Int32));

    /// <inheritdoc/>
    public RawTensor Where(RawTensor cond, RawTensor a, RawTensor b) => a.DType switch
    {
        DType.Float32 => WhereOf<float>(cond, a, b),
        DType.Float64 => WhereOf<double>(cond, a, b),
        DType.Int32 => WhereOf<int>(cond, a, b),
        DType.Int64 => WhereOf<long>(cond, a, b),
        _ => WhereOf<bool>(cond, a, b),
    };

    static RawTensor WhereOf<T>(RawTensor cond, RawTensor a, RawTensor b)
    {
        var (c, co) = Read<bool>(cond); var (x, xo) = Read<T>(a); var (y, yo) = Read<T>(b);
        var r = Uninit<T>(a.Numel);
        for (int i = 0; i < r.Length; i++) r[i] = c[co + i] ? x[xo + i] : y[yo + i];
        return Wrap(r, a.Shape);
    }
}
