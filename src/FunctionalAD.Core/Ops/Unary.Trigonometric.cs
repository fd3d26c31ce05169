namespace FunctionalAD.Ops
{
    // Circular and hyperbolic functions (radians).

    /// <summary>Sine; derivative cos x.</summary>
    public readonly struct Sin : IUnaryOp
    {
        string IUnaryOp.Name => "sin";
        OpDomain IUnaryOp.Domain => new(-3, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Sin(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Cos(x);
    }

    /// <summary>Cosine; derivative -sin x.</summary>
    public readonly struct Cos : IUnaryOp
    {
        string IUnaryOp.Name => "cos";
        OpDomain IUnaryOp.Domain => new(-3, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Cos(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Neg(m.Sin(x));
    }

    /// <summary>Tangent; derivative 1 + tan²x.</summary>
    public readonly struct Tan : IUnaryOp
    {
        string IUnaryOp.Name => "tan";
        OpDomain IUnaryOp.Domain => new(-1.2, 1.2, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Tan(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Add(m.Const(1), m.Mul(y, y));
    }

    /// <summary>Arcsine; derivative 1/√(1 - x²).</summary>
    public readonly struct Asin : IUnaryOp
    {
        string IUnaryOp.Name => "asin";
        OpDomain IUnaryOp.Domain => new(-0.9, 0.9, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Asin(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Rsqrt(m.Sub(m.Const(1), m.Mul(x, x)));
    }

    /// <summary>Arccosine; derivative -1/√(1 - x²).</summary>
    public readonly struct Acos : IUnaryOp
    {
        string IUnaryOp.Name => "acos";
        OpDomain IUnaryOp.Domain => new(-0.9, 0.9, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Acos(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Neg(m.Rsqrt(m.Sub(m.Const(1), m.Mul(x, x))));
    }

    /// <summary>Arctangent; derivative 1/(1 + x²).</summary>
    public readonly struct Atan : IUnaryOp
    {
        string IUnaryOp.Name => "atan";
        OpDomain IUnaryOp.Domain => new(-3, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Atan(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Div(m.Const(1), m.Add(m.Const(1), m.Mul(x, x)));
    }

    /// <summary>Hyperbolic sine; derivative cosh x.</summary>
    public readonly struct Sinh : IUnaryOp
    {
        string IUnaryOp.Name => "sinh";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Sinh(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Cosh(x);
    }

    /// <summary>Hyperbolic cosine; derivative sinh x.</summary>
    public readonly struct Cosh : IUnaryOp
    {
        string IUnaryOp.Name => "cosh";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Cosh(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Sinh(x);
    }

    /// <summary>Hyperbolic tangent; derivative 1 - tanh²x.</summary>
    public readonly struct Tanh : IUnaryOp
    {
        string IUnaryOp.Name => "tanh";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Tanh(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Sub(m.Const(1), m.Mul(y, y));
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>Sine (radians).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Sin() => Map<Ops.Sin>();
        /// <summary>Cosine (radians).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Cos() => Map<Ops.Cos>();
        /// <summary>Tangent (radians).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Tan() => Map<Ops.Tan>();
        /// <summary>Arcsine.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Asin() => Map<Ops.Asin>();
        /// <summary>Arccosine.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Acos() => Map<Ops.Acos>();
        /// <summary>Arctangent.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Atan() => Map<Ops.Atan>();
        /// <summary>Hyperbolic sine.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Sinh() => Map<Ops.Sinh>();
        /// <summary>Hyperbolic cosine.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Cosh() => Map<Ops.Cosh>();
        /// <summary>Hyperbolic tangent.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Tanh() => Map<Ops.Tanh>();
    }
}
