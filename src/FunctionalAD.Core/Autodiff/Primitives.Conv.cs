using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>
/// The primitive table, convolution part. unfold (im2col) and fold (col2im) are linear and each other's transpose;
/// conv2d is bilinear in (input, weight), and its cotangents are two more bilinear primitives (its input and weight
/// gradients) whose rules close over the three, so derivatives of every order come from the same table. Pooling and conv1d compose these (Tensor.Pool.cs, Tensor.Conv.cs).
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

    // The trio of PyTorch's convolution, convolution_backward_input and convolution_backward_weight: each is bilinear,
    // and each one's jvp and vjp are written with the three, so derivatives of every order stay on the fast kernels.
    // y = conv(x, w): jvp conv(dx, w) + conv(x, dw); cotangents inputGrad(g, w) and weightGrad(g, x).
    public static readonly Primitive Conv2d = new("conv2d",
        (b, xs, a) => b.Conv2d(xs[0], xs[1], Geometry(a)),
        [(dx, xs, _, a) => Dispatch.Apply(Conv2d!, [dx, xs[1]], a), (dw, xs, _, a) => Dispatch.Apply(Conv2d!, [xs[0], dw], a)],
        [(g, xs, _, a) => Dispatch.Apply(Conv2dInputGrad!, [g, xs[1]], a), (g, xs, _, a) => Dispatch.Apply(Conv2dWeightGrad!, [g, xs[0]], a)]);

    // y = conv(x, w) + b[channel], the bias added as the tiles are written out instead of in a pass of its own; the
    // bias's cotangent sums dy over the positions of each plane first (contiguous rows), then over the images.
    public static readonly Primitive Conv2dBias = new("conv2dBias",
        (b, xs, a) => b.Conv2dBias(xs[0], xs[1], xs[2], Geometry(a)),
        [(dx, xs, _, a) => Dispatch.Apply(Conv2d, [dx, xs[1]], a), (dw, xs, _, a) => Dispatch.Apply(Conv2d, [xs[0], dw], a),
         (db, _, y, _) => db.Reshape(1, db.ShapeRef[0], 1, 1).BroadcastTo(y.ShapeRef)],
        [(g, xs, _, a) => Dispatch.Apply(Conv2dInputGrad!, [g, xs[1]], a), (g, xs, _, a) => Dispatch.Apply(Conv2dWeightGrad!, [g, xs[0]], a),
         (g, _, _, _) => g.Sum([2, 3]).Sum([0])]);

    // dx = inputGrad(dy, w), the adjoint of conv(·, w): <v, inputGrad(dy, w)> = <conv(v, w), dy> = <weightGrad(dy, v), w>.
    public static readonly Primitive Conv2dInputGrad = new("conv2dInputGrad",
        (b, xs, a) => b.Conv2dInputGrad(xs[0], xs[1], Geometry(a)),
        [(d, xs, _, a) => Dispatch.Apply(Conv2dInputGrad!, [d, xs[1]], a), (d, xs, _, a) => Dispatch.Apply(Conv2dInputGrad!, [xs[0], d], a)],
        [(v, xs, _, a) => Dispatch.Apply(Conv2d, [v, xs[1]], a), (v, xs, _, a) => Dispatch.Apply(Conv2dWeightGrad!, [xs[0], v], a)]);

    // dw = weightGrad(dy, x), the adjoint of conv(x, ·): <v, weightGrad(dy, x)> = <conv(x, v), dy> = <inputGrad(dy, v), x>.
    public static readonly Primitive Conv2dWeightGrad = new("conv2dWeightGrad",
        (b, xs, a) => b.Conv2dWeightGrad(xs[0], xs[1], Geometry(a)),
        [(d, xs, _, a) => Dispatch.Apply(Conv2dWeightGrad!, [d, xs[1]], a), (d, xs, _, a) => Dispatch.Apply(Conv2dWeightGrad!, [xs[0], d], a)],
        [(v, xs, _, a) => Dispatch.Apply(Conv2d, [xs[1], v], a), (v, xs, _, a) => Dispatch.Apply(Conv2dInputGrad, [xs[0], v], a)]);
}
