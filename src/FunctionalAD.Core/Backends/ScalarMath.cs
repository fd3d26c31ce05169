using System.Numerics;
using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

/// <summary>
/// <see cref="IElementMath{T}"/> on one value of a .NET floating-point type with its own generic math: the CPU's path
/// for one-element tensors (where a vector pass costs more than the element), the scalar reference of the vectorised
/// path, and <see cref="Dual{T}"/>'s elementary functions (T may itself be a Dual).
/// </summary>
internal readonly struct ScalarMath<T> : IElementMath<T> where T : IFloatingPointIeee754<T>
{
    static readonly T Half = T.CreateTruncating(0.5);

    public T Const(double value) => T.CreateTruncating(value);
    public T Add(T a, T b) => a + b;
    public T Sub(T a, T b) => a - b;
    public T Mul(T a, T b) => a * b;
    public T Div(T a, T b) => a / b;
    public T Neg(T a) => -a;
    public T Abs(T a) => T.Abs(a);
    public T Sign(T a) => T.IsNaN(a) ? a : T.CreateTruncating(T.Sign(a));
    public T Positive(T a) => a > T.Zero ? T.One : T.Zero;
    public T Max(T a, T b) => T.Max(a, b);
    public T Min(T a, T b) => T.Min(a, b);
    public T GreaterShare(T a, T b) => a > b ? T.One : a == b ? Half : T.Zero;
    public T Pow(T a, T b) => T.Pow(a, b);
    public T Atan2(T a, T b) => T.Atan2(a, b);
    public T Exp(T a) => T.Exp(a);
    public T Log(T a) => T.Log(a);
    public T Log1p(T a) => T.LogP1(a);
    public T Expm1(T a) => T.ExpM1(a);
    public T Sqrt(T a) => T.Sqrt(a);
    public T Rsqrt(T a) => T.One / T.Sqrt(a);
    public T Sin(T a) => T.Sin(a);
    public T Cos(T a) => T.Cos(a);
    public T Tan(T a) => T.Tan(a);
    public T Asin(T a) => T.Asin(a);
    public T Acos(T a) => T.Acos(a);
    public T Atan(T a) => T.Atan(a);
    public T Sinh(T a) => T.Sinh(a);
    public T Cosh(T a) => T.Cosh(a);
    public T Tanh(T a) => T.Tanh(a);
    public T Sigmoid(T a) => T.One / (T.One + T.Exp(-a));
    public T Floor(T a) => T.Floor(a);
    public T Ceil(T a) => T.Ceiling(a);
    public T Round(T a) => T.Round(a);
    public T IfPositive(T c, T a, T b) => c > T.Zero ? a : b;
    public T Hypot(T a, T b) => T.Hypot(a, b);
    public T Fmod(T a, T b) => a % b;
    public T Log2(T a) => T.Log2(a);
    public T Log10(T a) => T.Log10(a);
    public T Asinh(T a) => T.Asinh(a);
    public T Acosh(T a) => T.Acosh(a);
    public T Atanh(T a) => T.Atanh(a);
    // The special functions are computed in double (Special): T is float or double for them (Dual has no erf).
    static double D(T a) => double.CreateTruncating(a);
    public T Erf(T a) => T.CreateTruncating(Special.Erf(D(a)));
    public T Erfc(T a) => T.CreateTruncating(Special.Erfc(D(a)));
    public T Erfinv(T a) => T.CreateTruncating(Special.Erfinv(D(a)));
    public T Lgamma(T a) => T.CreateTruncating(Special.Lgamma(D(a)));
    public T Digamma(T a) => T.CreateTruncating(Special.Digamma(D(a)));
    public T Polygamma<N>(T a) where N : struct, IPolygammaOrder => T.CreateTruncating(Special.Polygamma(default(N).Order, D(a)));
}

/// <summary>
/// <see cref="IElementMath{T}"/> on Int32/Int64 elements, for the ops that accept integers (neg, abs, sign, square,
/// add, sub, mul, maximum, minimum). Arithmetic wraps like a C# unchecked cast (|int.MinValue| is int.MinValue, as in
/// PyTorch); the floating-point functions are never reached (those ops convert integers to Float32 first).
/// </summary>
internal readonly struct IntegerMath<T> : IElementMath<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    static InvalidOperationException NotInteger(string f) => new($"{f} is not defined on integer elements; the op converts integers to Float32 first");

    public T Const(double value) => T.CreateTruncating(value);
    public T Add(T a, T b) => unchecked(a + b);
    public T Sub(T a, T b) => unchecked(a - b);
    public T Mul(T a, T b) => unchecked(a * b);
    public T Div(T a, T b) => throw NotInteger("div");
    public T Neg(T a) => unchecked(-a);
    public T Abs(T a) => a < T.Zero ? unchecked(-a) : a;
    public T Sign(T a) => a > T.Zero ? T.One : a < T.Zero ? T.NegativeOne : T.Zero;
    public T Positive(T a) => a > T.Zero ? T.One : T.Zero;
    public T Max(T a, T b) => a > b ? a : b;
    public T Min(T a, T b) => a < b ? a : b;
    public T GreaterShare(T a, T b) => throw NotInteger("greaterShare");
    public T Pow(T a, T b) => throw NotInteger("pow");
    public T Atan2(T a, T b) => throw NotInteger("atan2");
    public T Exp(T a) => throw NotInteger("exp");
    public T Log(T a) => throw NotInteger("log");
    public T Log1p(T a) => throw NotInteger("log1p");
    public T Expm1(T a) => throw NotInteger("expm1");
    public T Sqrt(T a) => throw NotInteger("sqrt");
    public T Rsqrt(T a) => throw NotInteger("rsqrt");
    public T Sin(T a) => throw NotInteger("sin");
    public T Cos(T a) => throw NotInteger("cos");
    public T Tan(T a) => throw NotInteger("tan");
    public T Asin(T a) => throw NotInteger("asin");
    public T Acos(T a) => throw NotInteger("acos");
    public T Atan(T a) => throw NotInteger("atan");
    public T Sinh(T a) => throw NotInteger("sinh");
    public T Cosh(T a) => throw NotInteger("cosh");
    public T Tanh(T a) => throw NotInteger("tanh");
    public T Sigmoid(T a) => throw NotInteger("sigmoid");
    public T Floor(T a) => a;
    public T Ceil(T a) => a;
    public T Round(T a) => a;
    public T IfPositive(T c, T a, T b) => c > T.Zero ? a : b;
    public T Hypot(T a, T b) => throw NotInteger("hypot");
    public T Fmod(T a, T b) => throw NotInteger("fmod");
    public T Log2(T a) => throw NotInteger("log2");
    public T Log10(T a) => throw NotInteger("log10");
    public T Asinh(T a) => throw NotInteger("asinh");
    public T Acosh(T a) => throw NotInteger("acosh");
    public T Atanh(T a) => throw NotInteger("atanh");
    public T Erf(T a) => throw NotInteger("erf");
    public T Erfc(T a) => throw NotInteger("erfc");
    public T Erfinv(T a) => throw NotInteger("erfinv");
    public T Lgamma(T a) => throw NotInteger("lgamma");
    public T Digamma(T a) => throw NotInteger("digamma");
    public T Polygamma<N>(T a) where N : struct, IPolygammaOrder => throw NotInteger("polygamma");
}
