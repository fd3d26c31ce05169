namespace FunctionalAD.Ops
{
    // Activation functions. relu'(0) = 0.

    /// <summary>Logistic sigmoid 1/(1 + e⁻ˣ); derivative y(1 - y).</summary>
    public readonly struct Sigmoid : IUnaryOp
    {
        string IUnaryOp.Name => "sigmoid";
        OpDomain IUnaryOp.Domain => new(-3, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Sigmoid(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Mul(y, m.Sub(m.Const(1), y));
    }

    /// <summary>max(x, 0) (NaN stays NaN); derivative 1 for x &gt; 0, else 0.</summary>
    public readonly struct Relu : IUnaryOp
    {
        string IUnaryOp.Name => "relu";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0.1, false);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Max(x, m.Const(0));
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Positive(x);
    }

    /// <summary>log(1 + eˣ), as max(x, 0) + log1p(e^-|x|) so that no x overflows; derivative sigmoid x.</summary>
    public readonly struct Softplus : IUnaryOp
    {
        string IUnaryOp.Name => "softplus";
        OpDomain IUnaryOp.Domain => new(-3, 3, 0, true);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Add(m.Max(x, m.Const(0)), m.Log1p(m.Exp(m.Neg(m.Abs(x)))));
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Sigmoid(x);
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>1 / (1 + e⁻ˣ).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Sigmoid() => Map<Ops.Sigmoid>();
        /// <summary>max(x, 0); derivative 0 at 0.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Relu() => Map<Ops.Relu>();
        /// <summary>log(1 + eˣ), computed without overflow.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Softplus() => Map<Ops.Softplus>();
    }
}
