using System.Numerics;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <summary>
    /// im2col in one pass: each column row (image, channel, kernel tap) is written from the input plane with a
    /// contiguous copy per output row where the stride is 1, zeros where the window lies in the padding; rows split
    /// over threads. The composite default (one strided view per tap, joined by Concat) went through the generic
    /// strided copy and made a 3x3 convolution over [32, 64, 32, 32] 5x slower than its GEMM. Integer inputs take the
    /// default.
    /// </summary>
    public RawTensor Unfold(RawTensor x, ConvGeometry geometry) => DTypeDispatch.Floating<UnfoldKernel, RawTensor>(x.DType, new(this, x, geometry));

    readonly struct UnfoldKernel(CpuBackend b, RawTensor x, ConvGeometry g) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => UnfoldOf<T>(x, g);
        public RawTensor NotFloating() => ConvolutionKernels.Unfold(b, x, g);
    }

    static RawTensor UnfoldOf<T>(RawTensor x, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], oh = g.OutHeight, ow = g.OutWidth;
        int taps = g.KernelSize, l = oh * ow, rows = n * c * taps;
        var cols = Uninit<T>(rows * l); // every element is written below, zeros included
        var (src, offset) = Read<T>(x);
        Parallelism.For(rows, Math.Max(1, Parallelism.Grain / Math.Max(1, l)), (start, count) =>
        {
            for (int r = start; r < start + count; r++)
            {
                int plane = r / taps, tap = r % taps, i = tap / g.KernelW, j = tap % g.KernelW;
                var input = src.AsSpan(offset + plane * h * w, h * w);
                var row = cols.AsSpan(r * l, l);
                int dx = j * g.DilationW - g.PadLeft;
                // output columns whose input column ox·stride + dx lies inside the image: [lo, hi)
                int lo = dx >= 0 ? 0 : Math.Min(ow, (-dx + g.StrideW - 1) / g.StrideW);
                int hi = w - dx <= 0 ? 0 : Math.Min(ow, (w - dx + g.StrideW - 1) / g.StrideW);
                hi = Math.Max(hi, lo);
                for (int oy = 0; oy < oh; oy++)
                {
                    var dst = row.Slice(oy * ow, ow);
                    int iy = oy * g.StrideH - g.PadTop + i * g.DilationH;
                    if ((uint)iy >= (uint)h) { dst.Clear(); continue; }
                    dst[..lo].Clear();
                    dst[hi..].Clear();
                    var line = input.Slice(iy * w, w);
                    if (g.StrideW == 1) line.Slice(lo + dx, hi - lo).CopyTo(dst[lo..hi]);
                    else for (int ox = lo; ox < hi; ox++) dst[ox] = line[ox * g.StrideW + dx];
                }
            }
        });
        return Wrap(cols, [n, c * taps, l]);
    }

    /// <summary>
    /// col2im in one pass over the columns, image planes split over threads. Measured side by side on the [64, 288, 196]
    /// columns of a 3x3 convolution over [64, 32, 14, 14] (best of 7, busy 2-core host): 92 ms through the composite
    /// default, which writes kh·kw padded copies and adds them, and 5 ms here, with equal results (taps are added in
    /// the default's order). Integer columns take the default.
    /// </summary>
    public RawTensor Fold(RawTensor cols, ConvGeometry geometry) => DTypeDispatch.Floating<FoldKernel, RawTensor>(cols.DType, new(this, cols, geometry));

    readonly struct FoldKernel(CpuBackend b, RawTensor cols, ConvGeometry g) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => FoldOf<T>(cols, g);
        public RawTensor NotFloating() => ConvolutionKernels.Fold(b, cols, g);
    }

    static RawTensor FoldOf<T>(RawTensor cols, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = cols.Shape[0], c = g.Channels, h = g.Height, w = g.Width, oh = g.OutHeight, ow = g.OutWidth, k = g.KernelSize, l = oh * ow;
        var y = ResultPool.RentZeroed<T>(n * c * h * w); // the columns are added into it
        var (src, offset) = Read<T>(cols);
        int planes = n * c;
        Parallelism.For(planes, Math.Max(1, Parallelism.Grain / Math.Max(1, k * l)), (start, count) =>
        {
            for (int p = start; p < start + count; p++)
            {
                int plane = p * h * w, rows = offset + p * k * l; // image n, channel c: column rows c·k .. c·k + k - 1 of image n
                for (int i = 0; i < g.KernelH; i++)
                    for (int j = 0; j < g.KernelW; j++)
                    {
                        int row = rows + (i * g.KernelW + j) * l;
                        for (int oy = 0; oy < oh; oy++)
                        {
                            int iy = oy * g.StrideH - g.PadTop + i * g.DilationH;
                            if ((uint)iy >= (uint)h) continue;
                            for (int ox = 0; ox < ow; ox++)
                            {
                                int ix = ox * g.StrideW - g.PadLeft + j * g.DilationW;
                                if ((uint)ix < (uint)w) y[plane + iy * w + ix] += src[row + oy * ow + ox];
                            }
                        }
                    }
            }
        });
        return Wrap(y, [n, c, h, w]);
    }

    /// <summary>
    /// Convolution by the direct kernel (<see cref="DirectConv"/>) for stride 1 and one group in Float32/Float64 on a
    /// machine with 256- or 512-bit FMA vectors; other geometries take the default (im2col + GEMM). For x [32, 64, 32, 32]
    /// and w [64, 64, 3, 3] the im2col path ran at ~40 GFLOP/s on one Zen 5 core: packing the [576, 1024] columns of
    /// each image cost as much as the m = 64 product.
    /// </summary>
    public RawTensor Conv2d(RawTensor x, RawTensor w, ConvGeometry geometry) =>
        DTypeDispatch.Floating<Conv2dKernel, RawTensor>(x.DType, new(this, x, w, null, geometry));

    readonly struct Conv2dKernel(CpuBackend b, RawTensor x, RawTensor w, RawTensor? bias, ConvGeometry g) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            if (!Direct<T>(g, out var kind) || x.Numel == 0 || w.Numel == 0) return NotFloating(); // empty: nothing to tile
            int n = x.Shape[0], o = w.Shape[0];
            var (xs, xo) = Read<T>(x);
            var (ws, wo) = Read<T>(w);
            var (bs, bo) = bias is null ? (null, 0) : Read<T>(bias);
            return Wrap(DirectConv.Forward(xs, xo, n, ws, wo, o, g, kind, bs, bo), [n, o, g.OutHeight, g.OutWidth]);
        }
        public RawTensor NotFloating() => bias is null ? ConvolutionKernels.Conv2d(b, x, w, g) : ConvolutionKernels.Conv2dBias(b, x, w, bias, g);
    }

    /// <summary>Convolution plus bias by the direct kernel, the bias added as each tile is copied out (one pass over the
    /// output less than the default's broadcast Add); other geometries take the default.</summary>
    public RawTensor Conv2dBias(RawTensor x, RawTensor w, RawTensor bias, ConvGeometry geometry) =>
        DTypeDispatch.Floating<Conv2dKernel, RawTensor>(x.DType, new(this, x, w, bias, geometry));

    /// <summary>The transposed convolution by the direct kernel, over the cotangent padded by the dilated kernel's reach
    /// less the forward padding, with the flipped, channel-transposed weight (stride 1, one group, padding within the
    /// kernel's reach); the default (wᵀ·dy, then Fold) otherwise.</summary>
    public RawTensor Conv2dInputGrad(RawTensor dy, RawTensor w, ConvGeometry geometry) =>
        DTypeDispatch.Floating<InputGradKernel, RawTensor>(dy.DType, new(this, dy, w, geometry));

    readonly struct InputGradKernel(CpuBackend b, RawTensor dy, RawTensor w, ConvGeometry g) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            if (!Direct<T>(g, out var kind) || dy.Numel == 0 || w.Numel == 0) return ConvolutionKernels.Conv2dInputGrad(b, dy, w, g);
            int n = dy.Shape[0], o = w.Shape[0];
            var (ds, dOff) = Read<T>(dy);
            var (ws, wo) = Read<T>(w);
            var dx = DirectConv.InputGrad(ds, dOff, n, ws, wo, o, g, kind);
            return dx is null ? ConvolutionKernels.Conv2dInputGrad(b, dy, w, g) : Wrap(dx, [n, g.Channels, g.Height, g.Width]);
        }
        public RawTensor NotFloating() => ConvolutionKernels.Conv2dInputGrad(b, dy, w, g);
    }

    /// <summary>The weight gradient by the direct kernel (per-thread accumulators over images, added in a fixed order),
    /// stride 1 and one group, an input free of infinities and NaN; the default (Unfold, MatMul, sum) otherwise.</summary>
    public RawTensor Conv2dWeightGrad(RawTensor dy, RawTensor x, ConvGeometry geometry) =>
        DTypeDispatch.Floating<WeightGradKernel, RawTensor>(dy.DType, new(this, dy, x, geometry));

    readonly struct WeightGradKernel(CpuBackend b, RawTensor dy, RawTensor x, ConvGeometry g) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            if (!Direct<T>(g, out var kind) || dy.Numel == 0 || x.Numel == 0) return ConvolutionKernels.Conv2dWeightGrad(b, dy, x, g);
            int n = dy.Shape[0], o = dy.Shape[1];
            var (ds, dOff) = Read<T>(dy);
            var (xs, xo) = Read<T>(x);
            var dw = DirectConv.WeightGrad(ds, dOff, xs, xo, n, o, g, kind);
            return dw is null ? ConvolutionKernels.Conv2dWeightGrad(b, dy, x, g) : Wrap(dw, [o, g.Channels, g.KernelH, g.KernelW]);
        }
        public RawTensor NotFloating() => ConvolutionKernels.Conv2dWeightGrad(b, dy, x, g);
    }

    /// <summary>True (with the tile set) where the direct kernels take a convolution of element type T.</summary>
    static bool Direct<T>(ConvGeometry g, out GemmKernelKind kind)
    {
        kind = default;
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double) || !DirectConv.Handles(g) || DirectConv.Usable() is not { } k) return false;
        kind = k;
        return true;
    }
}
