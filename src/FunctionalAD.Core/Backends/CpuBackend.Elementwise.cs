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

    /// <summary>f(x) of one Float32 (<paramref name="single"/>, computed in float) or Float64 value: what
    /// <see cref="Unary{TOp}"/> computes for a one-element tensor, without the tensor (the scalar tape's forward).</summary>
    internal static double ScalarUnary<TOp>(double x, bool single) where TOp : struct, IUnaryOp =>
        single ? default(TOp).Apply(default(ScalarMath<float>), (float)x) : default(TOp).Apply(default(ScalarMath<double>), x);

    /// <summary>f(a, b) of two Float32 or Float64 values, as <see cref="Binary{TOp}"/> computes it for one element.</summary>
    internal static double ScalarBinary<TOp>(double a, double b, bool single) where TOp : struct, IBinaryOp =>
        single ? default(TOp).Apply(default(ScalarMath<float>), (float)a, (float)b) : default(TOp).Apply(default(ScalarMath<double>), a, b);

    /// <summary>g·f'(x) of Float32 or Float64 values, as <see cref="TryUnaryDerivative{TOp}"/> computes it for one element.</summary>
    internal static double ScalarUnaryDerivative<TOp>(double g, double x, double y, bool single) where TOp : struct, IUnaryOp =>
        single ? (float)g * default(TOp).Derivative(default(ScalarMath<float>), (float)x, (float)y)
               : g * default(TOp).Derivative(default(ScalarMath<double>), x, y);

    /// <summary>g·∂f/∂a (<paramref name="input"/> 0) or g·∂f/∂b (1) of Float32 or Float64 values, in the element type.</summary>
    internal static double ScalarBinaryPartial<TOp>(int input, double g, double a, double b, double y, bool single) where TOp : struct, IBinaryOp
    {
        var op = default(TOp);
        if (single)
        {
            var m = default(ScalarMath<float>);
            return (float)g * (input == 0 ? op.DerivativeA(m, (float)a, (float)b, (float)y) : op.DerivativeB(m, (float)a, (float)b, (float)y));
        }
        var md = default(ScalarMath<double>);
        return g * (input == 0 ? op.DerivativeA(md, a, b, y) : op.DerivativeB(md, a, b, y));
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
        if (BinaryRows<T, TOp>(a, b) is { } rows) return rows;
        Block<T> x = Source<T>(a), y = Source<T>(b);
        var r = Uninit<T>(a.Numel);
        if (r.Length == 1) r[0] = default(TOp).Apply(default(ScalarMath<T>), First(x), First(y));
        else if (Parallelism.ShouldSplit(r.Length)) BinaryParallel<T, TOp>(x, y, r);
        else BinaryRange<T, TOp>(x, y, r, 0, r.Length);
        Release(a, x.Array); Release(b, y.Array);
        return Wrap(r, a.Shape);
    }

    /// <summary>Rows shorter than this are not worth a call each: the operands are copied row-major first.</summary>
    const int MinRow = 256;

    /// <summary>
    /// a op b row by row straight from the storages, where a view is strided or broadcast only in its leading
    /// dimensions: over the trailing dimensions (a row of at least <see cref="MinRow"/> elements) each operand is
    /// either contiguous or one value (a bias row over a batch, a per-channel scale over an image). Null otherwise,
    /// and where both are contiguous or one is a scalar (the one-pass path does those): no operand is materialised.
    /// </summary>
    static RawTensor? BinaryRows<T, TOp>(RawTensor a, RawTensor b) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp
    {
        if ((a.IsContiguous && b.IsContiguous) || IsScalarLike(a) || IsScalarLike(b)) return null;
        int rank = a.Rank, run = 1, k = rank;
        int modeA = 0, modeB = 0; // 0: undecided, 1: contiguous over the row, 2: one value over the row
        for (; k > 0; k--)
        {
            int d = k - 1, size = a.Shape[d];
            if (size == 1) continue;
            if (!RowMode(a.Strides[d], run, ref modeA) || !RowMode(b.Strides[d], run, ref modeB)) break;
            run *= size;
        }
        if (run < MinRow || (modeA != 1 && modeB != 1)) return null;
        int rows = a.Numel / run;
        var r = Uninit<T>(a.Numel);
        T[] ad = Data<T>(a), bd = Data<T>(b);
        if (Parallelism.ShouldSplit(r.Length)) BinaryRowsParallel<T, TOp>(a, b, ad, bd, modeA, modeB, k, run, r, rows);
        else BinaryRowRange<T, TOp>(a, b, ad, bd, modeA, modeB, k, run, r, 0, rows);
        return Wrap(r, a.Shape);
    }

    /// <summary>Whether a dimension of stride <paramref name="stride"/> keeps the row's mode (contiguous: the stride is
    /// the elements after it; one value: 0), deciding the mode at the first dimension longer than 1.</summary>
    static bool RowMode(int stride, int run, ref int mode)
    {
        int m = stride == 0 ? 2 : stride == run ? 1 : 0;
        if (m == 0 || (mode != 0 && m != mode)) return false;
        mode = m;
        return true;
    }

    // Kept apart: a lambda in BinaryRows would allocate its closure on every call (C# creates it where the captured
    // parameters come into scope), 72 bytes on each scalar operation, which never gets this far.
    static void BinaryRowsParallel<T, TOp>(RawTensor a, RawTensor b, T[] ad, T[] bd, int modeA, int modeB, int k, int run, T[] r, int rows)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp =>
        Parallelism.For(rows, Math.Max(1, Parallelism.Grain / run), (s, n) => BinaryRowRange<T, TOp>(a, b, ad, bd, modeA, modeB, k, run, r, s, n));

    static void BinaryRowRange<T, TOp>(RawTensor a, RawTensor b, T[] ad, T[] bd, int modeA, int modeB, int k, int run, T[] r, int first, int count)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp
    {
        for (int row = first; row < first + count; row++)
        {
            int oa = a.Offset, ob = b.Offset, rest = row;
            for (int d = k - 1; d >= 0; d--)
            {
                int i = rest % a.Shape[d]; rest /= a.Shape[d];
                oa += i * a.Strides[d]; ob += i * b.Strides[d];
            }
            int start = row * run;
            // BinaryRange reads source element s at Offset + s, so a row's source starts `start` before its first element
            Block<T> x = modeA == 2 ? new(ad[oa]) : new(ad, oa - start), y = modeB == 2 ? new(bd[ob]) : new(bd, ob - start);
            BinaryRange<T, TOp>(x, y, r, start, run);
        }
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
}
