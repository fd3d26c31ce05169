using FunctionalAD.Backends;
using ILGPU.Algorithms;

namespace FunctionalAD.Gpu;

/// <summary>
/// The arithmetic of one element type, as a struct so that generic kernels are specialised per type without
/// virtual calls (the TensorPrimitives operator pattern). Op codes are the <see cref="UnaryOp"/>/<see cref="BinaryOp"/> values;
/// the host checks that an op is defined for the type before launching.
/// </summary>
internal interface IElementOps<T> where T : unmanaged
{
    T Zero { get; }
    T One { get; }
    T Add(T a, T b);
    T Mul(T a, T b);
    T Unary(int op, T x);
    T Binary(int op, T a, T b);
    bool Less(T a, T b);
    bool Equal(T a, T b);
    bool IsNaN(T a);
    bool IsZero(T a);
    double ToDouble(T a);
    long ToLong(T a);
    T FromDouble(double v);
    T FromLong(long v);
}

internal readonly struct Float32Ops : IElementOps<float>
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

    public float Unary(int op, float x)
    {
        switch ((UnaryOp)op)
        {
            case UnaryOp.Neg: return -x;
            case UnaryOp.Abs: return XMath.Abs(x);
            case UnaryOp.Sign: return XMath.IsNaN(x) ? x : x > 0f ? 1f : x < 0f ? -1f : 0f;
            case UnaryOp.Exp: return XMath.Exp(x);
            case UnaryOp.Log: return XMath.Log(x);
            case UnaryOp.Log1p: return (float)Float64Ops.Log1p(x);
            case UnaryOp.Expm1: return (float)Float64Ops.Expm1(x);
            case UnaryOp.Sqrt: return XMath.Sqrt(x);
            case UnaryOp.Rsqrt: return 1f / XMath.Sqrt(x);
            // On CUDA the single-precision sin/cos lower to sin.approx/cos.approx, whose error grows with |x|
            // (no full range reduction); the double-precision path is accurate everywhere.
            case UnaryOp.Sin: return (float)XMath.Sin((double)x);
            case UnaryOp.Cos: return (float)XMath.Cos((double)x);
            case UnaryOp.Tan: return (float)XMath.Tan((double)x);
            case UnaryOp.Asin: return XMath.Asin(x);
            case UnaryOp.Acos: return XMath.Acos(x);
            case UnaryOp.Atan: return XMath.Atan(x);
            case UnaryOp.Sinh: return XMath.Sinh(x);
            case UnaryOp.Cosh: return XMath.Cosh(x);
            case UnaryOp.Tanh: return XMath.Tanh(x);
            case UnaryOp.Sigmoid: return 1f / (1f + XMath.Exp(-x));
            case UnaryOp.Relu: return XMath.IsNaN(x) ? x : x > 0f ? x : 0f;
            case UnaryOp.Softplus: return (x > 0f ? x : 0f) + (float)Float64Ops.Log1p(XMath.Exp(-XMath.Abs(x)));
            case UnaryOp.Square: return x * x;
            case UnaryOp.Floor: return XMath.Floor(x);
            case UnaryOp.Ceil: return XMath.Ceiling(x);
            case UnaryOp.Round: return XMath.RoundToEven(x);
            default: return float.NaN; // every op is listed above; kernels cannot throw
        }
    }

    public float Binary(int op, float a, float b)
    {
        switch ((BinaryOp)op)
        {
            case BinaryOp.Add: return a + b;
            case BinaryOp.Sub: return a - b;
            case BinaryOp.Mul: return a * b;
            case BinaryOp.Div: return a / b;
            case BinaryOp.Pow: return XMath.Pow(a, b);
            case BinaryOp.Atan2: return XMath.Atan2(a, b);
            case BinaryOp.Max: return XMath.IsNaN(a) ? a : XMath.IsNaN(b) ? b : a > b ? a : b;
            case BinaryOp.Min: return XMath.IsNaN(a) ? a : XMath.IsNaN(b) ? b : a < b ? a : b;
            default: return float.NaN; // every op is listed above; kernels cannot throw
        }
    }
}

internal readonly struct Float64Ops : IElementOps<double>
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
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : XMath.Log(u) * x / (u - 1.0);
    }

    public static double Expm1(double x)
    {
        if (XMath.Abs(x) > 0.5) return XMath.Exp(x) - 1.0;
        double u = XMath.Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        return um1 == -1.0 ? -1.0 : um1 * x / XMath.Log(u);
    }

    public double Unary(int op, double x)
    {
        switch ((UnaryOp)op)
        {
            case UnaryOp.Neg: return -x;
            case UnaryOp.Abs: return XMath.Abs(x);
            case UnaryOp.Sign: return XMath.IsNaN(x) ? x : x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0;
            case UnaryOp.Exp: return XMath.Exp(x);
            case UnaryOp.Log: return XMath.Log(x);
            case UnaryOp.Log1p: return Log1p(x);
            case UnaryOp.Expm1: return Expm1(x);
            case UnaryOp.Sqrt: return XMath.Sqrt(x);
            case UnaryOp.Rsqrt: return 1.0 / XMath.Sqrt(x);
            case UnaryOp.Sin: return XMath.Sin(x);
            case UnaryOp.Cos: return XMath.Cos(x);
            case UnaryOp.Tan: return XMath.Tan(x);
            case UnaryOp.Asin: return XMath.Asin(x);
            case UnaryOp.Acos: return XMath.Acos(x);
            case UnaryOp.Atan: return XMath.Atan(x);
            case UnaryOp.Sinh: return XMath.Sinh(x);
            case UnaryOp.Cosh: return XMath.Cosh(x);
            case UnaryOp.Tanh: return XMath.Tanh(x);
            case UnaryOp.Sigmoid: return 1.0 / (1.0 + XMath.Exp(-x));
            case UnaryOp.Relu: return XMath.IsNaN(x) ? x : x > 0.0 ? x : 0.0;
            case UnaryOp.Softplus: return (x > 0.0 ? x : 0.0) + Log1p(XMath.Exp(-XMath.Abs(x)));
            case UnaryOp.Square: return x * x;
            case UnaryOp.Floor: return XMath.Floor(x);
            case UnaryOp.Ceil: return XMath.Ceiling(x);
            case UnaryOp.Round: return XMath.RoundToEven(x);
            default: return double.NaN; // every op is listed above; kernels cannot throw
        }
    }

    public double Binary(int op, double a, double b)
    {
        switch ((BinaryOp)op)
        {
            case BinaryOp.Add: return a + b;
            case BinaryOp.Sub: return a - b;
            case BinaryOp.Mul: return a * b;
            case BinaryOp.Div: return a / b;
            case BinaryOp.Pow: return XMath.Pow(a, b);
            case BinaryOp.Atan2: return XMath.Atan2(a, b);
            case BinaryOp.Max: return XMath.IsNaN(a) ? a : XMath.IsNaN(b) ? b : a > b ? a : b;
            case BinaryOp.Min: return XMath.IsNaN(a) ? a : XMath.IsNaN(b) ? b : a < b ? a : b;
            default: return double.NaN; // every op is listed above; kernels cannot throw
        }
    }
}

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

    public int Unary(int op, int x) => (UnaryOp)op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Abs => x < 0 ? -x : x,
        _ => x > 0 ? 1 : x < 0 ? -1 : 0,
    };

    public int Binary(int op, int a, int b) => (BinaryOp)op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => b == 0 ? 0 : a / b,
        BinaryOp.Max => a > b ? a : b,
        _ => a < b ? a : b,
    };
}

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

    public long Unary(int op, long x) => (UnaryOp)op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Abs => x < 0 ? -x : x,
        _ => x > 0 ? 1L : x < 0 ? -1L : 0L,
    };

    public long Binary(int op, long a, long b) => (BinaryOp)op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => b == 0 ? 0 : a / b,
        BinaryOp.Max => a > b ? a : b,
        _ => a < b ? a : b,
    };
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
    public byte Unary(int op, byte x) => x;
    public byte Binary(int op, byte a, byte b) => a;
}
