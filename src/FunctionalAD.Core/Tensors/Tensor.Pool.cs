using FunctionalAD.Autodiff;

namespace FunctionalAD;

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D max pooling as PyTorch's <c>max_pool2d</c>: this [N, C, H, W] to [N, C, H', W'], the largest element of each
    /// kernel window (padding counts as -∞; stride defaults to the kernel size). Ties within a window share the
    /// derivative equally, as in <see cref="Max(int[], bool)"/>. Integer input is converted to Float32.
    /// With <paramref name="ceilMode"/> the output size rounds up, as PyTorch's <c>ceil_mode=True</c>: a last window that
    /// runs past the input's end is kept when it starts inside the input or its left padding.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D, or the window is larger than the padded input.</exception>
    /// <exception cref="TensorException">a non-positive kernel, stride or dilation, or a padding negative or larger
    /// than half the kernel.</exception>
    public Tensor MaxPool2d(int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null, bool ceilMode = false)
    {
        var (geo, x) = PoolWindow("maxPool2d", kernelSize, stride, padding, dilation, ceilMode);
        if (!geo.Unpadded)
        {
            x = x.Pad([geo.PadLeft, geo.PadRight, geo.PadTop, geo.PadBottom], PadMode.Constant, double.NegativeInfinity);
            geo = geo with { Height = x.shape[2], Width = x.shape[3], PadTop = 0, PadBottom = 0, PadLeft = 0, PadRight = 0 };
        }
        return Dispatch.Apply(Primitives.MaxPool2d, [x], geo);
    }

    /// <summary>1-D max pooling as PyTorch's <c>max_pool1d</c>: this [N, C, L] to [N, C, L'] (stride defaults to the kernel
    /// size); ties share the derivative equally; <paramref name="ceilMode"/> as in <see cref="MaxPool2d"/>.</summary>
    /// <exception cref="ShapeMismatchException">the input is not 3-D, or the window is larger than the padded input.</exception>
    /// <exception cref="TensorException">as <see cref="MaxPool2d"/>.</exception>
    public Tensor MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        if (Rank != 3) throw new ShapeMismatchException("maxPool1d", $"expected a 3-D input [N, C, L], got shape {F(shape)}");
        return Unsqueeze(2).MaxPool2d([1, kernelSize], [1, stride ?? kernelSize], [0, padding], [1, dilation], ceilMode).Squeeze(2);
    }

    /// <summary>
    /// 2-D average pooling as PyTorch's <c>avg_pool2d</c>: this [N, C, H, W] to [N, C, H', W'], each window's sum
    /// divided by the number of its positions that are counted: with <paramref name="countIncludePad"/> (PyTorch's
    /// default) the positions inside the padded input (kh·kw except where a ceil-mode window runs past the padding), else
    /// only those inside the input. Stride defaults to the kernel size; <paramref name="ceilMode"/> rounds the output size
    /// up, as in <see cref="MaxPool2d"/>.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D, or the window is larger than the padded input.</exception>
    /// <exception cref="TensorException">as <see cref="MaxPool2d"/>.</exception>
    public Tensor AvgPool2d(int[] kernelSize, int[]? stride = null, int[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
    {
        var (geo, x) = PoolWindow("avgPool2d", kernelSize, stride, padding, null, ceilMode);
        var windows = Windows(x, geo);
        int oh = geo.OutHeight, ow = geo.OutWidth;
        var rows = Counted(oh, geo.StrideH, geo.KernelH, geo.Height, geo.PadTop, countIncludePad);
        var cols = Counted(ow, geo.StrideW, geo.KernelW, geo.Width, geo.PadLeft, countIncludePad);
        if (rows.All(r => r == geo.KernelH) && cols.All(c => c == geo.KernelW))
            return windows.Mean([2]).Reshape(shape[0], shape[1], oh, ow);
        var divisor = new double[oh * ow];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) divisor[i * ow + j] = 1.0 / (rows[i] * cols[j]);
        var scale = FromArray(divisor, oh * ow).To(x.DType).ToDevice(x.Device);
        return (windows.Sum([2]) * scale).Reshape(shape[0], shape[1], oh, ow);
    }

    /// <summary>
    /// For each of <paramref name="outSize"/> windows along one axis, how many of its <paramref name="kernel"/> positions
    /// avg_pool2d counts (PyTorch's divisor): those before size + pad when padding is counted, else those inside the
    /// input. Never 0: a window starts inside the input or its left padding, and padding is at most half the kernel.
    /// </summary>
    static int[] Counted(int outSize, int stride, int kernel, int size, int pad, bool includePad)
    {
        var counts = new int[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int start = o * stride - pad, end = Math.Min(start + kernel, size + pad);
            counts[o] = includePad ? end - start : Math.Min(end, size) - Math.Max(start, 0);
        }
        return counts;
    }

    /// <summary>
    /// PyTorch's <c>adaptive_avg_pool2d</c>: this [N, C, H, W] to [N, C, oh, ow], output cell (i, j) the mean over rows
    /// ⌊i·H/oh⌋ .. ⌈(i+1)·H/oh⌉ - 1 and likewise columns. (1, 1) is global average pooling. Computed as two matmuls
    /// with averaging matrices (a mean for (1, 1)).
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D.</exception>
    /// <exception cref="TensorException">an output size is not positive.</exception>
    public Tensor AdaptiveAvgPool2d(int[] outputSize)
    {
        const string op = "adaptiveAvgPool2d";
        if (Rank != 4) throw new ShapeMismatchException(op, $"expected a 4-D input [N, C, H, W], got shape {F(shape)}");
        var (oh, ow) = Pair(op, "outputSize", outputSize, -1, -1);
        if (oh <= 0 || ow <= 0) throw new TensorException(op, $"output size must be positive, got {oh}x{ow}");
        var x = Float(op);
        if (oh == 1 && ow == 1) return x.Mean([2, 3], keepDim: true);
        return Averaging(oh, shape[2], x).MatMul(x).MatMul(Averaging(ow, shape[3], x).T);
    }

    /// <summary>The [outSize, inSize] matrix whose row i averages PyTorch's adaptive bin i.</summary>
    static Tensor Averaging(int outSize, int inSize, Tensor like)
    {
        var a = new double[outSize * inSize];
        for (int i = 0; i < outSize; i++)
        {
            int start = i * inSize / outSize, end = ((i + 1) * inSize + outSize - 1) / outSize;
            for (int j = start; j < end; j++) a[i * inSize + j] = 1.0 / (end - start);
        }
        return FromArray(a, outSize, inSize).To(like.DType).ToDevice(like.Device);
    }

    /// <summary>The validated window of a pooling op and the input as floating point. In ceil mode the bottom and right
    /// padding grow by what the last window needs past the input (PyTorch's <c>pooling_output_shape</c>).</summary>
    (Backends.ConvGeometry, Tensor) PoolWindow(string op, int[] kernelSize, int[]? stride, int[]? padding, int[]? dilation, bool ceilMode)
    {
        var (kh, kw) = Pair(op, "kernelSize", kernelSize, -1, -1);
        var (ph, pw) = Pair(op, "padding", padding, 0, 0);
        var geo = Window(op, shape, kernelSize, stride ?? [kh, kw], [ph, ph, pw, pw], dilation);
        if (2 * ph > kh || 2 * pw > kw)
            throw new TensorException(op, $"padding {ph}x{pw} must be at most half the kernel size {kh}x{kw}");
        if (ceilMode)
        {
            int Extra(int size, int pad, int k, int s, int d)
            {
                int reach = d * (k - 1) + 1, outSize = (size + 2 * pad - reach + s - 1) / s + 1;
                if ((outSize - 1) * s >= size + pad) outSize--; // the last window must start inside the input or left padding
                return Math.Max(0, (outSize - 1) * s + reach - (size + 2 * pad));
            }
            geo = geo with
            {
                PadBottom = ph + Extra(geo.Height, ph, kh, geo.StrideH, geo.DilationH),
                PadRight = pw + Extra(geo.Width, pw, kw, geo.StrideW, geo.DilationW),
            };
        }
        return (geo, Float(op));
    }

    /// <summary>x's windows as [N, C, kh·kw, L].</summary>
    static Tensor Windows(Tensor x, Backends.ConvGeometry geo) =>
        Dispatch.Apply(Primitives.Unfold, [x], geo).Reshape(x.shape[0], x.shape[1], geo.KernelSize, geo.Positions);
}
