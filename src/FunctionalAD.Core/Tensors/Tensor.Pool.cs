using FunctionalAD.Autodiff;

namespace FunctionalAD;

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D max pooling as PyTorch's <c>max_pool2d</c>: this [N, C, H, W] to [N, C, H', W'], the largest element of each
    /// kernel window (padding counts as -∞; stride defaults to the kernel size; floor mode). Ties within a window share
    /// the derivative equally, as in <see cref="Max(int[], bool)"/>. Integer input is
    /// converted to Float32.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D, or the window is larger than the padded input.</exception>
    /// <exception cref="TensorException">a non-positive kernel, stride or dilation, or a padding negative or larger
    /// than half the kernel.</exception>
    public Tensor MaxPool2d(int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null)
    {
        var (geo, x) = PoolWindow("maxPool2d", kernelSize, stride, padding, dilation);
        if (!geo.Unpadded)
        {
            x = x.Pad([geo.PadLeft, geo.PadRight, geo.PadTop, geo.PadBottom], PadMode.Constant, double.NegativeInfinity);
            geo = geo with { Height = x.shape[2], Width = x.shape[3], PadTop = 0, PadBottom = 0, PadLeft = 0, PadRight = 0 };
        }
        return Dispatch.Apply(Primitives.MaxPool2d, [x], geo);
    }

    /// <summary>1-D max pooling as PyTorch's <c>max_pool1d</c>: this [N, C, L] to [N, C, L'] (stride defaults to the kernel
    /// size); ties share the derivative equally.</summary>
    /// <exception cref="ShapeMismatchException">the input is not 3-D, or the window is larger than the padded input.</exception>
    /// <exception cref="TensorException">as <see cref="MaxPool2d"/>.</exception>
    public Tensor MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1)
    {
        if (Rank != 3) throw new ShapeMismatchException("maxPool1d", $"expected a 3-D input [N, C, L], got shape {F(shape)}");
        return Unsqueeze(2).MaxPool2d([1, kernelSize], [1, stride ?? kernelSize], [0, padding], [1, dilation]).Squeeze(2);
    }

    /// <summary>
    /// 2-D average pooling as PyTorch's <c>avg_pool2d</c> (count_include_pad = true, floor mode): this [N, C, H, W] to
    /// [N, C, H', W'], each window's sum (zero padding included) divided by kh·kw. Stride defaults to the kernel size.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D, or the window is larger than the padded input.</exception>
    /// <exception cref="TensorException">as <see cref="MaxPool2d"/>.</exception>
    public Tensor AvgPool2d(int[] kernelSize, int[]? stride = null, int[]? padding = null)
    {
        var (geo, x) = PoolWindow("avgPool2d", kernelSize, stride, padding, null);
        return Windows(x, geo).Mean([2]).Reshape(shape[0], shape[1], geo.OutHeight, geo.OutWidth);
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

    /// <summary>The validated window of a pooling op and the input as floating point.</summary>
    (Backends.ConvGeometry, Tensor) PoolWindow(string op, int[] kernelSize, int[]? stride, int[]? padding, int[]? dilation)
    {
        var (kh, kw) = Pair(op, "kernelSize", kernelSize, -1, -1);
        var (ph, pw) = Pair(op, "padding", padding, 0, 0);
        var geo = Window(op, shape, kernelSize, stride ?? [kh, kw], [ph, ph, pw, pw], dilation);
        if (2 * ph > kh || 2 * pw > kw)
            throw new TensorException(op, $"padding {ph}x{pw} must be at most half the kernel size {kh}x{kw}");
        return (geo, Float(op));
    }

    /// <summary>x's windows as [N, C, kh·kw, L].</summary>
    static Tensor Windows(Tensor x, Backends.ConvGeometry geo) =>
        Dispatch.Apply(Primitives.Unfold, [x], geo).Reshape(x.shape[0], x.shape[1], geo.KernelSize, geo.Positions);
}
