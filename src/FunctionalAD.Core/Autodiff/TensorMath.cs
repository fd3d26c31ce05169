using FunctionalAD.Ops;

namespace FunctionalAD.Autodiff;

/// <summary>
/// <see cref="IElementMath{T}"/> over differentiable tensors: an op's derivative formula evaluated with tensor
/// operations, so the rule is itself differentiated by any enclosing transformation (higher orders come from the
/// same formula). Constants take the dtype and device of <paramref name="like"/>. Multiplying by the constants 1 and
/// -1 and adding 0 are skipped (no tape node, no pass), so linear ops' rules cost nothing extra.
/// </summary>
internal readonly struct TensorMath(Tensor like) : IElementMath<Tensor>
{
    public Tensor Const(double value) => Tensor.ScalarLike(value, like);
    public Tensor Add(Tensor a, Tensor b) => Tensor.IsCommonScalar(a, 0) ? b : Tensor.IsCommonScalar(b, 0) ? a : a + b;
    public Tensor Sub(Tensor a, Tensor b) => Tensor.IsCommonScalar(b, 0) ? a : a - b;
    public Tensor Mul(Tensor a, Tensor b) =>
        Tensor.IsCommonScalar(b, 1) ? a : Tensor.IsCommonScalar(a, 1) ? b
        : Tensor.IsCommonScalar(b, -1) ? -a : Tensor.IsCommonScalar(a, -1) ? -b : a * b;
    public Tensor Div(Tensor a, Tensor b) => a / b;
    public Tensor Neg(Tensor a) => -a;
    public Tensor Abs(Tensor a) => a.Abs();
    public Tensor Sign(Tensor a) => a.Sign();
    public Tensor Positive(Tensor a) => a.Gt(0.0).To(a.DType);
    public Tensor Max(Tensor a, Tensor b) => a.Maximum(b);
    public Tensor Min(Tensor a, Tensor b) => a.Minimum(b);
    public Tensor GreaterShare(Tensor a, Tensor b) => a.Gt(b).To(a.DType) + 0.5 * a.Eq(b).To(a.DType);
    public Tensor Pow(Tensor a, Tensor b) => a.Pow(b);
    public Tensor Atan2(Tensor a, Tensor b) => Tensor.Atan2(a, b);
    public Tensor Exp(Tensor a) => a.Exp();
    public Tensor Log(Tensor a) => a.Log();
    public Tensor Log1p(Tensor a) => a.Log1p();
    public Tensor Expm1(Tensor a) => a.Expm1();
    public Tensor Sqrt(Tensor a) => a.Sqrt();
    public Tensor Rsqrt(Tensor a) => a.Rsqrt();
    public Tensor Sin(Tensor a) => a.Sin();
    public Tensor Cos(Tensor a) => a.Cos();
    public Tensor Tan(Tensor a) => a.Tan();
    public Tensor Asin(Tensor a) => a.Asin();
    public Tensor Acos(Tensor a) => a.Acos();
    public Tensor Atan(Tensor a) => a.Atan();
    public Tensor Sinh(Tensor a) => a.Sinh();
    public Tensor Cosh(Tensor a) => a.Cosh();
    public Tensor Tanh(Tensor a) => a.Tanh();
    public Tensor Sigmoid(Tensor a) => a.Sigmoid();
    public Tensor Floor(Tensor a) => a.Floor();
    public Tensor Ceil(Tensor a) => a.Ceil();
    public Tensor Round(Tensor a) => a.Round();
    public Tensor IfPositive(Tensor c, Tensor a, Tensor b) => Tensor.Where(c.Gt(0.0), a, b);
    public Tensor Hypot(Tensor a, Tensor b) => Tensor.Hypot(a, b);
    public Tensor Fmod(Tensor a, Tensor b) => Tensor.Fmod(a, b);
    public Tensor Log2(Tensor a) => a.Log2();
    public Tensor Log10(Tensor a) => a.Log10();
    public Tensor Asinh(Tensor a) => a.Asinh();
    public Tensor Acosh(Tensor a) => a.Acosh();
    public Tensor Atanh(Tensor a) => a.Atanh();
    public Tensor Erf(Tensor a) => a.Erf();
    public Tensor Erfc(Tensor a) => a.Erfc();
    public Tensor Erfinv(Tensor a) => a.Erfinv();
    public Tensor Lgamma(Tensor a) => a.Lgamma();
    public Tensor Digamma(Tensor a) => a.Digamma();
    public Tensor Polygamma<N>(Tensor a) where N : struct, IPolygammaOrder => a.Map<Ops.Polygamma<N>>();
}
