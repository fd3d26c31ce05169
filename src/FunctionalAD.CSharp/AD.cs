namespace FunctionalAD;

/// <summary>A function's value and its gradient.</summary>
/// <param name="Value">f(x), a one-element tensor.</param>
/// <param name="Gradient">df/dx, shaped like x.</param>
public readonly record struct ValueAndGradient(Tensor Value, Tensor Gradient);

/// <summary>The gradients of a function of two tensors.</summary>
/// <param name="First">Gradient with respect to the first argument.</param>
/// <param name="Second">Gradient with respect to the second argument.</param>
public readonly record struct GradientPair(Tensor First, Tensor Second);

/// <summary>A function's value and its directional derivative.</summary>
/// <param name="Value">f(x).</param>
/// <param name="Tangent">J·v, shaped like f(x).</param>
public readonly record struct ValueAndTangent(Tensor Value, Tensor Tangent);

/// <summary>
/// Differentiation for C#: each method takes a function of tensors and returns derivatives (or a derived function).
/// Calls nest freely (<c>AD.Grad(AD.Grad(f))</c>) without perturbation confusion.
/// </summary>
public static class AD
{
    /// <summary>The gradient of scalar-valued <paramref name="f"/> at <paramref name="x"/> (shaped like x).</summary>
    /// <exception cref="ShapeMismatchException">f(x) has more than one element.</exception>
    /// <exception cref="DTypeMismatchException">x is not floating point.</exception>
    public static Tensor Grad(Func<Tensor, Tensor> f, Tensor x) => Transform.Grad(f, x);

    /// <summary>The gradient function of scalar-valued <paramref name="f"/> (composable: <c>AD.Grad(AD.Grad(f))</c>
    /// is the second derivative of a scalar function).</summary>
    public static Func<Tensor, Tensor> Grad(Func<Tensor, Tensor> f) => x => Transform.Grad(f, x);

    /// <summary>The gradients of scalar-valued <paramref name="f"/> with respect to both arguments.</summary>
    /// <exception cref="ShapeMismatchException">f(x, y) has more than one element.</exception>
    public static GradientPair Grad(Func<Tensor, Tensor, Tensor> f, Tensor x, Tensor y)
    {
        var (_, g) = Transform.ValueAndGrad(xs => f(xs[0], xs[1]), x, y);
        return new GradientPair(g[0], g[1]);
    }

    /// <summary>f(x) and its gradient in one reverse pass.</summary>
    /// <exception cref="ShapeMismatchException">f(x) has more than one element.</exception>
    public static ValueAndGradient ValueAndGrad(Func<Tensor, Tensor> f, Tensor x)
    {
        var (v, g) = Transform.ValueAndGrad(xs => f(xs[0]), x);
        return new ValueAndGradient(v, g[0]);
    }

    /// <summary>The derivative of f at a one-element x (forward mode).</summary>
    /// <exception cref="ShapeMismatchException">x has more than one element.</exception>
    public static Tensor Diff(Func<Tensor, Tensor> f, Tensor x) => Transform.Diff(f, x);

    /// <summary>The derivative function of f (for one-element inputs); composable.</summary>
    public static Func<Tensor, Tensor> Diff(Func<Tensor, Tensor> f) => x => Transform.Diff(f, x);

    /// <summary>f(x) and the directional derivative J·v (forward mode; v shaped like x).</summary>
    /// <exception cref="ShapeMismatchException">v's shape differs from x's.</exception>
    public static ValueAndTangent Jvp(Func<Tensor, Tensor> f, Tensor x, Tensor v)
    {
        var (value, tangent) = Transform.Jvp(xs => f(xs[0]), [x], [v]);
        return new ValueAndTangent(value, tangent);
    }

    /// <summary>f(x) and its pullback (reverse mode): <c>r.Pullback(u)[0]</c> is uᵀJ.</summary>
    public static VjpResult Vjp(Func<Tensor, Tensor> f, Tensor x) => Transform.Vjp(xs => f(xs[0]), x);

    /// <summary>The Jacobian of f at x: shape f(x).Shape ++ x.Shape.</summary>
    public static Tensor Jacobian(Func<Tensor, Tensor> f, Tensor x) => Transform.Jacobian(f, x);

    /// <summary>The Hessian of scalar-valued f at x: shape x.Shape ++ x.Shape.</summary>
    /// <exception cref="ShapeMismatchException">f(x) has more than one element.</exception>
    public static Tensor Hessian(Func<Tensor, Tensor> f, Tensor x) => Transform.Hessian(f, x);

    /// <summary>The Hessian of scalar-valued f at x times v, without forming the Hessian.</summary>
    public static Tensor Hvp(Func<Tensor, Tensor> f, Tensor x, Tensor v) => Transform.Hvp(f, x, v);

    /// <summary>Compares the gradient of f at x with central finite differences (Float64).</summary>
    public static GradCheckResult GradCheck(Func<Tensor, Tensor> f, Tensor x) => FunctionalAD.GradCheck.Check(f, x);

    /// <summary>Evaluates body without recording derivatives; the result is a constant.</summary>
    public static T NoGrad<T>(Func<T> body) => Transform.NoGrad(body);

    /// <summary>x as a constant: no derivative flows through it (JAX's <c>stop_gradient</c>, PyTorch's <c>detach</c>);
    /// the same as <see cref="Tensor.StopGradient()"/>.</summary>
    public static Tensor StopGradient(Tensor x) => Transform.StopGradient(x);
}
