namespace FunctionalAD.Ops
{
    // More activation functions. Conventions at 0 follow PyTorch: elu'(0) = selu'(0)/λ = α (the x ≤ 0 branch). The
    // x ≤ 0 branch evaluates expm1(min(x, 0)), so the branch not taken never overflows (an inf there would turn the
    // zero derivative of the branch into NaN at higher orders).

    /// <summary>ELU with α = 1: x for x &gt; 0, eˣ - 1 otherwise; derivative 1 or eˣ (= y + 1). Other α:
    /// <see cref="Tensor.Elu(double)"/>.</summary>
    public readonly struct Elu : IUnaryOp
    {
        string IUnaryOp.Name => "elu";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0.1, false);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.IfPositive(x, x, m.Expm1(m.Min(x, m.Const(0))));
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.IfPositive(x, m.Const(1), m.Add(y, m.Const(1)));
    }

    /// <summary>SELU: λ·x for x &gt; 0, λα(eˣ - 1) otherwise, with PyTorch's λ ≈ 1.0507 and α ≈ 1.6733; derivative λ
    /// or λαeˣ.</summary>
    public readonly struct Selu : IUnaryOp
    {
        const double Alpha = 1.6732632423543772848170429916717;
        const double Scale = 1.0507009873554804934193349852946;
        string IUnaryOp.Name => "selu";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0.1, false);
        T IUnaryOp.Apply<T, M>(M m, T x) =>
            m.IfPositive(x, m.Mul(m.Const(Scale), x), m.Mul(m.Const(Scale * Alpha), m.Expm1(m.Min(x, m.Const(0)))));
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) =>
            m.IfPositive(x, m.Const(Scale), m.Mul(m.Const(Scale * Alpha), m.Exp(m.Min(x, m.Const(0)))));
    }

    /// <summary>Mish: x·tanh(softplus x); derivative tanh(sp) + x·(1 - tanh²(sp))·σ(x).</summary>
    public readonly struct Mish : IUnaryOp
    {
        string IUnaryOp.Name => "mish";
        OpDomain IUnaryOp.Domain => new(-3, 3);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Mul(x, m.Tanh(Softplus(m, x)));
        T IUnaryOp.Derivative<T, M>(M m, T x, T y)
        {
            var t = m.Tanh(Softplus(m, x));
            return m.Add(t, m.Mul(m.Mul(x, m.Sub(m.Const(1), m.Mul(t, t))), m.Sigmoid(x)));
        }

        static T Softplus<T, M>(M m, T x) where M : struct, IElementMath<T> =>
            m.Add(m.Max(x, m.Const(0)), m.Log1p(m.Exp(m.Neg(m.Abs(x)))));
    }

    /// <summary>Softsign x/(1 + |x|); derivative 1/(1 + |x|)².</summary>
    public readonly struct Softsign : IUnaryOp
    {
        string IUnaryOp.Name => "softsign";
        OpDomain IUnaryOp.Domain => new(-3, 3, 0.1);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Div(x, m.Add(m.Const(1), m.Abs(x)));
        T IUnaryOp.Derivative<T, M>(M m, T x, T y)
        {
            var d = m.Add(m.Const(1), m.Abs(x));
            return m.Div(m.Const(1), m.Mul(d, d));
        }
    }

    /// <summary>log σ(x) = min(x, 0) - log1p(e^-|x|), which neither overflows nor loses the tail; derivative σ(-x).</summary>
    public readonly struct LogSigmoid : IUnaryOp
    {
        string IUnaryOp.Name => "logSigmoid";
        OpDomain IUnaryOp.Domain => new(-3, 3);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Sub(m.Min(x, m.Const(0)), m.Log1p(m.Exp(m.Neg(m.Abs(x)))));
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Sigmoid(m.Neg(x));
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>ELU: x for x &gt; 0, α(eˣ - 1) otherwise (PyTorch's <c>elu</c>; derivative α at 0). α = 1 is one
        /// op; another α is where(x &gt; 0, x, α·elu(x)) (see docs/ARCHITECTURE.md, "Ops with a constant parameter").
        /// Integer input is converted to Float32.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Elu(double alpha = 1.0)
        {
            var e = Map<Ops.Elu>();
            return alpha == 1.0 ? e : Where(e.Gt(0.0), e, alpha * e);
        }
        /// <summary>SELU with PyTorch's constants (λ ≈ 1.0507, α ≈ 1.6733).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Selu() => Map<Ops.Selu>();
        /// <summary>Mish: x·tanh(softplus x).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Mish() => Map<Ops.Mish>();
        /// <summary>Softsign: x/(1 + |x|).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Softsign() => Map<Ops.Softsign>();
        /// <summary>log σ(x), computed without overflow (PyTorch's <c>logsigmoid</c>).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor LogSigmoid() => Map<Ops.LogSigmoid>();
    }
}
