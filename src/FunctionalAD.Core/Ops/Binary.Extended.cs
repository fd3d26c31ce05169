namespace FunctionalAD.Ops
{
    // More elementwise functions of two tensors (floating point only: integer operands become Float32). Conventions
    // follow PyTorch, derivatives included: xlogy's ∂/∂a is 0 where a = 0; fmod and remainder are piecewise linear,
    // with ∂/∂a = 1 and ∂/∂b = -trunc(a/b) (fmod) or -floor(a/b) (remainder), also on the jumps.

    /// <summary>log(eᵃ + eᵇ) = max(a, b) + log1p(e^-|a-b|), which never overflows; equal infinities give that
    /// infinity. ∂/∂a = σ(a - b), ∂/∂b = σ(b - a).</summary>
    public readonly struct LogAddExp : IBinaryOp
    {
        string IBinaryOp.Name => "logaddexp";
        OpDomain IBinaryOp.DomainA => new(-3, 3);
        OpDomain IBinaryOp.DomainB => new(-3, 3);
        bool IBinaryOp.AcceptsIntegers => false;
        T IBinaryOp.Apply<T, M>(M m, T a, T b)
        {
            var d = m.Abs(m.Sub(a, b)); // NaN when a and b are the same infinity: then the max alone is the answer
            return m.Add(m.Max(a, b), m.IfPositive(m.Add(d, m.Const(1)), m.Log1p(m.Exp(m.Neg(d))), m.Const(0)));
        }
        T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Sigmoid(m.Sub(a, b));
        T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Sigmoid(m.Sub(b, a));
    }

    /// <summary>a·log(b), and 0 where a = 0 (even for b = 0 or ∞; NaN b stays NaN), as PyTorch's <c>xlogy</c>.
    /// ∂/∂a = log b (0 where a = 0), ∂/∂b = a/b.</summary>
    public readonly struct Xlogy : IBinaryOp
    {
        string IBinaryOp.Name => "xlogy";
        OpDomain IBinaryOp.DomainA => new(-2, 2);
        OpDomain IBinaryOp.DomainB => new(0.2, 3);
        bool IBinaryOp.AcceptsIntegers => false;
        T IBinaryOp.Apply<T, M>(M m, T a, T b) =>
            m.IfPositive(m.Abs(a), m.Mul(a, m.Log(b)), m.Mul(a, m.Min(m.Abs(b), m.Const(0)))); // 0, or NaN for NaN a or b
        T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.IfPositive(m.Abs(a), m.Log(b), m.Const(0));
        T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Div(a, b);
    }

    /// <summary>√(a² + b²) without overflow or underflow; ∂/∂a = a/y, ∂/∂b = b/y (NaN at the origin, as in PyTorch).</summary>
    public readonly struct Hypot : IBinaryOp
    {
        string IBinaryOp.Name => "hypot";
        OpDomain IBinaryOp.DomainA => new(-2, 2, 0.3);
        OpDomain IBinaryOp.DomainB => new(-2, 2, 0.3);
        bool IBinaryOp.AcceptsIntegers => false;
        T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Hypot(a, b);
        T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Div(a, y);
        T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Div(b, y);
    }

    /// <summary>C's fmod: a - trunc(a/b)·b, computed exactly, with the sign of a (NaN for b = 0).
    /// ∂/∂a = 1, ∂/∂b = -trunc(a/b).</summary>
    public readonly struct Fmod : IBinaryOp
    {
        string IBinaryOp.Name => "fmod";
        OpDomain IBinaryOp.DomainA => new(-3, 3, 0, false);
        OpDomain IBinaryOp.DomainB => new(-2, 2, 0.5, false);
        bool IBinaryOp.AcceptsIntegers => false;
        T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Fmod(a, b);
        T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Const(1);
        T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y)
        {
            var q = m.Div(a, b);
            return m.Neg(m.Mul(m.Sign(q), m.Floor(m.Abs(q))));
        }
    }

    /// <summary>Python's modulo (PyTorch's <c>remainder</c>): a - floor(a/b)·b, with the sign of b; computed exactly as
    /// fmod plus b where fmod's sign differs from b's (NaN for b = 0). ∂/∂a = 1, ∂/∂b = -floor(a/b).</summary>
    public readonly struct Remainder : IBinaryOp
    {
        string IBinaryOp.Name => "remainder";
        OpDomain IBinaryOp.DomainA => new(-3, 3, 0, false);
        OpDomain IBinaryOp.DomainB => new(-2, 2, 0.5, false);
        bool IBinaryOp.AcceptsIntegers => false;
        T IBinaryOp.Apply<T, M>(M m, T a, T b)
        {
            var r = m.Fmod(a, b);
            return m.IfPositive(m.Neg(m.Mul(m.Sign(r), m.Sign(b))), m.Add(r, b), r);
        }
        T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Const(1);
        T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Neg(m.Floor(m.Div(a, b)));
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>log(eᵃ + eᵇ) elementwise (broadcasting), without overflow (PyTorch's <c>logaddexp</c>).</summary>
        /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
        /// <exception cref="DTypeMismatchException">an operand is Bool.</exception>
        public static Tensor LogAddExp(Tensor a, Tensor b) => Zip<Ops.LogAddExp>(a, b);
        /// <summary>a·log(b) elementwise (broadcasting), 0 where a = 0 even for b = 0 (PyTorch's <c>xlogy</c>).</summary>
        /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
        /// <exception cref="DTypeMismatchException">an operand is Bool.</exception>
        public static Tensor Xlogy(Tensor a, Tensor b) => Zip<Ops.Xlogy>(a, b);
        /// <summary>√(a² + b²) elementwise (broadcasting), without overflow.</summary>
        /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
        /// <exception cref="DTypeMismatchException">an operand is Bool.</exception>
        public static Tensor Hypot(Tensor a, Tensor b) => Zip<Ops.Hypot>(a, b);
        /// <summary>The remainder of a/b truncated toward zero, with the sign of a (C's fmod, PyTorch's <c>fmod</c>);
        /// integer operands give Float32.</summary>
        /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
        /// <exception cref="DTypeMismatchException">an operand is Bool.</exception>
        public static Tensor Fmod(Tensor a, Tensor b) => Zip<Ops.Fmod>(a, b);
        /// <summary>The remainder of a/b rounded toward -∞, with the sign of b (Python's %, PyTorch's
        /// <c>remainder</c>); integer operands give Float32.</summary>
        /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
        /// <exception cref="DTypeMismatchException">an operand is Bool.</exception>
        public static Tensor Remainder(Tensor a, Tensor b) => Zip<Ops.Remainder>(a, b);
    }
}
