namespace FunctionalAD.Ops
{
    // Base-2 and base-10 logarithms and the inverse hyperbolic functions. Each is a base function of IElementMath
    // (.NET and TensorPrimitives have them; the GPU uses XMath or Special): log(x)/ln 2 would miss exact powers of 2,
    // and log(x + √(x² + 1)) loses everything near 0 and overflows for large |x|.

    /// <summary>Base-2 logarithm (-∞ at 0, NaN below); derivative 1/(x·ln 2).</summary>
    public readonly struct Log2 : IUnaryOp
    {
        string IUnaryOp.Name => "log2";
        OpDomain IUnaryOp.Domain => new(0.2, 3);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Log2(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Div(m.Const(1.4426950408889634), x);
    }

    /// <summary>Base-10 logarithm (-∞ at 0, NaN below); derivative 1/(x·ln 10).</summary>
    public readonly struct Log10 : IUnaryOp
    {
        string IUnaryOp.Name => "log10";
        OpDomain IUnaryOp.Domain => new(0.2, 3);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Log10(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Div(m.Const(0.43429448190325182), x);
    }

    /// <summary>Inverse hyperbolic sine; derivative 1/√(x² + 1).</summary>
    public readonly struct Asinh : IUnaryOp
    {
        string IUnaryOp.Name => "asinh";
        OpDomain IUnaryOp.Domain => new(-3, 3);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Asinh(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Rsqrt(m.Add(m.Mul(x, x), m.Const(1)));
    }

    /// <summary>Inverse hyperbolic cosine (NaN below 1); derivative 1/√((x - 1)(x + 1)), +∞ at 1.</summary>
    public readonly struct Acosh : IUnaryOp
    {
        string IUnaryOp.Name => "acosh";
        OpDomain IUnaryOp.Domain => new(1.2, 3);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Acosh(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Rsqrt(m.Mul(m.Sub(x, m.Const(1)), m.Add(x, m.Const(1))));
    }

    /// <summary>Inverse hyperbolic tangent (±∞ at ±1, NaN beyond); derivative 1/((1 - x)(1 + x)).</summary>
    public readonly struct Atanh : IUnaryOp
    {
        string IUnaryOp.Name => "atanh";
        OpDomain IUnaryOp.Domain => new(-0.8, 0.8);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Atanh(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Div(m.Const(1), m.Mul(m.Sub(m.Const(1), x), m.Add(m.Const(1), x)));
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>Base-2 logarithm elementwise (exact at powers of 2); integer input is converted to Float32.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Log2() => Map<Ops.Log2>();
        /// <summary>Base-10 logarithm elementwise; integer input is converted to Float32.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Log10() => Map<Ops.Log10>();
        /// <summary>Inverse hyperbolic sine elementwise.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Asinh() => Map<Ops.Asinh>();
        /// <summary>Inverse hyperbolic cosine elementwise (NaN below 1).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Acosh() => Map<Ops.Acosh>();
        /// <summary>Inverse hyperbolic tangent elementwise (±∞ at ±1, NaN beyond).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Atanh() => Map<Ops.Atanh>();
        /// <summary>Base-10 logarithm of x (F#'s <c>log10</c> calls this).</summary>
        public static Tensor Log10(Tensor x) => x.Log10();
    }
}
