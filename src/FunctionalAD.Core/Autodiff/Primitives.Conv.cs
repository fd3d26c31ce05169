using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>
/// The primitive table, convolution part. unfold (im2col) and fold (col2im) are linear and each other's transpose;
/// conv2d is bilinear in (input, weight), and its vjp rules are written with unfold, fold and matmul, so second
/// derivatives come from the same table. Pooling and conv1d compose these (Tensor.Pool.cs, Tensor.Conv.cs).
/// </summary>
internal static partial class Primitives
{
    static ConvGeometry Geometry(object? attr) => (ConvGeometry)attr!;

    public static readonly Primitive Unfold = Primitive.Linear("unfold",
        (b, xs, a) => b.Unfold(xs[0], Geometry(a)),
        (g, _, _, a) => Dispatch.Apply(Fold!, [g], a));

    public static readonly Primitive Fold = Primitive.Linear("fold",
        (b, xs, a) => b.Fold(xs[0], Geometry(a)),
        (g, _, _, a) => Dispatch.Apply(Unfold, [g], a));

    // y = conv(x, w) is linear in each input: jvp conv(dx, w) + conv(x, dw). Cotangents: the input's is fold(Wᵀ·g)
    // (the transposed convolution), the weight's is Σₙ g·colsᵀ, per group.
    public static readonly Primitive Conv2d = new("conv2d",
        (b, xs, a) => b.Conv2d(xs[0], xs[1], Geometry(a)),
        [(dx, xs, _, a) => Dispatch.Apply(Conv2d!, [dx, xs[1]], a), (dw, xs, _, a) => Dispatch.Apply(Conv2d!, [xs[0], dw], a)],
        [(g, xs, _, a) => ConvInputGrad(g, xs[1], Geometry(a)), (g, xs, _, a) => ConvWeightGrad(g, xs[0], xs[1].ShapeRef, Geometry(a))]);

    static Tensor ConvInputGrad(Tensor g, Tensor w, ConvGeometry geo)
    {
        int n = g.ShapeRef[0], groups = geo.Groups, og = w.ShapeRef[0] / groups, k = geo.Channels / groups * geo.KernelSize, l = geo.Positions;
        var wT = w.Reshape(groups, og, k).Transpose(-1, -2);                       // [G, k, og]
        var cols = wT.MatMul(g.Reshape(n, groups, og, l)).Reshape(n, groups * k, l); // [N, G·k, L]
        return Dispatch.Apply(Fold, [cols], geo);
    }

    static Tensor ConvWeightGrad(Tensor g, Tensor x, int[] weightShape, ConvGeometry geo)
    {
        int n = g.ShapeRef[0], groups = geo.Groups, og = weightShape[0] / groups, k = geo.Channels / groups * geo.KernelSize, l = geo.Positions;
        var cols = Dispatch.Apply(Unfold, [x], geo).Reshape(n, groups, k, l);
        return g.Reshape(n, groups, og, l).MatMul(cols.Transpose(-1, -2)).Sum([0]).Reshape(weightShape);
    }
}
