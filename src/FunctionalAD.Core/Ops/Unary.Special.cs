namespace FunctionalAD.Ops
{
    // Special functions (Special.cs holds their double-precision code; Float32 goes through double). Each derivative
    // is again an op of the set (erf' and erfinv' compose exp; lgamma' = digamma, digamma' = polygamma 1, polygamma n'
    // = polygamma n + 1), so every order is differentiable.

    /// <summary>The error function; derivative (2/√π)·e^(-x²).</summary>
    public readonly struct Erf : IUnaryOp
    {
        string IUnaryOp.Name => "erf";
        OpDomain IUnaryOp.Domain => new(-2, 2);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Erf(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Mul(m.Const(1.1283791670955126), m.Exp(m.Neg(m.Mul(x, x))));
    }

    /// <summary>1 - erf(x), accurate in the tail; derivative -(2/√π)·e^(-x²).</summary>
    public readonly struct Erfc : IUnaryOp
    {
        string IUnaryOp.Name => "erfc";
        OpDomain IUnaryOp.Domain => new(-2, 2);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Erfc(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Mul(m.Const(-1.1283791670955126), m.Exp(m.Neg(m.Mul(x, x))));
    }

    /// <summary>The inverse error function on [-1, 1] (±∞ at ±1, NaN outside); derivative (√π/2)·e^(y²).</summary>
    public readonly struct Erfinv : IUnaryOp
    {
        string IUnaryOp.Name => "erfinv";
        OpDomain IUnaryOp.Domain => new(-0.9, 0.9);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Erfinv(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Mul(m.Const(0.88622692545275801), m.Exp(m.Mul(y, y)));
    }

    /// <summary>log|Γ(x)| (+∞ at 0 and the negative integers); derivative digamma(x).</summary>
    public readonly struct Lgamma : IUnaryOp
    {
        string IUnaryOp.Name => "lgamma";
        OpDomain IUnaryOp.Domain => new(0.3, 4);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Lgamma(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Digamma(x);
    }

    /// <summary>The digamma function Γ'(x)/Γ(x) (-∞ at +0, NaN at the negative integers); derivative trigamma(x).</summary>
    public readonly struct Digamma : IUnaryOp
    {
        string IUnaryOp.Name => "digamma";
        OpDomain IUnaryOp.Domain => new(0.3, 4);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Digamma(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Polygamma<PolygammaOrder.One>(x);
    }

    /// <summary>The polygamma function ψ⁽ⁿ⁾(x), n ≥ 1 given by <typeparamref name="N"/>; derivative ψ⁽ⁿ⁺¹⁾(x). It is
    /// digamma's derivatives (the registry lists only closed op types, so its property tests run through digamma's
    /// higher orders and the tests of OpTests).</summary>
    public readonly struct Polygamma<N> : IUnaryOp where N : struct, IPolygammaOrder
    {
        string IUnaryOp.Name => "polygamma" + default(N).Order;
        OpDomain IUnaryOp.Domain => new(0.3, 4);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Polygamma<N>(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Polygamma<PolygammaOrder.Next<N>>(x);
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>The error function elementwise, as PyTorch's <c>erf</c>; integer input is converted to Float32.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Erf() => Map<Ops.Erf>();
        /// <summary>The complementary error function 1 - erf(x), accurate where erf is near 1 (PyTorch's <c>erfc</c>).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Erfc() => Map<Ops.Erfc>();
        /// <summary>The inverse error function (PyTorch's <c>erfinv</c>): ±∞ at ±1, NaN outside [-1, 1].</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Erfinv() => Map<Ops.Erfinv>();
        /// <summary>log|Γ(x)| elementwise (PyTorch's <c>lgamma</c>): +∞ at 0 and the negative integers.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Lgamma() => Map<Ops.Lgamma>();
        /// <summary>The digamma function Γ'(x)/Γ(x) (PyTorch's <c>digamma</c>): -∞ at 0, NaN at the negative integers;
        /// differentiable to every order (its derivatives are the polygamma functions).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Digamma() => Map<Ops.Digamma>();
    }
}
