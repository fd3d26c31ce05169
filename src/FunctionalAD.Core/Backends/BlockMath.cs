using System.Numerics;
using System.Numerics.Tensors;
using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

/// <summary>A run of <see cref="BlockArena{T}.Length"/> elements in an array, or one value standing for all of them
/// (a constant, or a broadcast scalar operand).</summary>
internal readonly struct Block<T>
{
    public readonly T[]? Array;
    public readonly int Offset;
    public readonly T Value;
    public Block(T[] array, int offset) { Array = array; Offset = offset; Value = default!; }
    public Block(T value) { Array = null; Offset = 0; Value = value; }
    public bool IsScalar => Array is null;
}

/// <summary>
/// Scratch blocks for evaluating an op's formula over one block of elements, per thread. The first block handed out
/// is the destination itself, so a formula of one function (most ops) writes its result in place and needs no copy.
/// </summary>
internal sealed class BlockArena<T> where T : unmanaged
{
    /// <summary>Elements per block: an op's intermediate blocks stay in L1 until the result is written.</summary>
    public const int MaxLength = 1024;

    [ThreadStatic] static BlockArena<T>? current;
    public static BlockArena<T> ForThread() => current ??= new();

    readonly List<T[]> scratch = [];
    int used;
    T[] destination = [];
    int destinationOffset;
    bool destinationTaken;
    public int Length;

    /// <summary>Starts a block: the next formula writes destination[offset .. offset + length).</summary>
    public void Begin(T[] destination, int offset, int length)
    {
        this.destination = destination; destinationOffset = offset; Length = length;
        used = 0; destinationTaken = false;
    }

    public Block<T> Next()
    {
        if (!destinationTaken) { destinationTaken = true; return new(destination, destinationOffset); }
        if (used == scratch.Count) scratch.Add(new T[MaxLength]);
        return new(scratch[used++], 0);
    }

    public bool IsDestination(Block<T> b) => ReferenceEquals(b.Array, destination) && b.Offset == destinationOffset;

    public Span<T> Span(Block<T> b) => b.Array.AsSpan(b.Offset, Length);

    /// <summary>Writes the formula's result into the destination (nothing to do when it is already there). Returns
    /// true when the formula was one pass straight into the destination (no scratch block, no copy): such a formula
    /// gains nothing from L1-sized blocks, so the caller may run the rest of the elements as one block.</summary>
    public bool Store(Block<T> result)
    {
        var d = destination.AsSpan(destinationOffset, Length);
        if (result.IsScalar) d.Fill(result.Value);
        else if (!IsDestination(result)) Span(result).CopyTo(d);
        else return used == 0;
        return false;
    }
}

/// <summary>
/// <see cref="IElementMath{T}"/> over blocks of elements: each member is one vectorised <c>TensorPrimitives</c> pass
/// (or a <see cref="Vector{T}"/> loop) into a scratch block of the thread's <see cref="BlockArena{T}"/>; members on
/// scalar blocks compute one value. This is the CPU's vectorised path for every op written over IElementMath.
/// </summary>
internal readonly struct BlockMath<T>(BlockArena<T> arena) : IElementMath<Block<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    delegate void SpanMap(ReadOnlySpan<T> x, Span<T> y);
    delegate void SpanZip(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> r);
    delegate void SpanZipRight(ReadOnlySpan<T> x, T y, Span<T> r);
    delegate void SpanZipLeft(T x, ReadOnlySpan<T> y, Span<T> r);

    static ScalarMath<T> S => default;

    ReadOnlySpan<T> In(Block<T> b) => arena.Span(b);

    Block<T> Map(Block<T> a, SpanMap f)
    {
        var r = arena.Next();
        f(In(a), arena.Span(r));
        return r;
    }

    /// <summary>A pass of f over two blocks; a scalar operand uses the scalar overload where TensorPrimitives has one,
    /// else it is spread into a scratch block first.</summary>
    Block<T> Zip(Block<T> a, Block<T> b, SpanZip f, SpanZipRight? right, SpanZipLeft? left)
    {
        if (a.IsScalar && left is null) a = Spread(a);
        if (b.IsScalar && right is null) b = Spread(b);
        var r = arena.Next();
        if (b.IsScalar) right!(In(a), b.Value, arena.Span(r));
        else if (a.IsScalar) left!(a.Value, In(b), arena.Span(r));
        else f(In(a), In(b), arena.Span(r));
        return r;
    }

    Block<T> Spread(Block<T> a)
    {
        var r = arena.Next();
        arena.Span(r).Fill(a.Value);
        return r;
    }


    public Block<T> Const(double value) => new(T.CreateTruncating(value));
    public Block<T> Add(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(a.Value + b.Value)
        : a.IsScalar ? Zip(b, a, TensorPrimitives.Add, TensorPrimitives.Add, null) : Zip(a, b, TensorPrimitives.Add, TensorPrimitives.Add, null);
    public Block<T> Sub(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(a.Value - b.Value) : Zip(a, b, TensorPrimitives.Subtract, TensorPrimitives.Subtract, TensorPrimitives.Subtract);
    public Block<T> Mul(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(a.Value * b.Value)
        : a.IsScalar ? Zip(b, a, TensorPrimitives.Multiply, TensorPrimitives.Multiply, null) : Zip(a, b, TensorPrimitives.Multiply, TensorPrimitives.Multiply, null);
    public Block<T> Div(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(a.Value / b.Value) : Zip(a, b, TensorPrimitives.Divide, TensorPrimitives.Divide, TensorPrimitives.Divide);
    public Block<T> Max(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(S.Max(a.Value, b.Value))
        : a.IsScalar ? Zip(b, a, TensorPrimitives.Max, TensorPrimitives.Max, null) : Zip(a, b, TensorPrimitives.Max, TensorPrimitives.Max, null);
    public Block<T> Min(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(S.Min(a.Value, b.Value))
        : a.IsScalar ? Zip(b, a, TensorPrimitives.Min, TensorPrimitives.Min, null) : Zip(a, b, TensorPrimitives.Min, TensorPrimitives.Min, null);
    public Block<T> Pow(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(T.Pow(a.Value, b.Value)) : Zip(a, b, TensorPrimitives.Pow, TensorPrimitives.Pow, TensorPrimitives.Pow);
    public Block<T> Atan2(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(T.Atan2(a.Value, b.Value)) : Zip(a, b, TensorPrimitives.Atan2, TensorPrimitives.Atan2, TensorPrimitives.Atan2);
    public Block<T> GreaterShare(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(S.GreaterShare(a.Value, b.Value)) : Zip(a, b, GreaterShare, null, null);

    public Block<T> Neg(Block<T> a) => a.IsScalar ? new(-a.Value) : Map(a, TensorPrimitives.Negate);
    public Block<T> Abs(Block<T> a) => a.IsScalar ? new(T.Abs(a.Value)) : Map(a, TensorPrimitives.Abs);
    public Block<T> Sign(Block<T> a) => a.IsScalar ? new(S.Sign(a.Value)) : Map(a, Sign);
    public Block<T> Positive(Block<T> a) => a.IsScalar ? new(S.Positive(a.Value)) : Map(a, Positive);
    public Block<T> Exp(Block<T> a) => a.IsScalar ? new(T.Exp(a.Value)) : Map(a, TensorPrimitives.Exp);
    public Block<T> Log(Block<T> a) => a.IsScalar ? new(T.Log(a.Value)) : Map(a, TensorPrimitives.Log);
    public Block<T> Log1p(Block<T> a) => a.IsScalar ? new(T.LogP1(a.Value)) : Map(a, TensorPrimitives.LogP1);
    public Block<T> Expm1(Block<T> a) => a.IsScalar ? new(T.ExpM1(a.Value)) : Map(a, TensorPrimitives.ExpM1);
    public Block<T> Sqrt(Block<T> a) => a.IsScalar ? new(T.Sqrt(a.Value)) : Map(a, TensorPrimitives.Sqrt);
    public Block<T> Rsqrt(Block<T> a) => a.IsScalar ? new(S.Rsqrt(a.Value)) : Map(a, TensorPrimitives.ReciprocalSqrt);
    public Block<T> Sin(Block<T> a) => a.IsScalar ? new(T.Sin(a.Value)) : Map(a, TensorPrimitives.Sin);
    public Block<T> Cos(Block<T> a) => a.IsScalar ? new(T.Cos(a.Value)) : Map(a, TensorPrimitives.Cos);
    public Block<T> Tan(Block<T> a) => a.IsScalar ? new(T.Tan(a.Value)) : Map(a, TensorPrimitives.Tan);
    public Block<T> Asin(Block<T> a) => a.IsScalar ? new(T.Asin(a.Value)) : Map(a, TensorPrimitives.Asin);
    public Block<T> Acos(Block<T> a) => a.IsScalar ? new(T.Acos(a.Value)) : Map(a, TensorPrimitives.Acos);
    public Block<T> Atan(Block<T> a) => a.IsScalar ? new(T.Atan(a.Value)) : Map(a, TensorPrimitives.Atan);
    public Block<T> Sinh(Block<T> a) => a.IsScalar ? new(T.Sinh(a.Value)) : Map(a, TensorPrimitives.Sinh);
    public Block<T> Cosh(Block<T> a) => a.IsScalar ? new(T.Cosh(a.Value)) : Map(a, TensorPrimitives.Cosh);
    public Block<T> Tanh(Block<T> a) => a.IsScalar ? new(T.Tanh(a.Value)) : Map(a, TensorPrimitives.Tanh);
    public Block<T> Sigmoid(Block<T> a) => a.IsScalar ? new(S.Sigmoid(a.Value)) : Map(a, TensorPrimitives.Sigmoid);
    public Block<T> Floor(Block<T> a) => a.IsScalar ? new(T.Floor(a.Value)) : Map(a, TensorPrimitives.Floor);
    public Block<T> Ceil(Block<T> a) => a.IsScalar ? new(T.Ceiling(a.Value)) : Map(a, TensorPrimitives.Ceiling);
    public Block<T> Round(Block<T> a) => a.IsScalar ? new(T.Round(a.Value)) : Map(a, TensorPrimitives.Round);
    public Block<T> Hypot(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(T.Hypot(a.Value, b.Value)) : Zip(a, b, TensorPrimitives.Hypot, null, null);
    public Block<T> Fmod(Block<T> a, Block<T> b) => a.IsScalar && b.IsScalar ? new(a.Value % b.Value) : Zip(a, b, Fmod, null, null);
    public Block<T> Log2(Block<T> a) => a.IsScalar ? new(T.Log2(a.Value)) : Map(a, TensorPrimitives.Log2);
    public Block<T> Log10(Block<T> a) => a.IsScalar ? new(T.Log10(a.Value)) : Map(a, TensorPrimitives.Log10);
    public Block<T> Asinh(Block<T> a) => a.IsScalar ? new(T.Asinh(a.Value)) : Map(a, TensorPrimitives.Asinh);
    public Block<T> Acosh(Block<T> a) => a.IsScalar ? new(T.Acosh(a.Value)) : Map(a, TensorPrimitives.Acosh);
    public Block<T> Atanh(Block<T> a) => a.IsScalar ? new(T.Atanh(a.Value)) : Map(a, TensorPrimitives.Atanh);
    // TensorPrimitives has no special functions: a scalar loop over the block (Special, in double).
    public Block<T> Erf(Block<T> a) => a.IsScalar ? new(S.Erf(a.Value)) : Map(a, static (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = S.Erf(x[i]); });
    public Block<T> Erfc(Block<T> a) => a.IsScalar ? new(S.Erfc(a.Value)) : Map(a, static (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = S.Erfc(x[i]); });
    public Block<T> Erfinv(Block<T> a) => a.IsScalar ? new(S.Erfinv(a.Value)) : Map(a, static (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = S.Erfinv(x[i]); });
    public Block<T> Lgamma(Block<T> a) => a.IsScalar ? new(S.Lgamma(a.Value)) : Map(a, static (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = S.Lgamma(x[i]); });
    public Block<T> Digamma(Block<T> a) => a.IsScalar ? new(S.Digamma(a.Value)) : Map(a, static (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = S.Digamma(x[i]); });
    public Block<T> Polygamma<N>(Block<T> a) where N : struct, IPolygammaOrder =>
        a.IsScalar ? new(S.Polygamma<N>(a.Value)) : Map(a, static (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = S.Polygamma<N>(x[i]); });

    /// <summary>c &gt; 0 ? a : b per element; scalar operands are read as constants.</summary>
    public Block<T> IfPositive(Block<T> c, Block<T> a, Block<T> b)
    {
        if (c.IsScalar) return c.Value > T.Zero ? a : b;
        var r = arena.Next();
        ReadOnlySpan<T> cs = In(c), xs = a.IsScalar ? default : In(a), ys = b.IsScalar ? default : In(b);
        var rs = arena.Span(r);
        for (int i = 0; i < rs.Length; i++)
            rs[i] = cs[i] > T.Zero ? (a.IsScalar ? a.Value : xs[i]) : (b.IsScalar ? b.Value : ys[i]);
        return r;
    }

    static void Fmod(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> r)
    {
        for (int i = 0; i < a.Length; i++) r[i] = a[i] % b[i];
    }

    static void Sign(ReadOnlySpan<T> x, Span<T> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = S.Sign(x[i]);
    }

    static void Positive(ReadOnlySpan<T> x, Span<T> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
                Vector.ConditionalSelect(Vector.GreaterThan(new Vector<T>(x[i..]), Vector<T>.Zero), Vector<T>.One, Vector<T>.Zero).CopyTo(y[i..]);
        for (; i < x.Length; i++) y[i] = S.Positive(x[i]);
    }

    static void GreaterShare(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> r)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var half = new Vector<T>(T.CreateTruncating(0.5));
            for (; i <= a.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                Vector<T> va = new(a[i..]), vb = new(b[i..]);
                Vector.ConditionalSelect(Vector.GreaterThan(va, vb), Vector<T>.One, Vector.ConditionalSelect(Vector.Equals(va, vb), half, Vector<T>.Zero)).CopyTo(r[i..]);
            }
        }
        for (; i < a.Length; i++) r[i] = S.GreaterShare(a[i], b[i]);
    }
}
