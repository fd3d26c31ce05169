using FunctionalAD.Autodiff;
using FunctionalAD.Backends;
using FunctionalAD.Ops;

namespace FunctionalAD;

public sealed partial class Tensor
{
    /// <summary>This tensor when floating point, else converted to Float32 (integers) or refused (Bool).</summary>
    Tensor Float(string op)
    {
        if (DType.IsFloatingPoint()) return this;
        if (DType == DType.Bool) throw new DTypeMismatchException(op, $"expected a floating-point tensor, got Bool of shape {FunctionalAD.Shape.Format(shape)}");
        return To(DType.Float32);
    }

    /// <summary>
    /// The elementwise op <typeparamref name="TOp"/> applied to every element: the extension point for elementwise
    /// functions (every built-in one, <see cref="Sin()"/> included, is a call of this). The result is differentiable
    /// to any order through the op's own derivative formula. Integer tensors are converted to Float32 first unless the
    /// op <see cref="IUnaryOp.AcceptsIntegers"/>.
    /// </summary>
    /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
    public Tensor Map<TOp>() where TOp : struct, IUnaryOp
    {
        if (DType == DType.Bool) throw OpTraits.Refused(OpTraits<TOp>.Name, DType, OpTraits<TOp>.AcceptsIntegers);
        var x = DType.IsFloatingPoint() || OpTraits<TOp>.AcceptsIntegers ? this : To(DType.Float32);
        return Dispatch.Apply(UnaryPrimitive<TOp>.Instance, x, null);
    }

    /// <summary>
    /// The elementwise op <typeparamref name="TOp"/> of a and b, broadcast to one shape (NumPy's rules) and promoted to
    /// one dtype (integer operands become Float32 unless the op <see cref="IBinaryOp.AcceptsIntegers"/>): the
    /// extension point for elementwise functions of two tensors (+, -, *, /, pow, atan2, maximum, minimum use it).
    /// </summary>
    /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
    /// <exception cref="DTypeMismatchException">an operand is Bool.</exception>
    /// <exception cref="DeviceMismatchException">operands on different devices.</exception>
    public static Tensor Zip<TOp>(Tensor a, Tensor b) where TOp : struct, IBinaryOp
    {
        ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b);
        // The common case (one dtype the op takes as it is, one shape, one device) needs no promotion or broadcast.
        if (a.DType == b.DType && (a.DType.IsFloatingPoint() || (OpTraits<TOp>.AcceptsIntegers && a.DType != DType.Bool))
            && a.Device == b.Device && a.shape.AsSpan().SequenceEqual(b.shape))
            return Dispatch.Apply(BinaryPrimitive<TOp>.Instance, a, b, null);
        var op = OpTraits<TOp>.Name;
        SameDevice(op, a, b);
        var dtype = DTypes.Promote(a.DType, b.DType);
        if (dtype == DType.Bool) throw OpTraits.Refused(op, dtype, OpTraits<TOp>.AcceptsIntegers);
        if (!OpTraits<TOp>.AcceptsIntegers && !dtype.IsFloatingPoint()) dtype = DType.Float32;
        var s = FunctionalAD.Shape.Broadcast(op, a.shape, b.shape);
        return Dispatch.Apply(BinaryPrimitive<TOp>.Instance, a.To(dtype).BroadcastOwned(s), b.To(dtype).BroadcastOwned(s), null);
    }

    /// <summary>x raised to <paramref name="exponent"/> elementwise (broadcasting).</summary>
    public Tensor Pow(Tensor exponent) => Zip<Ops.Pow>(this, exponent);
    /// <summary>x raised to a constant power.</summary>
    public Tensor Pow(double exponent) => Pow(ScalarLike(exponent, this));
    /// <summary>Elementwise maximum (broadcasting); ties share the derivative equally.</summary>
    public Tensor Maximum(Tensor other) => Zip<Ops.Maximum>(this, other);
    /// <summary>Elementwise minimum (broadcasting); ties share the derivative equally.</summary>
    public Tensor Minimum(Tensor other) => Zip<Ops.Minimum>(this, other);
    /// <summary>x limited to [min, max]; derivative 1 inside (boundaries included), 0 outside.</summary>
    /// <exception cref="ArgumentException">min &gt; max.</exception>
    public Tensor Clamp(double min, double max)
    {
        if (min > max) throw new TensorException("clamp", $"min {min} is greater than max {max}");
        return Where(Lt(min), ScalarLike(min, this), Where(Gt(max), ScalarLike(max, this), this));
    }

    // Static forms: F#'s sin, cos, exp, log, sqrt, abs, tanh, floor, ceil, round, atan2 and ** call these.
    /// <summary>Sine of x.</summary>
    public static Tensor Sin(Tensor x) => x.Sin();
    /// <summary>Cosine of x.</summary>
    public static Tensor Cos(Tensor x) => x.Cos();
    /// <summary>Tangent of x.</summary>
    public static Tensor Tan(Tensor x) => x.Tan();
    /// <summary>Arcsine of x.</summary>
    public static Tensor Asin(Tensor x) => x.Asin();
    /// <summary>Arccosine of x.</summary>
    public static Tensor Acos(Tensor x) => x.Acos();
    /// <summary>Arctangent of x.</summary>
    public static Tensor Atan(Tensor x) => x.Atan();
    /// <summary>Hyperbolic sine of x.</summary>
    public static Tensor Sinh(Tensor x) => x.Sinh();
    /// <summary>Hyperbolic cosine of x.</summary>
    public static Tensor Cosh(Tensor x) => x.Cosh();
    /// <summary>Hyperbolic tangent of x.</summary>
    public static Tensor Tanh(Tensor x) => x.Tanh();
    /// <summary>eˣ.</summary>
    public static Tensor Exp(Tensor x) => x.Exp();
    /// <summary>Natural log of x.</summary>
    public static Tensor Log(Tensor x) => x.Log();
    /// <summary>√x.</summary>
    public static Tensor Sqrt(Tensor x) => x.Sqrt();
    /// <summary>|x|.</summary>
    public static Tensor Abs(Tensor x) => x.Abs();
    /// <summary>Floor of x.</summary>
    public static Tensor Floor(Tensor x) => x.Floor();
    /// <summary>Ceiling of x.</summary>
    public static Tensor Ceiling(Tensor x) => x.Ceil();
    /// <summary>x rounded to the nearest integer (halves to even).</summary>
    public static Tensor Round(Tensor x) => x.Round();
    /// <summary>x to the power y (broadcasting).</summary>
    public static Tensor Pow(Tensor x, Tensor y) => x.Pow(y);
    /// <summary>x to a constant power.</summary>
    public static Tensor Pow(Tensor x, double y) => x.Pow(y);
    /// <summary>atan2(y, x): the angle of the point (x, y), broadcasting.</summary>
    public static Tensor Atan2(Tensor y, Tensor x) => Zip<Ops.Atan2>(y, x);

    /// <summary>a + b (broadcasting, dtype promotion).</summary>
    /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
    /// <exception cref="DeviceMismatchException">operands on different devices.</exception>
    public static Tensor operator +(Tensor a, Tensor b) => Zip<Ops.Add>(a, b);
    /// <summary>a - b (broadcasting).</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Zip<Ops.Sub>(a, b);
    /// <summary>a * b elementwise (broadcasting).</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Zip<Ops.Mul>(a, b);
    /// <summary>a / b elementwise (broadcasting); integer operands give Float32 (true division).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Zip<Ops.Div>(a, b);
    /// <summary>-a.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>this + other (broadcasting), for fluent chains.</summary>
    public Tensor Add(Tensor other) => this + other;

    /// <summary>
    /// this + alpha·other, PyTorch's <c>torch.add(input, other, alpha=...)</c>, broadcasting as <c>+</c>. When neither
    /// operand carries a derivative and both have one shape, dtype (floating point) and device, it is one pass on the
    /// backend (an optimizer's p - lr·g reads p and g once and allocates only the result; the fused multiply-add may
    /// round once where the composite rounds twice); otherwise it is this + alpha·other, differentiable as usual.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the shapes do not broadcast.</exception>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public Tensor Add(Tensor other, double alpha)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (IsConstant && other.IsConstant && DType == other.DType && Device == other.Device
            && shape.AsSpan().SequenceEqual(other.shape) && Backend.TryAddScaled(Value, other.Value, alpha, out var r))
            return new Tensor(r!);
        return alpha == 1 ? this + other : this + alpha * other;
    }
    /// <summary>this - other (broadcasting).</summary>
    public Tensor Sub(Tensor other) => this - other;
    /// <summary>this * other elementwise (broadcasting).</summary>
    public Tensor Mul(Tensor other) => this * other;
    /// <summary>this / other elementwise (broadcasting).</summary>
    public Tensor Div(Tensor other) => this / other;
    /// <summary>a + s. A floating-point tensor takes s as its own dtype; an integer or Bool tensor gives Float32 (a
    /// .NET double is a float, as a Python float is in PyTorch).</summary>
    public static Tensor operator +(Tensor a, double s) => a + ScalarLike(s, a);
    /// <summary>s + a (dtype as for a + s).</summary>
    public static Tensor operator +(double s, Tensor a) => ScalarLike(s, a) + a;
    /// <summary>a - s (dtype as for a + s).</summary>
    public static Tensor operator -(Tensor a, double s) => a - ScalarLike(s, a);
    /// <summary>s - a (dtype as for a + s).</summary>
    public static Tensor operator -(double s, Tensor a) => ScalarLike(s, a) - a;
    /// <summary>a * s (dtype as for a + s).</summary>
    public static Tensor operator *(Tensor a, double s) => a * ScalarLike(s, a);
    /// <summary>s * a (dtype as for a + s).</summary>
    public static Tensor operator *(double s, Tensor a) => ScalarLike(s, a) * a;
    /// <summary>a / s (true division: Float32 for integer tensors).</summary>
    public static Tensor operator /(Tensor a, double s) => a / ScalarLike(s, a);
    /// <summary>s / a (true division: Float32 for integer tensors).</summary>
    public static Tensor operator /(double s, Tensor a) => ScalarLike(s, a) / a;
    /// <summary>a + s for an integer s: an integer tensor stays integer (Bool gives Int64), a float tensor takes s as its own dtype.</summary>
    /// <exception cref="TensorException">s does not fit an Int32 tensor.</exception>
    public static Tensor operator +(Tensor a, long s) => a + ScalarLike(s, a, "add");
    /// <summary>s + a for an integer s (dtype as for a + s).</summary>
    /// <exception cref="TensorException">s does not fit an Int32 tensor.</exception>
    public static Tensor operator +(long s, Tensor a) => ScalarLike(s, a, "add") + a;
    /// <summary>a - s for an integer s (dtype as for a + s).</summary>
    /// <exception cref="TensorException">s does not fit an Int32 tensor.</exception>
    public static Tensor operator -(Tensor a, long s) => a - ScalarLike(s, a, "sub");
    /// <summary>s - a for an integer s (dtype as for a + s).</summary>
    /// <exception cref="TensorException">s does not fit an Int32 tensor.</exception>
    public static Tensor operator -(long s, Tensor a) => ScalarLike(s, a, "sub") - a;
    /// <summary>a * s for an integer s (dtype as for a + s).</summary>
    /// <exception cref="TensorException">s does not fit an Int32 tensor.</exception>
    public static Tensor operator *(Tensor a, long s) => a * ScalarLike(s, a, "mul");
    /// <summary>s * a for an integer s (dtype as for a + s).</summary>
    /// <exception cref="TensorException">s does not fit an Int32 tensor.</exception>
    public static Tensor operator *(long s, Tensor a) => ScalarLike(s, a, "mul") * a;
    /// <summary>a / s for an integer s: true division (Float32 for integer tensors).</summary>
    public static Tensor operator /(Tensor a, long s) => a / ScalarLike((double)s, a);
    /// <summary>s / a for an integer s: true division (Float32 for integer tensors).</summary>
    public static Tensor operator /(long s, Tensor a) => ScalarLike((double)s, a) / a;
    /// <summary>a + s for an Int32 s (F# literals); see the long overload.</summary>
    public static Tensor operator +(Tensor a, int s) => a + (long)s;
    /// <summary>s + a for an Int32 s.</summary>
    public static Tensor operator +(int s, Tensor a) => (long)s + a;
    /// <summary>a - s for an Int32 s.</summary>
    public static Tensor operator -(Tensor a, int s) => a - (long)s;
    /// <summary>s - a for an Int32 s.</summary>
    public static Tensor operator -(int s, Tensor a) => (long)s - a;
    /// <summary>a * s for an Int32 s.</summary>
    public static Tensor operator *(Tensor a, int s) => a * (long)s;
    /// <summary>s * a for an Int32 s.</summary>
    public static Tensor operator *(int s, Tensor a) => (long)s * a;
    /// <summary>a / s for an Int32 s (true division).</summary>
    public static Tensor operator /(Tensor a, int s) => a / (long)s;
    /// <summary>s / a for an Int32 s (true division).</summary>
    public static Tensor operator /(int s, Tensor a) => (long)s / a;

    /// <summary>A constant scalar for an operation with <paramref name="like"/>, typed as PyTorch types a Python float:
    /// the tensor's dtype when it is floating point, else Float32 (so an integer tensor times 1e10 is a Float32 tensor,
    /// not a wrapped integer); on like's device.</summary>
    internal static Tensor ScalarLike(double value, Tensor like)
    {
        var dtype = like.DType.IsFloatingPoint() ? like.DType : DType.Float32;
        if (like.Device != Device.Cpu) return Full([], value, dtype, like.Device);
        // by bits: -0.0 == 0.0, but x / -0.0 must stay -inf
        long bits = BitConverter.DoubleToInt64Bits(value);
        int i = bits == 0 ? 0 : value == 0 ? -1 : Array.IndexOf(CommonScalars, value);
        if (i >= 0) return (dtype == DType.Float32 ? CommonFloat32 : CommonFloat64)[i];
        // Other constants repeat too (x * 0.9 in a loop): a small per-thread cache shares them (tensors are immutable),
        // which keeps a long tape from holding a fresh scalar per operation.
        var cache = recentScalars ??= new (long, DType, Tensor?)[64];
        int slot = (int)((ulong)(bits ^ (bits >> 31) ^ ((long)dtype << 7)) % (ulong)cache.Length);
        var (cachedBits, cachedType, cached) = cache[slot];
        if (cached is not null && cachedBits == bits && cachedType == dtype) return cached;
        var t = Full([], value, dtype);
        cache[slot] = (bits, dtype, t);
        return t;
    }

    [ThreadStatic] static (long Bits, DType DType, Tensor? Scalar)[]? recentScalars;

    /// <summary>A constant integer scalar for an operation with <paramref name="like"/>, typed as PyTorch types a Python
    /// int: the tensor's dtype (Int64 for Bool); a floating-point tensor takes it as its own float.</summary>
    /// <exception cref="TensorException">the value does not fit an Int32 tensor's dtype.</exception>
    internal static Tensor ScalarLike(long value, Tensor like, string op)
    {
        if (like.DType.IsFloatingPoint()) return ScalarLike((double)value, like);
        var dtype = like.DType == DType.Bool ? DType.Int64 : like.DType;
        if (dtype == DType.Int32 && value is < int.MinValue or > int.MaxValue)
            throw new TensorException(op, $"the scalar {value} does not fit the Int32 tensor of shape {FunctionalAD.Shape.Format(like.shape)}; convert the tensor with To(DType.Int64) first");
        var t = dtype == DType.Int32 ? Scalar((int)value) : Scalar(value);
        return like.Device == Device.Cpu ? t : t.ToDevice(like.Device);
    }

    /// <summary>True when t is the shared CPU constant <paramref name="value"/> (one of <c>CommonScalars</c>) that
    /// <see cref="ScalarLike(double, Tensor)"/> hands out: lets derivative rules skip multiplying by 1 or adding 0.</summary>
    internal static bool IsCommonScalar(Tensor t, double value)
    {
        if (t.shape.Length != 0 || t.raw is null) return false; // the common case: not a shared scalar at all
        int i = Array.IndexOf(CommonScalars, value);
        return i >= 0 && (ReferenceEquals(t, CommonFloat32[i]) || ReferenceEquals(t, CommonFloat64[i]));
    }

    /// <summary>Zeros of <paramref name="shape"/> as a broadcast view of one zero: a symbolic zero's stand-in that
    /// allocates no elements.</summary>
    internal static Tensor ZerosView(int[] shape, DType dtype, Device device)
    {
        var zero = device == Device.Cpu && dtype.IsFloatingPoint() ? (dtype == DType.Float32 ? CommonFloat32 : CommonFloat64)[0] : Full([], 0, dtype, device);
        return new(zero.Value.Expand(shape));
    }

    /// <summary>Zeros of <paramref name="like"/>'s shape, dtype and device as a broadcast view (see <see cref="ZerosView(int[], DType, Device)"/>).</summary>
    internal static Tensor ZerosView(Tensor like) => ZerosView(like.shape, like.DType, like.Device);

    // Constants that scalar arithmetic uses all the time, shared (they are immutable) to keep tapes small.
    static readonly double[] CommonScalars = [0, 1, -1, 2, 0.5];
    static readonly Tensor[] CommonFloat32 = CommonScalars.Select(v => Full([], v, DType.Float32)).ToArray();
    static readonly Tensor[] CommonFloat64 = CommonScalars.Select(v => Full([], v, DType.Float64)).ToArray();

    internal static void SameDevice(string op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device)
            throw new DeviceMismatchException(op, $"operands are on different devices: {a.Device} (shape {FunctionalAD.Shape.Format(a.shape)}) and {b.Device} (shape {FunctionalAD.Shape.Format(b.shape)}); move one with ToDevice");
    }

    Tensor Compare(string op, CompareOp cmp, Tensor other)
    {
        SameDevice(op, this, other);
        var dtype = DTypes.Promote(DType, other.DType);
        var s = FunctionalAD.Shape.Broadcast(op, shape, other.shape);
        return Dispatch.Apply(Primitives.Compare, [To(dtype).BroadcastOwned(s), other.To(dtype).BroadcastOwned(s)], cmp);
    }

    /// <summary>x == other elementwise (Bool, broadcasting).</summary>
    public Tensor Eq(Tensor other) => Compare("eq", CompareOp.Eq, other);
    /// <summary>x != other elementwise (Bool).</summary>
    public Tensor Ne(Tensor other) => Compare("ne", CompareOp.Ne, other);
    /// <summary>x &lt; other elementwise (Bool).</summary>
    public Tensor Lt(Tensor other) => Compare("lt", CompareOp.Lt, other);
    /// <summary>x &lt;= other elementwise (Bool).</summary>
    public Tensor Le(Tensor other) => Compare("le", CompareOp.Le, other);
    /// <summary>x &gt; other elementwise (Bool).</summary>
    public Tensor Gt(Tensor other) => Compare("gt", CompareOp.Gt, other);
    /// <summary>x &gt;= other elementwise (Bool).</summary>
    public Tensor Ge(Tensor other) => Compare("ge", CompareOp.Ge, other);
    /// <summary>x == s elementwise (Bool).</summary>
    public Tensor Eq(double s) => Eq(ScalarLike(s, this));
    /// <summary>x != s elementwise (Bool).</summary>
    public Tensor Ne(double s) => Ne(ScalarLike(s, this));
    /// <summary>x &lt; s elementwise (Bool).</summary>
    public Tensor Lt(double s) => Lt(ScalarLike(s, this));
    /// <summary>x &lt;= s elementwise (Bool).</summary>
    public Tensor Le(double s) => Le(ScalarLike(s, this));
    /// <summary>x &gt; s elementwise (Bool).</summary>
    public Tensor Gt(double s) => Gt(ScalarLike(s, this));
    /// <summary>x &gt;= s elementwise (Bool).</summary>
    public Tensor Ge(double s) => Ge(ScalarLike(s, this));

    /// <summary>condition ? a : b elementwise, broadcasting all three. The derivative flows to the chosen operand.</summary>
    /// <exception cref="DTypeMismatchException">condition is not Bool.</exception>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        if (condition.DType != DType.Bool) throw new DTypeMismatchException("where", $"the condition must be Bool, got {condition.DType}");
        SameDevice("where", a, b); SameDevice("where", condition, a);
        var dtype = DTypes.Promote(a.DType, b.DType);
        var s = FunctionalAD.Shape.Broadcast("where", FunctionalAD.Shape.Broadcast("where", condition.shape, a.shape), b.shape);
        return Dispatch.Apply(Primitives.Where, [a.To(dtype).BroadcastOwned(s), b.To(dtype).BroadcastOwned(s)], condition.Value.Expand(s));
    }
}
