namespace FunctionalAD.Ops
{
    // Arithmetic elementwise ops. Conventions at kinks: abs'(0) = sign(0) = 0; sign, floor, ceil and round have
    // derivative 0 (they are piecewise constant).

    /// <summary>-x; integers stay integers.</summary>
    public readonly struct Neg : IUnaryOp
    {
        string IUnaryOp.Name => "neg";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0, true);
        bool IUnaryOp.AcceptsIntegers => true;
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Neg(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Const(-1);
    }

    /// <summary>|x|; derivative sign(x) (0 at 0); integers stay integers.</summary>
    public readonly struct Abs : IUnaryOp
    {
        string IUnaryOp.Name => "abs";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0.1, false);
        bool IUnaryOp.AcceptsIntegers => true;
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Abs(x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Sign(x);
    }

    /// <summary>-1, 0 or 1 (NaN stays NaN); derivative 0; integers stay integers.</summary>
    public readonly struct Sign : IPiecewiseConstantOp
    {
        string IUnaryOp.Name => "sign";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0.1, false);
        bool IUnaryOp.AcceptsIntegers => true;
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Sign(x);
    }

    /// <summary>x²; integers stay integers.</summary>
    public readonly struct Square : IUnaryOp
    {
        string IUnaryOp.Name => "square";
        OpDomain IUnaryOp.Domain => new(-2, 2, 0, true);
        bool IUnaryOp.AcceptsIntegers => true;
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Mul(x, x);
        T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Mul(m.Const(2), x);
    }

    /// <summary>Largest integer ≤ x; derivative 0.</summary>
    public readonly struct Floor : IPiecewiseConstantOp
    {
        string IUnaryOp.Name => "floor";
        OpDomain IUnaryOp.Domain => new(0.1, 0.9, 0, false);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Floor(x);
    }

    /// <summary>Smallest integer ≥ x; derivative 0.</summary>
    public readonly struct Ceil : IPiecewiseConstantOp
    {
        string IUnaryOp.Name => "ceil";
        OpDomain IUnaryOp.Domain => new(0.1, 0.9, 0, false);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Ceil(x);
    }

    /// <summary>Nearest integer, halves to even; derivative 0.</summary>
    public readonly struct Round : IPiecewiseConstantOp
    {
        string IUnaryOp.Name => "round";
        OpDomain IUnaryOp.Domain => new(0.1, 0.4, 0, false);
        T IUnaryOp.Apply<T, M>(M m, T x) => m.Round(x);
    }
}

namespace FunctionalAD
{
    public sealed partial class Tensor
    {
        /// <summary>-x elementwise (integers stay integers).</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Neg() => Map<Ops.Neg>();
        /// <summary>|x| elementwise; derivative sign(x) (0 at 0); integers stay integers.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Abs() => Map<Ops.Abs>();
        /// <summary>-1, 0 or 1 elementwise (NaN stays NaN); derivative zero; integers stay integers.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Sign() => Map<Ops.Sign>();
        /// <summary>x² elementwise (one primitive: its vjp is 2x·g in one pass); integers stay integers.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Square() => Map<Ops.Square>();
        /// <summary>Largest integer ≤ x; derivative zero.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Floor() => Map<Ops.Floor>();
        /// <summary>Smallest integer ≥ x; derivative zero.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Ceil() => Map<Ops.Ceil>();
        /// <summary>Nearest integer, halves to even; derivative zero.</summary>
        /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
        public Tensor Round() => Map<Ops.Round>();
    }
}
