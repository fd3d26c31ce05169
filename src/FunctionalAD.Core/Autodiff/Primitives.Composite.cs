namespace FunctionalAD.Autodiff;

/// <summary>
/// The primitive table, composites with rules of their own: operations that compose from other primitives but are
/// one primitive for speed (one tape node and one backward formula instead of a chain) and numerical stability.
/// </summary>
internal static partial class Primitives
{
    // softmax along one axis (the attribute). Its Jacobian diag(y) - y·yᵀ is symmetric, so one rule, y·(d - Σ y·d),
    // is both the jvp and the vjp.
    public static readonly Primitive Softmax = new("softmax", (b, xs, axis) => b.Softmax(xs[0], (int)axis!),
        [SoftmaxRule], [(g, xs, y, axis) => SoftmaxRule(g, xs, y, axis)]);

    static Tensor SoftmaxRule(Tensor d, Tensor[] xs, Tensor y, object? axis)
    {
        var yd = y * d;
        return yd - y * yd.Sum([(int)axis!], keepDim: true);
    }
}
