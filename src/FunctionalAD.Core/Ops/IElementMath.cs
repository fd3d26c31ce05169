namespace FunctionalAD.Ops;

/// <summary>
/// The arithmetic an elementwise op is written in, once, for every place the op runs. <typeparamref name="T"/> is
/// whatever that place computes on: one float or double (the CPU's scalar path, the GPU kernels), a block of up to
/// 1024 elements (the CPU's vectorised path, where each member is one <c>TensorPrimitives</c> pass), or a whole
/// differentiable <see cref="Tensor"/> (derivative rules traced for higher orders). An op's
/// <see cref="IUnaryOp.Apply{T, M}"/> and <see cref="IUnaryOp.Derivative{T, M}"/> take the math as an argument, so
/// the CPU kernel, the GPU kernel, the fused first-order derivative kernel and the primitive's jvp/vjp are all the
/// same few lines.
/// </summary>
/// <remarks>
/// The members are the elementary functions that every backend has natively. A new op composes them; a new base
/// function (erf, say) is a new member here, implemented by each math (scalar, block, tensor, GPU).
/// Functions follow IEEE semantics at the edges (NaN in, NaN out) except where a member says otherwise.
/// </remarks>
public interface IElementMath<T>
{
    /// <summary>The constant <paramref name="value"/> as a T (in the element type of the computation).</summary>
    T Const(double value);
    /// <summary>a + b.</summary>
    T Add(T a, T b);
    /// <summary>a - b.</summary>
    T Sub(T a, T b);
    /// <summary>a · b.</summary>
    T Mul(T a, T b);
    /// <summary>a / b (IEEE: ±inf or NaN for a zero divisor; integer math throws for a zero divisor).</summary>
    T Div(T a, T b);
    /// <summary>-a.</summary>
    T Neg(T a);
    /// <summary>|a|.</summary>
    T Abs(T a);
    /// <summary>-1, 0 or 1 by the sign of a (NaN stays NaN; -0 gives 0).</summary>
    T Sign(T a);
    /// <summary>1 where a &gt; 0, else 0 (also 0 for NaN): the step function relu's derivative is.</summary>
    T Positive(T a);
    /// <summary>The larger of a and b; NaN if either is NaN.</summary>
    T Max(T a, T b);
    /// <summary>The smaller of a and b; NaN if either is NaN.</summary>
    T Min(T a, T b);
    /// <summary>1 where a &gt; b, 1/2 where a = b, else 0: the share of max(a, b)'s derivative that goes to a.</summary>
    T GreaterShare(T a, T b);
    /// <summary>aᵇ.</summary>
    T Pow(T a, T b);
    /// <summary>The angle of the point (b, a): atan2(a, b).</summary>
    T Atan2(T a, T b);
    /// <summary>eᵃ.</summary>
    T Exp(T a);
    /// <summary>Natural logarithm.</summary>
    T Log(T a);
    /// <summary>log(1 + a), accurate near 0.</summary>
    T Log1p(T a);
    /// <summary>eᵃ - 1, accurate near 0.</summary>
    T Expm1(T a);
    /// <summary>√a.</summary>
    T Sqrt(T a);
    /// <summary>1/√a.</summary>
    T Rsqrt(T a);
    /// <summary>Sine.</summary>
    T Sin(T a);
    /// <summary>Cosine.</summary>
    T Cos(T a);
    /// <summary>Tangent.</summary>
    T Tan(T a);
    /// <summary>Arcsine.</summary>
    T Asin(T a);
    /// <summary>Arccosine.</summary>
    T Acos(T a);
    /// <summary>Arctangent.</summary>
    T Atan(T a);
    /// <summary>Hyperbolic sine.</summary>
    T Sinh(T a);
    /// <summary>Hyperbolic cosine.</summary>
    T Cosh(T a);
    /// <summary>Hyperbolic tangent.</summary>
    T Tanh(T a);
    /// <summary>1 / (1 + e⁻ᵃ).</summary>
    T Sigmoid(T a);
    /// <summary>Largest integer ≤ a.</summary>
    T Floor(T a);
    /// <summary>Smallest integer ≥ a.</summary>
    T Ceil(T a);
    /// <summary>Nearest integer, halves to even.</summary>
    T Round(T a);
    /// <summary><paramref name="a"/> where <paramref name="c"/> &gt; 0, else <paramref name="b"/> (also b for NaN c):
    /// the one branch an op formula may take. Over tensors it is <c>where</c>, so a derivative flows only to the chosen
    /// operand and the condition carries none.</summary>
    T IfPositive(T c, T a, T b);
    /// <summary>√(a² + b²) without intermediate overflow or underflow.</summary>
    T Hypot(T a, T b);
    /// <summary>The remainder of a / b truncated toward zero (C's fmod; the sign of a), computed exactly.</summary>
    T Fmod(T a, T b);
    /// <summary>Base-2 logarithm.</summary>
    T Log2(T a);
    /// <summary>Base-10 logarithm.</summary>
    T Log10(T a);
    /// <summary>Inverse hyperbolic sine.</summary>
    T Asinh(T a);
    /// <summary>Inverse hyperbolic cosine (NaN below 1).</summary>
    T Acosh(T a);
    /// <summary>Inverse hyperbolic tangent (±∞ at ±1, NaN beyond).</summary>
    T Atanh(T a);
    /// <summary>The error function (2/√π)∫₀ᵃ e^(-t²) dt.</summary>
    T Erf(T a);
    /// <summary>1 - erf(a), accurate where erf(a) is near 1.</summary>
    T Erfc(T a);
    /// <summary>The inverse of erf on [-1, 1] (±∞ at ±1, NaN outside).</summary>
    T Erfinv(T a);
    /// <summary>log|Γ(a)| (+∞ at 0 and the negative integers).</summary>
    T Lgamma(T a);
    /// <summary>The digamma function Γ'(a)/Γ(a) (-∞ at +0, NaN at the negative integers).</summary>
    T Digamma(T a);
    /// <summary>The polygamma function ψ⁽ⁿ⁾(a), the n-th derivative of digamma, with n ≥ 1 given by the type
    /// <typeparamref name="N"/> (so that its own derivative, order n + 1, is again a type: every order of digamma's
    /// derivative is an op).</summary>
    T Polygamma<N>(T a) where N : struct, IPolygammaOrder;
}

/// <summary>The order n ≥ 1 of a polygamma function, as a type (<see cref="PolygammaOrder.One"/>,
/// <see cref="PolygammaOrder.Next{P}"/>): ops are fieldless structs, so a constant an op's formula needs at every order
/// of differentiation is carried by a type.</summary>
public interface IPolygammaOrder
{
    /// <summary>n.</summary>
    int Order { get; }
}

/// <summary>The polygamma orders.</summary>
public static class PolygammaOrder
{
    /// <summary>Order 1 (trigamma).</summary>
    public readonly struct One : IPolygammaOrder
    {
        /// <summary>1.</summary>
        public int Order => 1;
    }

    /// <summary>The order after <typeparamref name="P"/>.</summary>
    public readonly struct Next<P> : IPolygammaOrder where P : struct, IPolygammaOrder
    {
        /// <summary>P's order + 1.</summary>
        public int Order => default(P).Order + 1;
    }
}
