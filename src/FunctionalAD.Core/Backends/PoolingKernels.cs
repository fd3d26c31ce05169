using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

/// <summary>
/// The default kernels of <see cref="IBackend.MaxPool2d"/> and <see cref="IBackend.MaxPool2dGrad"/>, composed from the
/// backend's Unfold, Reduce, Compare, Cast, elementwise and Fold kernels, so every backend (the GPU's included) pools
/// unchanged. Ties within a window share the derivative equally, as the max reduction's rule does.
/// </summary>
public static class PoolingKernels
{
    /// <summary>Max pooling without padding: x [N, C, H, W] to [N, C, OutHeight, OutWidth], the largest element of each
    /// window (NaN where the window holds one).</summary>
    public static RawTensor MaxPool2d(IBackend backend, RawTensor x, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(g);
        int n = x.Shape[0], c = x.Shape[1];
        var windows = View(backend, backend.Unfold(x, g), [n, c, g.KernelSize, g.Positions]);
        return View(backend, backend.Reduce(ReduceOp.Max, windows, [2], false), [n, c, g.OutHeight, g.OutWidth]);
    }

    /// <summary>The input cotangent of <see cref="MaxPool2d"/>: dy [N, C, OutHeight, OutWidth] and x [N, C, H, W] to
    /// [N, C, H, W], each window's dy split equally over the window's elements equal to its max (summed where windows
    /// overlap; NaN over a window whose max is NaN, as 0/0 weights give).</summary>
    public static RawTensor MaxPool2dGrad(IBackend backend, RawTensor dy, RawTensor x, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(dy); ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(g);
        int n = x.Shape[0], c = x.Shape[1], k = g.KernelSize, l = g.Positions;
        int[] full = [n, c, k, l];
        var windows = View(backend, backend.Unfold(x, g), full);
        var max = backend.Reduce(ReduceOp.Max, windows, [2], true).Expand(full);
        var hit = backend.Cast(backend.Compare(CompareOp.Eq, windows, max), x.DType);
        var count = backend.Reduce(ReduceOp.Sum, hit, [2], true).Expand(full);
        var spread = View(backend, dy, [n, c, 1, l]).Expand(full);
        var cols = backend.Binary<Mul>(backend.Binary<Div>(hit, count), spread);
        return backend.Fold(View(backend, cols, [n, c * k, l]), g);
    }

    static RawTensor View(IBackend backend, RawTensor x, int[] shape) => x.TryReshapeView(shape) ?? backend.Contiguous(x).TryReshapeView(shape)!;
}
