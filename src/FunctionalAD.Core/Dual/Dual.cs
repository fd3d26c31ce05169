using System.Globalization;
using System.Numerics;

namespace FunctionalAD;

/// <summary>
/// A dual number a + b·ε (ε² = 0): forward-mode differentiation of scalar code with no heap allocation. It
/// implements .NET generic math (<see cref="IFloatingPointIeee754{TSelf}"/>), so a method written once as
/// <c>static T F&lt;T&gt;(T x) where T : IFloatingPointIeee754&lt;T&gt;</c> runs on <c>double</c> and, unchanged, on
/// <c>Dual&lt;double&gt;</c> to give its derivative. Nesting (<c>Dual&lt;Dual&lt;double&gt;&gt;</c>) gives higher
/// derivatives; each level is a distinct type, so perturbations of different levels cannot be confused.
/// Non-differentiable functions (floor, round, sign, comparisons) use the primal only and have zero tangent.
/// </summary>
/// <typeparam name="T">The scalar type: double, float, or another Dual for nesting.</typeparam>
public readonly partial struct Dual<T> : IFloatingPointIeee754<Dual<T>> where T : IFloatingPointIeee754<T>
{
    /// <summary>The value.</summary>
    public readonly T Primal;
    /// <summary>The derivative carried along (the coefficient of ε).</summary>
    public readonly T Tangent;

    /// <summary>primal + tangent·ε.</summary>
    public Dual(T primal, T tangent) { Primal = primal; Tangent = tangent; }

    /// <summary>A constant (zero tangent).</summary>
    public static implicit operator Dual<T>(T value) => new(value, T.Zero);

    /// <summary>"primal + tangentε".</summary>
    public override string ToString() => $"{Primal} + {Tangent}ε";

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) =>
        $"{Primal.ToString(format, formatProvider)} + {Tangent.ToString(format, formatProvider)}ε";

    // Chain rule helper: f(a + bε) = f(a) + f'(a)·b·ε.
    static Dual<T> Chain(T value, T derivative, Dual<T> x) => new(value, derivative * x.Tangent);

    // A function the tensor ops define too takes its value and derivative from the op's struct (Ops/), so the
    // scalar and tensor derivatives are one formula. Nested duals work: ScalarMath<T> evaluates it in T's own math.
    static Dual<T> Unary<TOp>(Dual<T> x) where TOp : struct, Ops.IUnaryOp
    {
        var m = default(Backends.ScalarMath<T>);
        var y = default(TOp).Apply(m, x.Primal);
        return Chain(y, default(TOp).Derivative(m, x.Primal, y), x);
    }

    static T Two => T.One + T.One;

    /// <inheritdoc/>
    public static Dual<T> operator +(Dual<T> a, Dual<T> b) => new(a.Primal + b.Primal, a.Tangent + b.Tangent);
    /// <inheritdoc/>
    public static Dual<T> operator -(Dual<T> a, Dual<T> b) => new(a.Primal - b.Primal, a.Tangent - b.Tangent);
    /// <inheritdoc/>
    public static Dual<T> operator *(Dual<T> a, Dual<T> b) => new(a.Primal * b.Primal, a.Tangent * b.Primal + a.Primal * b.Tangent);
    /// <inheritdoc/>
    public static Dual<T> operator /(Dual<T> a, Dual<T> b)
    {
        var q = a.Primal / b.Primal;
        return new(q, (a.Tangent - q * b.Tangent) / b.Primal);
    }
    // Mixed with a plain scalar (so F#'s `2.0 * x` resolves; C# also gets these without a conversion).
    /// <summary>a + s.</summary>
    public static Dual<T> operator +(Dual<T> a, T s) => new(a.Primal + s, a.Tangent);
    /// <summary>s + a.</summary>
    public static Dual<T> operator +(T s, Dual<T> a) => new(s + a.Primal, a.Tangent);
    /// <summary>a - s.</summary>
    public static Dual<T> operator -(Dual<T> a, T s) => new(a.Primal - s, a.Tangent);
    /// <summary>s - a.</summary>
    public static Dual<T> operator -(T s, Dual<T> a) => new(s - a.Primal, -a.Tangent);
    /// <summary>a * s.</summary>
    public static Dual<T> operator *(Dual<T> a, T s) => new(a.Primal * s, a.Tangent * s);
    /// <summary>s * a.</summary>
    public static Dual<T> operator *(T s, Dual<T> a) => new(s * a.Primal, s * a.Tangent);
    /// <summary>a / s.</summary>
    public static Dual<T> operator /(Dual<T> a, T s) => new(a.Primal / s, a.Tangent / s);
    /// <summary>s / a.</summary>
    public static Dual<T> operator /(T s, Dual<T> a) => (Dual<T>)s / a;
    /// <summary>a mod b; derivative da - trunc(a/b)·db.</summary>
    public static Dual<T> operator %(Dual<T> a, Dual<T> b) =>
        new(a.Primal % b.Primal, a.Tangent - T.Truncate(a.Primal / b.Primal) * b.Tangent);
    /// <inheritdoc/>
    public static Dual<T> operator -(Dual<T> a) => new(-a.Primal, -a.Tangent);
    /// <inheritdoc/>
    public static Dual<T> operator +(Dual<T> a) => a;
    /// <inheritdoc/>
    public static Dual<T> operator ++(Dual<T> a) => new(a.Primal + T.One, a.Tangent);
    /// <inheritdoc/>
    public static Dual<T> operator --(Dual<T> a) => new(a.Primal - T.One, a.Tangent);

    // Comparisons and equality look at the primal only, so control flow follows the value.
    /// <inheritdoc/>
    public static bool operator ==(Dual<T> a, Dual<T> b) => a.Primal == b.Primal;
    /// <inheritdoc/>
    public static bool operator !=(Dual<T> a, Dual<T> b) => a.Primal != b.Primal;
    /// <inheritdoc/>
    public static bool operator <(Dual<T> a, Dual<T> b) => a.Primal < b.Primal;
    /// <inheritdoc/>
    public static bool operator >(Dual<T> a, Dual<T> b) => a.Primal > b.Primal;
    /// <inheritdoc/>
    public static bool operator <=(Dual<T> a, Dual<T> b) => a.Primal <= b.Primal;
    /// <inheritdoc/>
    public static bool operator >=(Dual<T> a, Dual<T> b) => a.Primal >= b.Primal;
    /// <inheritdoc/>
    public bool Equals(Dual<T> other) => Primal.Equals(other.Primal) && Tangent.Equals(other.Tangent);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Dual<T> d && Equals(d);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Primal, Tangent);
    /// <inheritdoc/>
    public int CompareTo(Dual<T> other) => Primal.CompareTo(other.Primal);
    /// <inheritdoc/>
    public int CompareTo(object? obj) => obj is Dual<T> d ? CompareTo(d) : obj is null ? 1 : throw new ArgumentException("Dual: can only compare with another Dual of the same type", nameof(obj));

    // Exponential and logarithmic functions.
    /// <inheritdoc/>
    public static Dual<T> Exp(Dual<T> x) => Unary<Ops.Exp>(x);
    /// <inheritdoc/>
    public static Dual<T> Exp2(Dual<T> x) { var e = T.Exp2(x.Primal); return Chain(e, e * T.Log(Two), x); }
    /// <inheritdoc/>
    public static Dual<T> Exp10(Dual<T> x) { var e = T.Exp10(x.Primal); return Chain(e, e * T.Log(T.CreateTruncating(10)), x); }
    /// <inheritdoc/>
    public static Dual<T> ExpM1(Dual<T> x) => Unary<Ops.Expm1>(x);
    /// <inheritdoc/>
    public static Dual<T> Log(Dual<T> x) => Unary<Ops.Log>(x);
    /// <inheritdoc/>
    public static Dual<T> Log(Dual<T> x, Dual<T> newBase) => Log(x) / Log(newBase);
    /// <inheritdoc/>
    public static Dual<T> Log2(Dual<T> x) => Chain(T.Log2(x.Primal), T.One / (x.Primal * T.Log(Two)), x);
    /// <inheritdoc/>
    public static Dual<T> Log10(Dual<T> x) => Chain(T.Log10(x.Primal), T.One / (x.Primal * T.Log(T.CreateTruncating(10))), x);
    /// <inheritdoc/>
    public static Dual<T> LogP1(Dual<T> x) => Unary<Ops.Log1p>(x);

    // Powers and roots.
    /// <summary>x^y; d = y x^(y-1) dx + x^y ln(x) dy (each term only when its tangent is not zero at every nesting
    /// level, so a constant exponent of a negative base gives no NaN from ln).</summary>
    public static Dual<T> Pow(Dual<T> x, Dual<T> y)
    {
        var v = T.Pow(x.Primal, y.Primal);
        // Equals, not IsZero: for a nested Dual, IsZero looks at the primal only and would drop a live tangent.
        var dx = x.Tangent.Equals(T.Zero) ? T.Zero : y.Primal * T.Pow(x.Primal, y.Primal - T.One) * x.Tangent;
        var dy = y.Tangent.Equals(T.Zero) ? T.Zero : v * T.Log(x.Primal) * y.Tangent;
        return new(v, dx + dy);
    }
    /// <inheritdoc/>
    public static Dual<T> Sqrt(Dual<T> x) => Unary<Ops.Sqrt>(x);
    /// <inheritdoc/>
    public static Dual<T> Cbrt(Dual<T> x) { var c = T.Cbrt(x.Primal); return Chain(c, T.One / (T.CreateTruncating(3) * c * c), x); }
    /// <inheritdoc/>
    public static Dual<T> Hypot(Dual<T> x, Dual<T> y) => Sqrt(x * x + y * y);
    /// <summary>The real n-th root (negative x for odd n, like T.RootN); d = dx / (n r^(n-1)).</summary>
    public static Dual<T> RootN(Dual<T> x, int n)
    {
        var r = T.RootN(x.Primal, n);
        return Chain(r, T.One / (T.CreateTruncating(n) * T.Pow(r, T.CreateTruncating(n - 1))), x);
    }

    // Trigonometric and hyperbolic functions.
    /// <inheritdoc/>
    public static Dual<T> Sin(Dual<T> x) => Unary<Ops.Sin>(x);
    /// <inheritdoc/>
    public static Dual<T> Cos(Dual<T> x) => Unary<Ops.Cos>(x);
    /// <inheritdoc/>
    public static Dual<T> Tan(Dual<T> x) => Unary<Ops.Tan>(x);
    /// <inheritdoc/>
    public static (Dual<T> Sin, Dual<T> Cos) SinCos(Dual<T> x) => (Sin(x), Cos(x));
    /// <inheritdoc/>
    public static Dual<T> SinPi(Dual<T> x) => Chain(T.SinPi(x.Primal), T.Pi * T.CosPi(x.Primal), x);
    /// <inheritdoc/>
    public static Dual<T> CosPi(Dual<T> x) => Chain(T.CosPi(x.Primal), -T.Pi * T.SinPi(x.Primal), x);
    /// <inheritdoc/>
    public static Dual<T> TanPi(Dual<T> x) { var t = T.TanPi(x.Primal); return Chain(t, T.Pi * (T.One + t * t), x); }
    /// <inheritdoc/>
    public static (Dual<T> SinPi, Dual<T> CosPi) SinCosPi(Dual<T> x) => (SinPi(x), CosPi(x));
    /// <inheritdoc/>
    public static Dual<T> Asin(Dual<T> x) => Unary<Ops.Asin>(x);
    /// <inheritdoc/>
    public static Dual<T> Acos(Dual<T> x) => Unary<Ops.Acos>(x);
    /// <inheritdoc/>
    public static Dual<T> Atan(Dual<T> x) => Unary<Ops.Atan>(x);
    /// <inheritdoc/>
    public static Dual<T> AsinPi(Dual<T> x) => Asin(x) / T.Pi;
    /// <inheritdoc/>
    public static Dual<T> AcosPi(Dual<T> x) => Acos(x) / T.Pi;
    /// <inheritdoc/>
    public static Dual<T> AtanPi(Dual<T> x) => Atan(x) / T.Pi;
    /// <summary>atan2(y, x); d = (x dy - y dx) / (x² + y²).</summary>
    public static Dual<T> Atan2(Dual<T> y, Dual<T> x)
    {
        var r2 = x.Primal * x.Primal + y.Primal * y.Primal;
        return new(T.Atan2(y.Primal, x.Primal), (x.Primal * y.Tangent - y.Primal * x.Tangent) / r2);
    }
    /// <inheritdoc/>
    public static Dual<T> Atan2Pi(Dual<T> y, Dual<T> x) => Atan2(y, x) / T.Pi;
    /// <inheritdoc/>
    public static Dual<T> Sinh(Dual<T> x) => Unary<Ops.Sinh>(x);
    /// <inheritdoc/>
    public static Dual<T> Cosh(Dual<T> x) => Unary<Ops.Cosh>(x);
    /// <inheritdoc/>
    public static Dual<T> Tanh(Dual<T> x) => Unary<Ops.Tanh>(x);
    /// <inheritdoc/>
    public static Dual<T> Asinh(Dual<T> x) => Chain(T.Asinh(x.Primal), T.One / T.Sqrt(x.Primal * x.Primal + T.One), x);
    /// <inheritdoc/>
    public static Dual<T> Acosh(Dual<T> x) => Chain(T.Acosh(x.Primal), T.One / T.Sqrt(x.Primal * x.Primal - T.One), x);
    /// <inheritdoc/>
    public static Dual<T> Atanh(Dual<T> x) => Chain(T.Atanh(x.Primal), T.One / (T.One - x.Primal * x.Primal), x);

    // Piecewise functions: derivative ±1 or 0 where defined (abs'(0) = 0, as the tensor rule).
    /// <summary>|x|; derivative sign(x), 0 at 0; NaN stays NaN.</summary>
    public static Dual<T> Abs(Dual<T> x) =>
        T.IsZero(x.Primal) ? new(T.Abs(x.Primal), T.Zero) : T.IsNegative(x.Primal) ? -x : x;
    /// <inheritdoc/>
    public static Dual<T> Floor(Dual<T> x) => new(T.Floor(x.Primal), T.Zero);
    /// <inheritdoc/>
    public static Dual<T> Ceiling(Dual<T> x) => new(T.Ceiling(x.Primal), T.Zero);
    /// <inheritdoc/>
    public static Dual<T> Truncate(Dual<T> x) => new(T.Truncate(x.Primal), T.Zero);
    /// <inheritdoc/>
    public static Dual<T> Round(Dual<T> x) => new(T.Round(x.Primal), T.Zero);
    /// <inheritdoc/>
    public static Dual<T> Round(Dual<T> x, int digits) => new(T.Round(x.Primal, digits), T.Zero);
    /// <inheritdoc/>
    public static Dual<T> Round(Dual<T> x, MidpointRounding mode) => new(T.Round(x.Primal, mode), T.Zero);
    /// <inheritdoc/>
    public static Dual<T> Round(Dual<T> x, int digits, MidpointRounding mode) => new(T.Round(x.Primal, digits, mode), T.Zero);
    /// <inheritdoc/>
    public static int Sign(Dual<T> x) => T.Sign(x.Primal);
    /// <inheritdoc/>
    public static Dual<T> CopySign(Dual<T> value, Dual<T> sign) =>
        T.IsNegative(value.Primal) == T.IsNegative(sign.Primal) ? value : -value;
    /// <summary>The larger operand, tangent included; a tie takes x's (the tensor maximum splits ties ½/½); NaN wins.</summary>
    public static Dual<T> Max(Dual<T> x, Dual<T> y) => T.IsNaN(x.Primal) ? x : T.IsNaN(y.Primal) ? y : x.Primal >= y.Primal ? x : y;
    /// <summary>The smaller operand, tangent included; a tie takes x's (the tensor minimum splits ties ½/½); NaN wins.</summary>
    public static Dual<T> Min(Dual<T> x, Dual<T> y) => T.IsNaN(x.Primal) ? x : T.IsNaN(y.Primal) ? y : x.Primal <= y.Primal ? x : y;
    /// <inheritdoc/>
    public static Dual<T> MaxNumber(Dual<T> x, Dual<T> y) => T.IsNaN(x.Primal) ? y : T.IsNaN(y.Primal) ? x : Max(x, y);
    /// <inheritdoc/>
    public static Dual<T> MinNumber(Dual<T> x, Dual<T> y) => T.IsNaN(x.Primal) ? y : T.IsNaN(y.Primal) ? x : Min(x, y);
    /// <inheritdoc/>
    public static Dual<T> MaxMagnitude(Dual<T> x, Dual<T> y) => T.Abs(x.Primal) >= T.Abs(y.Primal) ? x : y;
    /// <inheritdoc/>
    public static Dual<T> MinMagnitude(Dual<T> x, Dual<T> y) => T.Abs(x.Primal) <= T.Abs(y.Primal) ? x : y;
    /// <inheritdoc/>
    public static Dual<T> MaxMagnitudeNumber(Dual<T> x, Dual<T> y) => T.IsNaN(x.Primal) ? y : T.IsNaN(y.Primal) ? x : MaxMagnitude(x, y);
    /// <inheritdoc/>
    public static Dual<T> MinMagnitudeNumber(Dual<T> x, Dual<T> y) => T.IsNaN(x.Primal) ? y : T.IsNaN(y.Primal) ? x : MinMagnitude(x, y);
    /// <inheritdoc/>
    public static Dual<T> Clamp(Dual<T> value, Dual<T> min, Dual<T> max) => Min(Max(value, min), max);
    /// <inheritdoc/>
    public static Dual<T> FusedMultiplyAdd(Dual<T> left, Dual<T> right, Dual<T> addend) =>
        new(T.FusedMultiplyAdd(left.Primal, right.Primal, addend.Primal), left.Tangent * right.Primal + left.Primal * right.Tangent + addend.Tangent);
    /// <inheritdoc/>
    public static Dual<T> Ieee754Remainder(Dual<T> left, Dual<T> right) =>
        new(T.Ieee754Remainder(left.Primal, right.Primal), left.Tangent - T.Round(left.Primal / right.Primal) * right.Tangent);
    /// <inheritdoc/>
    public static Dual<T> ScaleB(Dual<T> x, int n) => new(T.ScaleB(x.Primal, n), T.ScaleB(x.Tangent, n));
    /// <inheritdoc/>
    public static int ILogB(Dual<T> x) => T.ILogB(x.Primal);
    /// <inheritdoc/>
    public static Dual<T> BitIncrement(Dual<T> x) => new(T.BitIncrement(x.Primal), x.Tangent);
    /// <inheritdoc/>
    public static Dual<T> BitDecrement(Dual<T> x) => new(T.BitDecrement(x.Primal), x.Tangent);
}
