namespace FunctionalAD.Ops
{
    /// <summary>SiLU (swish): x·σ(x); derivative σ(x)·(1 + x·(1 - σ(x))).</summary>
    public readonly struct Silu : IUnaryOp
    {
        string IUnaryOp.Name => "silu";
        OpDomain IUnaryOp.Domain => new(-4, 4);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Mul(x, m.Sigmoid(x));
        T IUnaryOp.Derivative<T, M>(M m, T x, T y)
        {
            var s = m.Sigmoid(x);
            return m.Mul(s, m.Add(m.Const(1), m.Mul(x, m.Sub(m.Const(1), s))));
        }
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>SiLU (swish) x·σ(x) elementwise, as in PyTorch's <c>silu</c>; integer input is converted to Float32.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Silu() => Map<Ops.Silu>();
    }
}
