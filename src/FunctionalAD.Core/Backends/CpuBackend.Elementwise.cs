using System.Numerics;
using System.Numerics.Tensors;
using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public RawTensor Unary<TOp>(RawTensor x) where TOp : struct, IUnaryOp => DTypeDispatch.Visit<UnaryKernel<TOp>, RawTensor>(x.DType, new(x));

    /// <summary>Floats block by block; integers element by element where the op accepts them; the rest refused.</summary>
    readonly struct UnaryKernel<TOp>(RawTensor x) : IDTypeVisitor<RawTensor> where TOp : struct, IUnaryOp
    {
        public RawTensor Floating<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => UnaryOf<T, TOp>(x);
        public RawTensor Integer<T>() where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
            OpTraits<TOp>.AcceptsIntegers ? UnaryInteger<T, TOp>(x) : throw Refused<TOp>(x.DType);
        public RawTensor Bool() => throw Refused<TOp>(x.DType);
    }

    static DTypeMismatchException Refused<TOp>(DType dtype) where TOp : struct => OpTraits.Refused(OpTraits<TOp>.Name, dtype, OpTraits<TOp>.AcceptsIntegers);

    static RawTensor UnaryOf<T, TOp>(RawTensor x) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp
    {
        var (a, off) = Read<T>(x);
        var r = Uninit<T>(x.Numel);
        if (r.Length == 1) r[0] = default(TOp).Apply(default(ScalarMath<T>), a[off]);
        else if (Parallelism.ShouldSplit(r.Length)) UnaryParallel<T, TOp>(a, off, r);
        else UnaryRange<T, TOp>(new(a, off), r, 0, r.Length);
        Release(x, a);
        return Wrap(r, x.Shape);
    }

    // Kept apart so the closure is only allocated when the work is split.
    static void UnaryParallel<T, TOp>(T[] a, int off, T[] r) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp =>
        Parallelism.For(r.Length, Parallelism.Grain, (s, n) => UnaryRange<T, TOp>(new(a, off), r, s, n));

    /// <summary>r[start .. start+n) = f(x) block by block, each block one vectorised pass per function in f's formula.</summary>
    static void UnaryRange<T, TOp>(Block<T> x, T[] r, int start, int n) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp
    {
        var arena = BlockArena<T>.ForThread();
        var m = new BlockMath<T>(arena);
        for (int s = start, len; s < start + n; s += len)
        {
            len = Math.Min(BlockArena<T>.MaxLength, start + n - s);
            arena.Begin(r, s, len);
            if (arena.Store(default(TOp).Apply(m, At(x, s))) && s + len < start + n)
            {
                // one pass into the destination: the rest in one call, as long passes run fastest
                s += len; len = start + n - s;
                arena.Begin(r, s, len);
                arena.Store(default(TOp).Apply(m, At(x, s)));
            }
        }
    }

    static RawTensor UnaryInteger<T, TOp>(RawTensor x) where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> where TOp : struct, IUnaryOp
    {
        var (a, off) = Read<T>(x);
        var r = Uninit<T>(x.Numel);
        for (int i = 0; i < r.Length; i++) r[i] = default(TOp).Apply(default(IntegerMath<T>), a[off + i]);
        return Wrap(r, x.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Binary<TOp>(RawTensor a, RawTensor b) where TOp : struct, IBinaryOp => DTypeDispatch.Visit<BinaryKernel<TOp>, RawTensor>(a.DType, new(a, b));

    readonly struct BinaryKernel<TOp>(RawTensor a, RawTensor b) : IDTypeVisitor<RawTensor> where TOp : struct, IBinaryOp
    {
        public RawTensor Floating<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => BinaryOf<T, TOp>(a, b);
        public RawTensor Integer<T>() where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
            OpTraits<TOp>.AcceptsIntegers ? BinaryInteger<T, TOp>(a, b) : throw Refused<TOp>(a.DType);
        public RawTensor Bool() => throw Refused<TOp>(a.DType);
    }

    static RawTensor BinaryOf<T, TOp>(RawTensor a, RawTensor b) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp
    {
        // A broadcast scalar operand is one value (TensorPrimitives' scalar overloads), not a materialised copy.
        Block<T> x = Source<T>(a), y = Source<T>(b);
        var r = Uninit<T>(a.Numel);
        if (r.Length == 1) r[0] = default(TOp).Apply(default(ScalarMath<T>), First(x), First(y));
        else if (Parallelism.ShouldSplit(r.Length)) BinaryParallel<T, TOp>(x, y, r);
        else BinaryRange<T, TOp>(x, y, r, 0, r.Length);
        Release(a, x.Array); Release(b, y.Array);
        return Wrap(r, a.Shape);
    }

    // Kept apart so the closure is only allocated when the work is split.
    static void BinaryParallel<T, TOp>(Block<T> x, Block<T> y, T[] r) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp =>
        Parallelism.For(r.Length, Parallelism.Grain, (s, n) => BinaryRange<T, TOp>(x, y, r, s, n));

    static void BinaryRange<T, TOp>(Block<T> x, Block<T> y, T[] r, int start, int n) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp
    {
        var arena = BlockArena<T>.ForThread();
        var m = new BlockMath<T>(arena);
        for (int s = start, len; s < start + n; s += len)
        {
            len = Math.Min(BlockArena<T>.MaxLength, start + n - s);
            arena.Begin(r, s, len);
            if (arena.Store(default(TOp).Apply(m, At(x, s), At(y, s))) && s + len < start + n)
            {
                s += len; len = start + n - s; // one pass into the destination: the rest in one call
                arena.Begin(r, s, len);
                arena.Store(default(TOp).Apply(m, At(x, s), At(y, s)));
            }
        }
    }

    static RawTensor BinaryInteger<T, TOp>(RawTensor a, RawTensor b) where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> where TOp : struct, IBinaryOp
    {
        var (x, xo) = Read<T>(a); var (y, yo) = Read<T>(b);
        var r = Uninit<T>(a.Numel);
        for (int i = 0; i < r.Length; i++) r[i] = default(TOp).Apply(default(IntegerMath<T>), x[xo + i], y[yo + i]);
        return Wrap(r, a.Shape);
    }

    /// <summary>x's elements row-major as a block source: one value when x is a (broadcast) scalar, else an array run.</summary>
    static Block<T> Source<T>(RawTensor x)
    {
        if (IsScalarLike(x)) return new(Data<T>(x)[x.Offset]);
        var (a, off) = Read<T>(x);
        return new(a, off);
    }

    /// <summary>The block of a source starting at element s.</summary>
    static Block<T> At<T>(Block<T> source, int s) => source.IsScalar ? source : new(source.Array!, source.Offset + s);

    static T First<T>(Block<T> source) => source.IsScalar ? source.Value : source.Array![source.Offset];

    /// <summary>One element, or one element broadcast everywhere (stride zero on every dimension longer than 1).</summary>
    static bool IsScalarLike(RawTensor t)
    {
        if (t.Numel == 1) return true;
        for (int i = 0; i < t.Rank; i++) if (t.Shape[i] != 1 && t.Strides[i] != 0) return false;
        return true;
    }

    /// <inheritdoc/>
    public RawTensor Compare(CompareOp op, RawTensor a, RawTensor b) => DTypeDispatch.Numeric<CompareKernel, RawTensor>(a.DType, new(op, a, b));

    /// <summary>Bool compares as Int32 (false &lt; true).</summary>
    readonly struct CompareKernel(CompareOp op, RawTensor a, RawTensor b) : INumericKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T> => CompareOf<T>(op, a, b);
        public RawTensor Bool() => CompareOf<int>(op, Instance.Cast(a, DType.Int32), Instance.Cast(b, DType.Int32));
    }

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
        Release(a, x); Release(b, y);
        return Wrap(r, a.Shape);
    }

    /// <inheritdoc/>
    public RawTensor Where(RawTensor cond, RawTensor a, RawTensor b) => DTypeDispatch.Any<WhereKernel, RawTensor>(a.DType, new(cond, a, b));

    readonly struct WhereKernel(RawTensor cond, RawTensor a, RawTensor b) : IElementKernel<RawTensor> { public RawTensor Run<T>() where T : unmanaged => WhereOf<T>(cond, a, b); }

    static RawTensor WhereOf<T>(RawTensor cond, RawTensor a, RawTensor b)
    {
        var (c, co) = Read<bool>(cond); var (x, xo) = Read<T>(a); var (y, yo) = Read<T>(b);
        var r = Uninit<T>(a.Numel);
        for (int i = 0; i < r.Length; i++) r[i] = c[co + i] ? x[xo + i] : y[yo + i];
        return Wrap(r, a.Shape);
    }
}
