using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <summary>Elements per block of the fused derivative: the block's f'(x) stays in L1 until it is multiplied by g.</summary>
    const int DerivativeBlock = 1024;

    /// <inheritdoc/>
    public bool TryUnaryDerivative(UnaryOp op, RawTensor g, RawTensor x, RawTensor y, [NotNullWhen(true)] out RawTensor? result)
    {
        result = x.DType switch
        {
            DType.Float32 when HasFusedDerivative(op) => DerivativeOf<float>(op, g, x, y),
            DType.Float64 when HasFusedDerivative(op) => DerivativeOf<double>(op, g, x, y),
            _ => null,
        };
        return result is not null;
    }

    static bool HasFusedDerivative(UnaryOp op) => op is UnaryOp.Square or UnaryOp.Exp or UnaryOp.Log or UnaryOp.Log1p or UnaryOp.Expm1
        or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.Sin or UnaryOp.Cos or UnaryOp.Tan or UnaryOp.Atan or UnaryOp.Sinh
        or UnaryOp.Cosh or UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Relu or UnaryOp.Softplus;

    static RawTensor DerivativeOf<T>(UnaryOp op, RawTensor g, RawTensor x, RawTensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (xa, xo) = Read<T>(x);
        var (ya, yo) = Read<T>(y);
        bool scalarG = IsScalarLike(g);
        T[] ga; int go;
        if (scalarG) { ga = Data<T>(g); go = g.Offset; } else (ga, go) = Read<T>(g);
        var r = Uninit<T>(x.Numel);
        if (Parallelism.ShouldSplit(r.Length)) DerivativeParallel(op, ga, go, scalarG, xa, xo, ya, yo, r);
        else DerivativeRange(op, ga, go, scalarG, xa, xo, ya, yo, r, 0, r.Length);
        return Wrap(r, x.Shape);
    }

    // Kept apart so the closure is only allocated when the work is split (not for every 0-D derivative).
    static void DerivativeParallel<T>(UnaryOp op, T[] ga, int go, bool scalarG, T[] xa, int xo, T[] ya, int yo, T[] r)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Parallelism.For(r.Length, Parallelism.Grain, (s, n) => DerivativeRange(op, ga, scalarG ? go : go + s, scalarG, xa, xo + s, ya, yo + s, r, s, n));

    /// <summary>r[rs .. rs+n) = g·f'(x) block by block; a scalar g is spread into one block once.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit] // the spread block is filled before use; zeroing it cost more than a 0-D op
    static void DerivativeRange<T>(UnaryOp op, T[] ga, int go, bool scalarG, T[] xa, int xo, T[] ya, int yo, T[] r, int rs, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> spread = scalarG ? stackalloc T[Math.Min(n, DerivativeBlock)] : default;
        if (scalarG) spread.Fill(ga[go]);
        for (int s = 0; s < n; s += DerivativeBlock)
        {
            int len = Math.Min(DerivativeBlock, n - s);
            ReadOnlySpan<T> gb = scalarG ? spread[..len] : ga.AsSpan(go + s, len);
            DerivativeBlockOf(op, gb, xa.AsSpan(xo + s, len), ya.AsSpan(yo + s, len), r.AsSpan(rs + s, len));
        }
    }

    /// <summary>One block of g·f'(x); the formulas are the ones of the primitive table (Primitives.Elementwise.cs).</summary>
    static void DerivativeBlockOf<T>(UnaryOp op, ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> r)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T one = T.One, half = T.CreateTruncating(0.5);
        switch (op)
        {
            case UnaryOp.Square: TensorPrimitives.Multiply(g, x, r); TensorPrimitives.Add(r, r, r); break; // g·2x
            case UnaryOp.Exp: TensorPrimitives.Multiply(g, y, r); break;                          // g·y
            case UnaryOp.Log: TensorPrimitives.Divide(g, x, r); break;                            // g/x
            case UnaryOp.Log1p: TensorPrimitives.Add(x, one, r); TensorPrimitives.Divide(g, r, r); break; // g/(1+x)
            case UnaryOp.Expm1: TensorPrimitives.FusedMultiplyAdd(g, y, g, r); break;             // g·(y+1)
            case UnaryOp.Sqrt: TensorPrimitives.Divide(g, y, r); TensorPrimitives.Multiply(r, half, r); break; // g·0.5/y
            case UnaryOp.Rsqrt:                                                                   // g·(-0.5·y³)
                TensorPrimitives.Multiply(y, y, r); TensorPrimitives.Multiply(r, y, r);
                TensorPrimitives.Multiply(r, g, r); TensorPrimitives.Multiply(r, -half, r); break;
            case UnaryOp.Sin: TensorPrimitives.Cos(x, r); TensorPrimitives.Multiply(r, g, r); break;
            case UnaryOp.Cos: TensorPrimitives.Sin(x, r); TensorPrimitives.Multiply(r, g, r); TensorPrimitives.Negate(r, r); break;
            case UnaryOp.Tan: TensorPrimitives.FusedMultiplyAdd(y, y, one, r); TensorPrimitives.Multiply(r, g, r); break; // g·(1+y²)
            case UnaryOp.Atan: TensorPrimitives.FusedMultiplyAdd(x, x, one, r); TensorPrimitives.Divide(g, r, r); break; // g/(1+x²)
            case UnaryOp.Sinh: TensorPrimitives.Cosh(x, r); TensorPrimitives.Multiply(r, g, r); break;
            case UnaryOp.Cosh: TensorPrimitives.Sinh(x, r); TensorPrimitives.Multiply(r, g, r); break;
            case UnaryOp.Tanh: TensorPrimitives.MultiplyAdd(y, y, -one, r); TensorPrimitives.Multiply(r, g, r); TensorPrimitives.Negate(r, r); break; // g·(1-y²)
            case UnaryOp.Sigmoid: TensorPrimitives.Subtract(one, y, r); TensorPrimitives.Multiply(r, y, r); TensorPrimitives.Multiply(r, g, r); break; // g·y(1-y)
            case UnaryOp.Softplus: TensorPrimitives.Sigmoid(x, r); TensorPrimitives.Multiply(r, g, r); break;
            case UnaryOp.Relu: ReluDerivative(g, x, r); break;
            default: throw new InvalidOperationException($"unary op {op} has no fused derivative kernel");
        }
    }

    /// <inheritdoc/>
    public bool TryAddInPlace(RawTensor target, RawTensor x)
    {
        if (!target.IsContiguous || x.DType != target.DType || !x.Shape.AsSpan().SequenceEqual(target.Shape)) return false;
        switch (target.DType)
        {
            case DType.Float32: AddInPlace<float>(target, x); return true;
            case DType.Float64: AddInPlace<double>(target, x); return true;
            default: return false;
        }
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

    /// <summary>g where x &gt; 0, else 0 (relu'(0) = 0; NaN x gives 0, as x.Gt(0) does).</summary>
    static void ReluDerivative<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, Span<T> r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<T>.Count;
            for (; i <= x.Length - w; i += w)
            {
                var xv = new Vector<T>(x[i..]);
                Vector.ConditionalSelect(Vector.GreaterThan(xv, Vector<T>.Zero), new Vector<T>(g[i..]), Vector<T>.Zero).CopyTo(r[i..]);
            }
        }
        for (; i < x.Length; i++) r[i] = x[i] > T.Zero ? g[i] : T.Zero;
    }
}
