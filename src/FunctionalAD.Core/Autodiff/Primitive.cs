using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>Computes a primitive's primal result from constant inputs on their backend.</summary>
internal delegate RawTensor ForwardRule(IBackend backend, RawTensor[] xs, object? attr);

/// <summary>The tangent of the result caused by the tangent <paramref name="dx"/> of one input (linear in dx).</summary>
internal delegate Tensor JvpRule(Tensor dx, Tensor[] xs, Tensor y, object? attr);

/// <summary>The cotangent of one input given the cotangent <paramref name="g"/> of the result (linear in g).</summary>
internal delegate Tensor VjpRule(Tensor g, Tensor[] xs, Tensor y, object? attr);

/// <summary>
/// A primitive operation: its forward kernel call and, per input, its jvp and vjp rules, in one definition. Rules
/// are written with differentiable tensor operations, so derivatives of any order come from the same table.
/// An input whose rules are null has no derivative (declared, not forgotten); a missing rule on a differentiable
/// input throws by name.
/// </summary>
internal sealed class Primitive
{
    public readonly string Name;
    public readonly ForwardRule Forward;
    public readonly JvpRule?[] Jvp;
    public readonly VjpRule?[] Vjp;
    /// <summary>True when the derivative is zero wherever it exists (floor, round, sign): no rules, no tape.</summary>
    public readonly bool ZeroDerivative;

    public Primitive(string name, ForwardRule forward, JvpRule?[] jvp, VjpRule?[] vjp, bool zeroDerivative = false)
    {
        Name = name; Forward = forward; Jvp = jvp; Vjp = vjp; ZeroDerivative = zeroDerivative;
    }

    /// <summary>
    /// An elementwise function of one input: jvp = dx * f'(x), vjp = g * f'(x). When nothing in the product carries a
    /// derivative (first order), the backend's fused kernel computes it in one pass; otherwise it is composed from
    /// differentiable operations, so higher orders see the same formula.
    /// </summary>
    public static Primitive Elementwise(string name, UnaryOp op, Func<Tensor, Tensor, Tensor> derivative)
    {
        Tensor Times(Tensor g, Tensor x, Tensor y) => Fused(op, g, x, y) ?? g * derivative(x, y);
        return new(name, (b, xs, _) => b.Unary(op, xs[0]),
            [(dx, xs, y, _) => Times(dx, xs[0], y)],
            [(g, xs, y, _) => Times(g, xs[0], y)]);
    }

    /// <summary>g·f'(x) from the backend's one-pass kernel, or null where the rule must be composed (a derivative is
    /// being traced, shapes or devices differ, or the backend has no such kernel).</summary>
    static Tensor? Fused(UnaryOp op, Tensor g, Tensor x, Tensor y)
    {
        if (g.tag is not null || x.tag is not null || y.tag is not null) return null;
        RawTensor gv = g.Value, xv = x.Value, yv = y.Value;
        if (gv.DType != xv.DType || gv.Device != xv.Device || !gv.Shape.AsSpan().SequenceEqual(xv.Shape)) return null;
        return Backend.For(xv.Device).TryUnaryDerivative(op, gv, xv, yv, out var r) ? new Tensor(r) : null;
    }

    /// <summary>An elementwise function whose derivative is zero almost everywhere (floor, ceil, round, sign).</summary>
    public static Primitive Piecewise(string name, UnaryOp op) =>
        new(name, (b, xs, _) => b.Unary(op, xs[0]), [null], [null], zeroDerivative: true);

    /// <summary>
    /// A linear primitive of one input (reshape, permute, sum, slice, ...): its jvp is the primitive itself applied to
    /// the tangent, and its vjp is <paramref name="transpose"/>.
    /// </summary>
    public static Primitive Linear(string name, ForwardRule forward, VjpRule transpose)
    {
        Primitive? self = null;
        self = new Primitive(name, forward,
            [(dx, _, _, attr) => Dispatch.Apply(self!, [dx], attr)],
            [transpose]);
        return self;
    }

    /// <summary>An error for a rule the table does not define.</summary>
    public InvalidOperationException Missing(string mode, int input) =>
        new($"the {mode} derivative of '{Name}' with respect to argument {input + 1} is not defined");

    /// <inheritdoc/>
    public override string ToString() => Name;
}
