using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>
/// The primitive table, pooling part: max pooling and its cotangent as two primitives, so training runs one-pass
/// kernels instead of unfold, a max reduction and its rule's seven passes. Ties within a window share the derivative
/// equally (the max reduction's rule); the cotangent is linear in dy and piecewise constant in x (its rules in x give
/// zeros, and max pooling's own rule passes x untraced, so they are not reached in practice); the rules close over the
/// two primitives and the windows' tie weights.
/// </summary>
internal static partial class Primitives
{
    public static readonly Primitive MaxPool2d = new("maxPool2d",
        (b, xs, a) => b.MaxPool2d(xs[0], Geometry(a)),
        [(dx, xs, y, a) => PoolTangent(dx, xs[0], y, Geometry(a))],
        [(g, xs, _, a) => Dispatch.Apply(MaxPool2dGrad!, [g, xs[0].StopGradient()], a)]); // zero derivative in x: not traced

    // dx = maxPool2dGrad(dy, x) = Σ over windows of dy · tie weights placed back; its transpose in dy gathers with the
    // same weights (the jvp of max pooling). In x it is piecewise constant: zero wherever the derivative exists.
    public static readonly Primitive MaxPool2dGrad = new("maxPool2dGrad",
        (b, xs, a) => b.MaxPool2dGrad(xs[0], xs[1], Geometry(a)),
        [(d, xs, _, a) => Dispatch.Apply(MaxPool2dGrad!, [d, xs[1]], a), (_, _, y, _) => Tensor.ZerosLike(y)],
        [(v, xs, _, a) => PoolTangent(v, xs[1], Dispatch.Apply(MaxPool2d, [xs[1].StopGradient()], a), Geometry(a)), (_, xs, _, _) => Tensor.ZerosLike(xs[1])]);

    /// <summary>The jvp of max pooling at x (result y) in direction dx: per window, Σ tie weight · dx.</summary>
    static Tensor PoolTangent(Tensor dx, Tensor x, Tensor y, ConvGeometry geo)
    {
        int n = x.ShapeRef[0], c = x.ShapeRef[1], k = geo.KernelSize, l = geo.Positions;
        var windows = Dispatch.Apply(Unfold, [x.StopGradient()], geo).Reshape(n, c, k, l);
        var hit = windows.Eq(y.StopGradient().Reshape(n, c, 1, l)).To(x.DType);
        var weights = hit / hit.Sum([2], keepDim: true);
        return (Dispatch.Apply(Unfold, [dx], geo).Reshape(n, c, k, l) * weights).Sum([2]).Reshape(n, c, geo.OutHeight, geo.OutWidth);
    }
}
