namespace FunctionalAD.Ops
{
    // Exponentials, logarithms and roots. sqrt'(0) = +inf.

    /// <summary>eˣ; derivative eˣ (= y).</summary>
    public readonly struct Exp : IUnaryOp
    {
        string IUnaryOp.Name => "exp";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Exp(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => y;
    }

    /// <summary>Natural logarithm (-inf at 0, NaN below); derivative 1/x.</summary>
    public readonly struct Log : IUnaryOp
    {
        string IUnaryOp.Name => "log";
        OpDomain IUnaryOp.Domain => new(0.2, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Log(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Div(m.Const(1), x);
    }

    /// <summary>log(1 + x), accurate near 0; derivative 1/(1 + x).</summary>
    public readonly struct Log1p : IUnaryOp
    {
        string IUnaryOp.Name => "log1p";
        OpDomain IUnaryOp.Domain => new(-0.5, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Log1p(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Div(m.Const(1), m.Add(x, m.Const(1)));
    }

    /// <summary>eˣ - 1, accurate near 0; derivative eˣ (= y + 1).</summary>
    public readonly struct Expm1 : IUnaryOp
    {
        string IUnaryOp.Name => "expm1";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Expm1(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Add(y, m.Const(1));
    }

    /// <summary>√x; derivative 1/(2√x), +inf at 0.</summary>
    public readonly struct Sqrt : IUnaryOp
    {
        string IUnaryOp.Name => "sqrt";
        OpDomain IUnaryOp.Domain => new(0.2, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Sqrt(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Div(m.Const(0.5), y);
    }

    /// <summary>1/√x; derivative -y³/2.</summary>
    public readonly struct Rsqrt : IUnaryOp
    {
        string IUnaryOp.Name => "rsqrt";
        OpDomain IUnaryOp.Domain => new(0.2, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Rsqrt(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Mul(m.Const(-0.5), m.Mul(y, m.Mul(y, y)));
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>eˣ elementwise.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Exp() => Map<Ops.Exp>();
        /// <summary>Natural logarithm elementwise (-inf at 0, NaN below).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Log() => Map<Ops.Log>();
        /// <summary>log(1 + x), accurate near 0.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Log1p() => Map<Ops.Log1p>();
        /// <summary>eˣ - 1, accurate near 0.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Expm1() => Map<Ops.Expm1>();
        /// <summary>√x; the derivative at 0 is +inf.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Sqrt() => Map<Ops.Sqrt>();
        /// <summary>1/√x.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Rsqrt() => Map<Ops.Rsqrt>();
    }
}
