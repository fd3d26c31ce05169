using FunctionalAD.Autodiff;
using FunctionalAD.Backends;

namespace FunctionalAD;

public sealed partial class Tensor
{
    Tensor Float(string op)
    {
        if (DType.IsFloatingPoint()) return this;
        if (DType == DType.Bool) throw new DTypeMismatchException(op, $"expected a floating-point tensor, got Bool of shape {FunctionalAD.Shape.Format(shape)}");
        return To(DType.Float32);
    }

    Tensor Unary(string op, Primitive p) => Dispatch.Apply(p, [Float(op)], null);

    /// <summary>-x elementwise (integers stay integers).</summary>
    /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
    public Tensor Neg() => DType == DType.Bool ? throw new DTypeMismatchException("neg", "Bool tensors have no arithmetic") : Dispatch.Apply(Primitives.Neg, [this], null);
    /// <summary>|x| elementwise; derivative sign(x) (0 at 0).</summary>
    public Tensor Abs() => DType.IsFloatingPoint() ? Dispatch.Apply(Primitives.Abs, [this], null) : new Tensor(Backend.Unary(UnaryOp.Abs, Value));
    /// <summary>-1, 0 or 1 elementwise (NaN stays NaN); derivative zero.</summary>
    public Tensor Sign() => DType.IsFloatingPoint() ? Dispatch.Apply(Primitives.Sign, [this], null) : new Tensor(Backend.Unary(UnaryOp.Sign, Value));
    /// <summary>eˣ elementwise. Integer input is converted to Float32 first (for all the float functions below).</summary>
    /// <exception cref="DTypeMismatchException">the tensor is Bool (for all the float functions below).</exception>
    public Tensor Exp() => Unary("exp", Primitives.Exp);
    /// <summary>Natural logarithm elementwise (-inf at 0, NaN below).</summary>
    public Tensor Log() => Unary("log", Primitives.Log);
    /// <summary>log(1 + x), accurate near 0.</summary>
    public Tensor Log1p() => Unary("log1p", Primitives.Log1p);
    /// <summary>eˣ - 1, accurate near 0.</summary>
    public Tensor Expm1() => Unary("expm1", Primitives.Expm1);
    /// <summary>√x; the derivative at 0 is +inf.</summary>
    public Tensor Sqrt() => Unary("sqrt", Primitives.Sqrt);
    /// <summary>1/√x.</summary>
    public Tensor Rsqrt() => Unary("rsqrt", Primitives.Rsqrt);
    /// <summary>Sine (radians).</summary>
    public Tensor Sin() => Unary("sin", Primitives.Sin);
    /// <summary>Cosine (radians).</summary>
    public Tensor Cos() => Unary("cos", Primitives.Cos);
    /// <summary>Tangent (radians).</summary>
    public Tensor Tan() => Unary("tan", Primitives.Tan);
    /// <summary>Arcsine.</summary>
    public Tensor Asin() => Unary("asin", Primitives.Asin);
    /// <summary>Arccosine.</summary>
    public Tensor Acos() => Unary("acos", Primitives.Acos);
    /// <summary>Arctangent.</summary>
    public Tensor Atan() => Unary("atan", Primitives.Atan);
    /// <summary>Hyperbolic sine.</summary>
    public Tensor Sinh() => Unary("sinh", Primitives.Sinh);
    /// <summary>Hyperbolic cosine.</summary>
    public Tensor Cosh() => Unary("cosh", Primitives.Cosh);
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => Unary("tanh", Primitives.Tanh);
    /// <summary>1 / (1 + e⁻ˣ).</summary>
    public Tensor Sigmoid() => Unary("sigmoid", Primitives.Sigmoid);
    /// <summary>max(x, 0); derivative 0 at 0.</summary>
    public Tensor Relu() => Unary("relu", Primitives.Relu);
    /// <summary>log(1 + eˣ), computed without overflow.</summary>
    public Tensor Softplus() => Unary("softplus", Primitives.Softplus);
    /// <summary>Largest integer ≤ x; derivative zero.</summary>
    public Tensor Floor() => Unary("floor", Primitives.Floor);
    /// <summary>Smallest integer ≥ x; derivative zero.</summary>
    public Tensor Ceil() => Unary("ceil", Primitives.Ceil);
    /// <summary>Nearest integer, halves to even; derivative zero.</summary>
    public Tensor Round() => Unary("round", Primitives.Round);
    /// <summary>x² elementwise (one primitive: its vjp is 2x·g in one pass); integer tensors stay integer.</summary>
    public Tensor Square() => DType.IsFloatingPoint() ? Dispatch.Apply(Primitives.Square, [this], null) : this * this;
    /// <summary>x raised to <paramref name="exponent"/> elementwise (broadcasting).</summary>
    public Tensor Pow(Tensor exponent) => Binary("pow", Primitives.Pow, this, exponent, floatOnly: true);
    /// <summary>x raised to a constant power.</summary>
    public Tensor Pow(double exponent) => Pow(ScalarLike(exponent, this));
    /// <summary>Elementwise maximum (broadcasting); ties share the derivative equally.</summary>
    public Tensor Maximum(Tensor other) => Binary("maximum", Primitives.Maximum, this, other);
    /// <summary>Elementwise minimum (broadcasting); ties share the derivative equally.</summary>
    public Tensor Minimum(Tensor other) => Binary("minimum", Primitives.Minimum, this, other);
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
    public static Tensor Atan2(Tensor y, Tensor x) => Binary("atan2", Primitives.Atan2, y, x, floatOnly: true);

    /// <summary>a + b (broadcasting, dtype promotion).</summary>
    /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
    /// <exception cref="DeviceMismatchException">operands on different devices.</exception>
    public static Tensor operator +(Tensor a, Tensor b) => Binary("add", Primitives.Add, a, b);
    /// <summary>a - b (broadcasting).</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Binary("sub", Primitives.Sub, a, b);
    /// <summary>a * b elementwise (broadcasting).</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Binary("mul", Primitives.Mul, a, b);
    /// <summary>a / b elementwise (broadcasting); integer operands give Float32 (true division).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Binary("div", Primitives.Div, a, b, floatOnly: true);
    /// <summary>-a.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>this + other (broadcasting), for fluent chains.</summary>
    public Tensor Add(Tensor other) => this + other;
    /// <summary>this - other (broadcasting).</summary>
    public Tensor Sub(Tensor other) => this - other;
    /// <summary>this * other elementwise (broadcasting).</summary>
    public Tensor Mul(Tensor other) => this * other;
    /// <summary>this / other elementwise (broadcasting).</summary>
    public Tensor Div(Tensor other) => this / other;
    /// <summary>a + s; the scalar takes a's dtype.</summary>
    public static Tensor operator +(Tensor a, double s) => a + ScalarLike(s, a);
    /// <summary>s + a.</summary>
    public static Tensor operator +(double s, Tensor a) => ScalarLike(s, a) + a;
    /// <summary>a - s.</summary>
    public static Tensor operator -(Tensor a, double s) => a - ScalarLike(s, a);
    /// <summary>s - a.</summary>
    public static Tensor operator -(double s, Tensor a) => ScalarLike(s, a) - a;
    /// <summary>a * s.</summary>
    public static Tensor operator *(Tensor a, double s) => a * ScalarLike(s, a);
    /// <summary>s * a.</summary>
    public static Tensor operator *(double s, Tensor a) => ScalarLike(s, a) * a;
    /// <summary>a / s.</summary>
    public static Tensor operator /(Tensor a, double s) => a / ScalarLike(s, a);
    /// <summary>s / a.</summary>
    public static Tensor operator /(double s, Tensor a) => ScalarLike(s, a) / a;

    /// <summary>A constant scalar for an operation with <paramref name="like"/>: its dtype (Float32 for integer
    /// tensors and a non-integral value) and device.</summary>
    internal static Tensor ScalarLike(double value, Tensor like)
    {
        var dtype = like.DType.IsFloatingPoint() || (like.DType != DType.Bool && Math.Round(value) == value) ? like.DType : DType.Float32;
        if (like.Device == Device.Cpu && dtype.IsFloatingPoint())
        {
            // by bits: -0.0 == 0.0, but x / -0.0 must stay -inf
            int i = BitConverter.DoubleToInt64Bits(value) == 0 ? 0 : value == 0 ? -1 : Array.IndexOf(CommonScalars, value);
            if (i >= 0) return (dtype == DType.Float32 ? CommonFloat32 : CommonFloat64)[i];
        }
        return Full([], value, dtype, like.Device);
    }

    // Constants that scalar arithmetic uses all the time, shared (they are immutable) to keep tapes small.
    static readonly double[] CommonScalars = [0, 1, -1, 2, 0.5];
    static readonly Tensor[] CommonFloat32 = CommonScalars.Select(v => Full([], v, DType.Float32)).ToArray();
    static readonly Tensor[] CommonFloat64 = CommonScalars.Select(v => Full([], v, DType.Float64)).ToArray();

    internal static void SameDevice(string op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device)
            throw new DeviceMismatchException(op, $"operands are on different devices: {a.Device} (shape {FunctionalAD.Shape.Format(a.shape)}) and {b.Device} (shape {FunctionalAD.Shape.Format(b.shape)}); move one with ToDevice");
    }

    static Tensor Binary(string op, Primitive p, Tensor a, Tensor b, bool floatOnly = false)
    {
        ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b);
        SameDevice(op, a, b);
        var dtype = DTypes.Promote(a.DType, b.DType);
        if (dtype == DType.Bool) throw new DTypeMismatchException(op, "Bool tensors have no arithmetic; cast with To(DType.Int32) or To(DType.Float32)");
        if (floatOnly && !dtype.IsFloatingPoint()) dtype = DType.Float32;
        var s = FunctionalAD.Shape.Broadcast(op, a.shape, b.shape);
        return Dispatch.Apply(p, [a.To(dtype).BroadcastOwned(s), b.To(dtype).BroadcastOwned(s)], null);
    }

    Tensor Compare(string op, CompareOp cmp, Tensor other)
    {
        SameDevice(op, this, other);
        var dtype = DTypes.Promote(DType, other.DType);
        var s = FunctionalAD.Shape.Broadcast(op, shape, other.shape);
        var a = StopGradient().To(dtype).Value.Expand(s);
        var b = other.StopGradient().To(dtype).Value.Expand(s);
        return new Tensor(Backend.Compare(cmp, a, b));
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
