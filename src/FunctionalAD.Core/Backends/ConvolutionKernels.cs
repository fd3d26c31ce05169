using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

/// <summary>
/// The default kernels of <see cref="IBackend.Unfold"/>, <see cref="IBackend.Fold"/> and <see cref="IBackend.Conv2d"/>,
/// composed from the backend's own layout kernels (SliceScatter, Concat, strided views), Add and MatMul, so every
/// backend (the GPU's included) runs convolution unchanged. They cost kh·kw passes over the input; a backend
/// overrides them with a direct kernel when that is measured to be faster.
/// </summary>
public static class ConvolutionKernels
{
    /// <summary>im2col: [N, C, H, W] to [N, C·kh·kw, L] (L = OutHeight·OutWidth, rows ordered channel, then kernel
    /// row, then kernel column; PyTorch's <c>unfold</c>), zero padding as the geometry says: one strided view per
    /// kernel tap of the padded input, joined by one Concat.</summary>
    public static RawTensor Unfold(IBackend backend, RawTensor x, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(g);
        int n = x.Shape[0], c = x.Shape[1], oh = g.OutHeight, ow = g.OutWidth;
        var padded = x;
        if (!g.Unpadded)
        {
            padded = backend.SliceScatter([n, c, g.PaddedHeight, g.Width], x, 2, g.PadTop, 1);
            padded = backend.SliceScatter([n, c, g.PaddedHeight, g.PaddedWidth], padded, 3, g.PadLeft, 1);
        }
        var taps = new RawTensor[g.KernelSize];
        for (int i = 0; i < g.KernelH; i++)
            for (int j = 0; j < g.KernelW; j++)
            {
                var v = padded.Slice(2, i * g.DilationH, oh, g.StrideH).Slice(3, j * g.DilationW, ow, g.StrideW);
                // [N, C, 1, oh, ow]: the tap as one slice of the kernel dimension
                taps[i * g.KernelW + j] = new RawTensor(v.Storage, [n, c, 1, oh, ow], [v.Strides[0], v.Strides[1], 0, v.Strides[2], v.Strides[3]], v.Offset);
            }
        var joined = taps.Length == 1 ? backend.Contiguous(taps[0]) : backend.Concat(taps, 2);
        return View(backend, joined, [n, c * g.KernelSize, oh * ow]);
    }

    /// <summary>col2im, the transpose of <see cref="Unfold"/>: [N, C·kh·kw, L] to [N, C, H, W], each column entry added
    /// to the input position it was read from (overlapping windows sum; padding is dropped).</summary>
    public static RawTensor Fold(IBackend backend, RawTensor cols, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(cols); ArgumentNullException.ThrowIfNull(g);
        int n = cols.Shape[0], c = g.Channels, oh = g.OutHeight, ow = g.OutWidth, hp = g.PaddedHeight, wp = g.PaddedWidth;
        var taps = View(backend, cols, [n, c, g.KernelSize, oh, ow]);
        RawTensor? sum = null;
        for (int i = 0; i < g.KernelH; i++)
            for (int j = 0; j < g.KernelW; j++)
            {
                var t = taps.Slice(2, i * g.KernelW + j, 1, 1);
                var tap = new RawTensor(t.Storage, [n, c, oh, ow], [t.Strides[0], t.Strides[1], t.Strides[3], t.Strides[4]], t.Offset);
                var placed = backend.SliceScatter([n, c, hp, ow], tap, 2, i * g.DilationH, g.StrideH);
                placed = backend.SliceScatter([n, c, hp, wp], placed, 3, j * g.DilationW, g.StrideW);
                sum = sum is null ? placed : backend.Binary<Add>(sum, placed);
            }
        var r = sum!;
        if (!g.Unpadded) r = r.Slice(2, g.PadTop, g.Height, 1).Slice(3, g.PadLeft, g.Width, 1);
        return backend.Contiguous(r);
    }

    /// <summary>Convolution (PyTorch's cross-correlation <c>conv2d</c>, no bias): x [N, C, H, W] and w [O, C/groups,
    /// kh, kw] give [N, O, OutHeight, OutWidth]. Unfold, then one batched MatMul over (image, group).</summary>
    public static RawTensor Conv2d(IBackend backend, RawTensor x, RawTensor w, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(w); ArgumentNullException.ThrowIfNull(g);
        int n = x.Shape[0], o = w.Shape[0], groups = g.Groups, og = o / groups, k = g.Channels / groups * g.KernelSize, l = g.Positions;
        var cols = View(backend, backend.Unfold(x, g), [n * groups, k, l]);
        // one weight matrix per (image, group): a broadcast view for one group, a copy of the small weight otherwise
        var weights = groups == 1
            ? View(backend, w, [1, og, k]).Expand([n, og, k])
            : View(backend, backend.Contiguous(View(backend, w, [1, groups, og, k]).Expand([n, groups, og, k])), [n * groups, og, k]);
        var y = backend.MatMul(weights, cols);
        return View(backend, y, [n, o, g.OutHeight, g.OutWidth]);
    }

    /// <summary><see cref="Conv2d"/> with a bias b [O] added per output channel: the backend's Conv2d, then one
    /// broadcast Add.</summary>
    public static RawTensor Conv2dBias(IBackend backend, RawTensor x, RawTensor w, RawTensor b, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(b);
        var y = backend.Conv2d(x, w, g);
        return backend.Binary<Add>(y, View(backend, b, [1, b.Shape[0], 1, 1]).Expand(y.Shape));
    }

    /// <summary>The input gradient of <see cref="Conv2d"/>: dy [N, O, oh, ow], w [O, C/groups, kh, kw] to [N, C, H, W]
    /// as Fold(wᵀ · dy), one batched MatMul over (image, group).</summary>
    public static RawTensor Conv2dInputGrad(IBackend backend, RawTensor dy, RawTensor w, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(dy); ArgumentNullException.ThrowIfNull(w); ArgumentNullException.ThrowIfNull(g);
        int n = dy.Shape[0], groups = g.Groups, og = w.Shape[0] / groups, k = g.Channels / groups * g.KernelSize, l = g.Positions;
        var wT = View(backend, w, [groups, og, k]).Permute([0, 2, 1]); // [G, k, og]
        var weights = groups == 1
            ? wT.Expand([n, k, og])
            : View(backend, backend.Contiguous(View(backend, backend.Contiguous(wT), [1, groups, k, og]).Expand([n, groups, k, og])), [n * groups, k, og]);
        var cols = backend.MatMul(weights, View(backend, dy, [n * groups, og, l]));
        return backend.Fold(View(backend, cols, [n, groups * k, l]), g);
    }

    /// <summary>The weight gradient of <see cref="Conv2d"/>: dy [N, O, oh, ow], x [N, C, H, W] to [O, C/groups, kh, kw]
    /// as Σₙ dy · Unfold(x)ᵀ, one batched MatMul over (image, group), then a sum over images.</summary>
    public static RawTensor Conv2dWeightGrad(IBackend backend, RawTensor dy, RawTensor x, ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(dy); ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(g);
        int n = dy.Shape[0], o = dy.Shape[1], groups = g.Groups, og = o / groups, cg = g.Channels / groups, k = cg * g.KernelSize, l = g.Positions;
        var colsT = View(backend, backend.Unfold(x, g), [n * groups, k, l]).Permute([0, 2, 1]);
        var perImage = backend.MatMul(View(backend, dy, [n * groups, og, l]), colsT); // [N·G, og, k]
        var sum = backend.Reduce(ReduceOp.Sum, View(backend, perImage, [n, o * k]), [0], false);
        return View(backend, sum, [o, cg, g.KernelH, g.KernelW]);
    }

    /// <summary>x with a new shape: a view when the layout allows, else a contiguous copy reshaped.</summary>
    static RawTensor View(IBackend backend, RawTensor x, int[] shape) => x.TryReshapeView(shape) ?? backend.Contiguous(x).TryReshapeView(shape)!;
}
