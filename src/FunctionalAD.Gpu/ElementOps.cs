using FunctionalAD.Ops;
using ILGPU.Algorithms;

namespace FunctionalAD.Gpu;

/// <summary>
/// The element-level arithmetic of one element type that the layout, cast, compare and reduction kernels need, as a
/// struct so that generic kernels are specialised per type without virtual calls (the TensorPrimitives operator
/// pattern). The floating-point types also implement <see cref="IElementMath{T}"/> with ILGPU's XMath, and integers
/// use <see cref="GpuIntegerMath{T, TOps}"/>: that is what the elementwise kernels evaluate an op's formula in; the
/// host checks that an op accepts the dtype before launching.
/// </summary>
internal interface IElementOps<T> where T : unmanaged
{
    T Zero { get; }
    T One { get; }
    T Add(T a, T b);
    T Mul(T a, T b);
    bool Less(T a, T b);
    bool Equal(T a, T b);
    bool IsNaN(T a);
    bool IsZero(T a);
    double ToDouble(T a);
    long ToLong(T a);
    T FromDouble(double v);
    T FromLong(long v);
}

/// <summary>Float32 elements. Every function is evaluated in double precision and rounded once: on CUDA the
/// single-precision sin/cos/tan lower to approximations whose error grows with |x| (no full range reduction), and
/// XMath has no single-precision log1p/expm1.</summary>
internal readonly struct Float32Ops : IElementOps<float>, IElementMath<float>
{
    public float Zero => 0f;
    public float One => 1f;
    public float Add(float a, float b) => a + b;
    public float Mul(float a, float b) => a * b;
    public bool Less(float a, float b) => a < b;
    public bool Equal(float a, float b) => a == b;
    public bool IsNaN(float a) => XMath.IsNaN(a);
    public bool IsZero(float a) => a == 0f;
    public double ToDouble(float a) => a;
    public long ToLong(float a) => (long)a;
    public float FromDouble(double v) => (float)v;
    public float FromLong(long v) => v;

    static Float64Ops D => default;
    public float Const(double value) => (float)value;
    public float Sub(float a, float b) => a - b;
    public float Div(float a, float b) => a / b;
    public float Neg(float a) => -a;
    public float Abs(float a) => XMath.Abs(a);
    public float Sign(float a) => XMath.IsNaN(a) ? a : a > 0f ? 1f : a < 0f ? -1f : 0f;
    public float Positive(float a) => a > 0f ? 1f : 0f;
    public float Max(float a, float b) => XMath.IsNaN(a) ? a : XMath.IsNaN(b) ? b : a > b ? a : b;
    public float Min(float a, float b) => XMath.IsNaN(a) ? a : XMath.IsNaN(b) ? b : a < b ? a : b;
    public float GreaterShare(float a, float b) => a > b ? 1f : a == b ? 0.5f : 0f;
    public float Pow(float a, float b) => (float)D.Pow(a, b);
    public float Atan2(float a, float b) => (float)D.Atan2(a, b);
    public float Exp(float a) => (float)D.Exp(a);
    public float Log(float a) => (float)D.Log(a);
    public float Log1p(float a) => (float)D.Log1p(a);
    public float Expm1(float a) => (float)D.Expm1(a);
    public float Sqrt(float a) => XMath.Sqrt(a);
    public float Rsqrt(float a) => (float)D.Rsqrt(a);
    public float Sin(float a) => (float)D.Sin(a);
    public float Cos(float a) => (float)D.Cos(a);
    public float Tan(float a) => (float)D.Tan(a);
    public float Asin(float a) => (float)D.Asin(a);
    public float Acos(float a) => (float)D.Acos(a);
    public float Atan(float a) => (float)D.Atan(a);
    public float Sinh(float a) => (float)D.Sinh(a);
    public float Cosh(float a) => (float)D.Cosh(a);
    public float Tanh(float a) => (float)D.Tanh(a);
    public float Sigmoid(float a) => (float)D.Sigmoid(a);
    public float Floor(float a) => XMath.Floor(a);
    public float Ceil(float a) => XMath.Ceiling(a);
    public float Round(float a) => XMath.RoundToEven(a);
    public float IfPositive(float c, float a, float b) => c > 0f ? a : b;
    public float Hypot(float a, float b) => (float)Special.Hypot(a, b);
    public float Fmod(float a, float b) => (float)XMath.Rem((double)a, b);
    public float Log2(float a) => (float)XMath.Log2((double)a);
    public float Log10(float a) => (float)XMath.Log10((double)a);
    public float Asinh(float a) => (float)Special.Asinh(a);
    public float Acosh(float a) => (float)Special.Acosh(a);
    public float Atanh(float a) => (float)Special.Atanh(a);
    public float Erf(float a) => (float)Special.Erf(a);
    public float Erfc(float a) => (float)Special.Erfc(a);
    public float Erfinv(float a) => (float)Special.Erfinv(a);
    public float Lgamma(float a) => (float)Special.Lgamma(a);
    public float Digamma(float a) => (float)Special.Digamma(a);
    public float Polygamma<N>(float a) where N : struct, IPolygammaOrder => (float)Special.Polygamma(default(N).Order, a);
}

/// <summary>Float64 elements.</summary>
internal readonly struct Float64Ops : IElementOps<double>, IElementMath<double>
{
    public double Zero => 0.0;
    public double One => 1.0;
    public double Add(double a, double b) => a + b;
    public double Mul(double a, double b) => a * b;
    public bool Less(double a, double b) => a < b;
    public bool Equal(double a, double b) => a == b;
    public bool IsNaN(double a) => XMath.IsNaN(a);
    public bool IsZero(double a) => a == 0.0;
    public double ToDouble(double a) => a;
    public long ToLong(double a) => (long)a;
    public double FromDouble(double v) => v;
    public double FromLong(long v) => v;

    // log1p and expm1 are not in XMath; Kahan's corrections keep full precision near 0.
    public double Log1p(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : XMath.Log(u) * x / (u - 1.0);
    }

    public double Expm1(double x)
    {
        if (XMath.Abs(x) > 0.5) return XMath.Exp(x) - 1.0;
        double u = XMath.Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        return um1 == -1.0 ? -1.0 : um1 * x / XMath.Log(u);
    }

    public double Const(double value) => value;
    public double Sub(double a, double b) => a - b;
    public double Div(double a, double b) => a / b;
    public double Neg(double a) => -a;
    public double Abs(double a) => XMath.Abs(a);
    public double Sign(double a) => XMath.IsNaN(a) ? a : a > 0.0 ? 1.0 : a < 0.0 ? -1.0 : 0.0;
    public double Positive(double a) => a > 0.0 ? 1.0 : 0.0;
    public double Max(double a, double b) => XMath.IsNaN(a) ? a : XMath.IsNaN(b) ? b : a > b ? a : b;
    public double Min(double a, double b) => XMath.IsNaN(a) ? a : XMath.IsNaN(b) ? b : a < b ? a : b;
    public double GreaterShare(double a, double b) => a > b ? 1.0 : a == b ? 0.5 : 0.0;
    public double Pow(double a, double b) => XMath.Pow(a, b);
    public double Atan2(double a, double b) => XMath.Atan2(a, b);
    public double Exp(double a) => XMath.Exp(a);
    public double Log(double a) => XMath.Log(a);
    public double Sqrt(double a) => XMath.Sqrt(a);
    public double Rsqrt(double a) => 1.0 / XMath.Sqrt(a);
    public double Sin(double a) => XMath.Sin(a);
    public double Cos(double a) => XMath.Cos(a);
    public double Tan(double a) => XMath.Tan(a);
    public double Asin(double a) => XMath.Asin(a);
    public double Acos(double a) => XMath.Acos(a);
    public double Atan(double a) => XMath.Atan(a);
    public double Sinh(double a) => XMath.Sinh(a);
    public double Cosh(double a) => XMath.Cosh(a);
    public double Tanh(double a) => XMath.Tanh(a);
    public double Sigmoid(double a) => 1.0 / (1.0 + XMath.Exp(-a));
    public double Floor(double a) => XMath.Floor(a);
    public double Ceil(double a) => XMath.Ceiling(a);
    public double Round(double a) => XMath.RoundToEven(a);
    public double IfPositive(double c, double a, double b) => c > 0.0 ? a : b;
    public double Hypot(double a, double b) => Special.Hypot(a, b);
    public double Fmod(double a, double b) => XMath.Rem(a, b);
    public double Log2(double a) => XMath.Log2(a);
    public double Log10(double a) => XMath.Log10(a);
    public double Asinh(double a) => Special.Asinh(a);
    public double Acosh(double a) => Special.Acosh(a);
    public double Atanh(double a) => Special.Atanh(a);
    public double Erf(double a) => Special.Erf(a);
    public double Erfc(double a) => Special.Erfc(a);
    public double Erfinv(double a) => Special.Erfinv(a);
    public double Lgamma(double a) => Special.Lgamma(a);
    public double Digamma(double a) => Special.Digamma(a);
    public double Polygamma<N>(double a) where N : struct, IPolygammaOrder => Special.Polygamma(default(N).Order, a);
}

/// <summary>Int32 elements.</summary>
internal readonly struct Int32Ops : IElementOps<int>
{
    public int Zero => 0;
    public int One => 1;
    public int Add(int a, int b) => a + b;
    public int Mul(int a, int b) => a * b;
    public bool Less(int a, int b) => a < b;
    public bool Equal(int a, int b) => a == b;
    public bool IsNaN(int a) => false;
    public bool IsZero(int a) => a == 0;
    public double ToDouble(int a) => a;
    public long ToLong(int a) => a;
    public int FromDouble(double v) => (int)v;
    public int FromLong(long v) => (int)v;
}

/// <summary>Int64 elements.</summary>
internal readonly struct Int64Ops : IElementOps<long>
{
    public long Zero => 0L;
    public long One => 1L;
    public long Add(long a, long b) => a + b;
    public long Mul(long a, long b) => a * b;
    public bool Less(long a, long b) => a < b;
    public bool Equal(long a, long b) => a == b;
    public bool IsNaN(long a) => false;
    public bool IsZero(long a) => a == 0L;
    public double ToDouble(long a) => a;
    public long ToLong(long a) => a;
    public long FromDouble(double v) => (long)v;
    public long FromLong(long v) => v;
}

/// <summary>
/// <see cref="IElementMath{T}"/> for the integer dtypes, written once over their <see cref="IElementOps{T}"/>: the
/// arithmetic of the ops that accept integers (wrapping like C#). The floating-point functions are never launched on
/// integers (the host refuses them), and kernels cannot throw, so they return 0; so does a division by zero.
/// </summary>
internal readonly struct GpuIntegerMath<T, TOps> : IElementMath<T> where T : unmanaged where TOps : struct, IElementOps<T>
{
    static TOps O => default;

    public T Const(double value) => O.FromDouble(value);
    public T Add(T a, T b) => O.Add(a, b);
    public T Sub(T a, T b) => O.Add(a, Neg(b));
    public T Mul(T a, T b) => O.Mul(a, b);
    public T Div(T a, T b) => O.IsZero(b) ? O.Zero : O.FromLong(O.ToLong(a) / O.ToLong(b));
    public T Neg(T a) => O.Mul(O.FromLong(-1), a);
    public T Abs(T a) => O.Less(a, O.Zero) ? Neg(a) : a;
    public T Sign(T a) => O.Less(O.Zero, a) ? O.One : O.Less(a, O.Zero) ? O.FromLong(-1) : O.Zero;
    public T Positive(T a) => O.Less(O.Zero, a) ? O.One : O.Zero;
    public T Max(T a, T b) => O.Less(b, a) ? a : b;
    public T Min(T a, T b) => O.Less(a, b) ? a : b;
    public T GreaterShare(T a, T b) => O.Zero;
    public T Pow(T a, T b) => O.Zero;
    public T Atan2(T a, T b) => O.Zero;
    public T Exp(T a) => O.Zero;
    public T Log(T a) => O.Zero;
    public T Log1p(T a) => O.Zero;
    public T Expm1(T a) => O.Zero;
    public T Sqrt(T a) => O.Zero;
    public T Rsqrt(T a) => O.Zero;
    public T Sin(T a) => O.Zero;
    public T Cos(T a) => O.Zero;
    public T Tan(T a) => O.Zero;
    public T Asin(T a) => O.Zero;
    public T Acos(T a) => O.Zero;
    public T Atan(T a) => O.Zero;
    public T Sinh(T a) => O.Zero;
    public T Cosh(T a) => O.Zero;
    public T Tanh(T a) => O.Zero;
    public T Sigmoid(T a) => O.Zero;
    public T Floor(T a) => a;
    public T Ceil(T a) => a;
    public T Round(T a) => a;
    public T IfPositive(T c, T a, T b) => O.Less(O.Zero, c) ? a : b;
    public T Hypot(T a, T b) => O.Zero;
    public T Fmod(T a, T b) => O.Zero;
    public T Log2(T a) => O.Zero;
    public T Log10(T a) => O.Zero;
    public T Asinh(T a) => O.Zero;
    public T Acosh(T a) => O.Zero;
    public T Atanh(T a) => O.Zero;
    public T Erf(T a) => O.Zero;
    public T Erfc(T a) => O.Zero;
    public T Erfinv(T a) => O.Zero;
    public T Lgamma(T a) => O.Zero;
    public T Digamma(T a) => O.Zero;
    public T Polygamma<N>(T a) where N : struct, IPolygammaOrder => O.Zero;
}

/// <summary>Bool as a byte (0 or 1): comparisons, casts and where; no arithmetic (the host refuses it).</summary>
internal readonly struct BoolOps : IElementOps<byte>
{
    public byte Zero => 0;
    public byte One => 1;
    public byte Add(byte a, byte b) => (byte)(a | b);
    public byte Mul(byte a, byte b) => (byte)(a & b);
    public bool Less(byte a, byte b) => a < b;
    public bool Equal(byte a, byte b) => a == b;
    public bool IsNaN(byte a) => false;
    public bool IsZero(byte a) => a == 0;
    public double ToDouble(byte a) => a;
    public long ToLong(byte a) => a;
    public byte FromDouble(double v) => v != 0.0 ? (byte)1 : (byte)0;
    public byte FromLong(long v) => v != 0L ? (byte)1 : (byte)0;
}
