using FunctionalAD.Autodiff;
using FunctionalAD.Backends;

namespace FunctionalAD;

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution as PyTorch's <c>conv2d</c> (cross-correlation): this [N, C, H, W] and <paramref name="weight"/>
    /// [O, C/groups, kh, kw] give [N, O, H', W'] with H' = ⌊(H + 2·padH - dilationH·(kh - 1) - 1) / strideH⌋ + 1.
    /// stride, padding and dilation take one value (both dimensions) or two (height, width); groups splits the
    /// channels (groups = C = O/m is a depthwise convolution). <paramref name="bias"/> [O] is added per output
    /// channel. One primitive (unfold + matmul on the backend); integer inputs are converted to Float32.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D, the weight not 4-D, the channels do not match
    /// weight and groups, the bias is not [O], the dilated kernel is larger than the padded input, or the output (or the
    /// padded input, or the windows' columns) would have more than int.MaxValue elements.</exception>
    /// <exception cref="TensorException">a stride or dilation is not positive, a padding is negative, or groups does not divide the channels.</exception>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public Tensor Conv2d(Tensor weight, Tensor? bias = null, int[]? stride = null, int[]? padding = null, int[]? dilation = null, int groups = 1)
    {
        var (ph, pw) = Pair("conv2d", "padding", padding, 0, 0);
        return Conv("conv2d", weight, bias, stride, [ph, ph, pw, pw], dilation, groups, same: false);
    }

    /// <summary>2-D convolution with padding given by name, as PyTorch: "valid" (none) or "same" (the output has the
    /// input's size; stride must be 1; an odd total padding puts the extra row/column at the bottom/right).</summary>
    /// <exception cref="TensorException">padding is neither "same" nor "valid", or "same" with a stride other than 1;
    /// and those of the overload with numeric padding.</exception>
    public Tensor Conv2d(Tensor weight, Tensor? bias, int[]? stride, string padding, int[]? dilation = null, int groups = 1) =>
        Conv("conv2d", weight, bias, stride, null, dilation, groups, same: PaddingName("conv2d", padding));

    /// <summary>1-D convolution as PyTorch's <c>conv1d</c>: this [N, C, L] and <paramref name="weight"/> [O, C/groups,
    /// k] give [N, O, L']; computed as a conv2d of height 1. Bias [O] optional.</summary>
    /// <exception cref="ShapeMismatchException">the input or weight is not 3-D, channels do not match, or the kernel
    /// is larger than the padded input.</exception>
    /// <exception cref="TensorException">a non-positive stride/dilation/groups or a negative padding.</exception>
    public Tensor Conv1d(Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        var (x, w) = As2d("conv1d", weight, groups);
        return x.Conv("conv1d", w, bias, [1, stride], [0, 0, padding, padding], [1, dilation], groups, same: false).Squeeze(2);
    }

    /// <summary>1-D convolution with padding "same" or "valid" (see the conv2d overload).</summary>
    /// <exception cref="TensorException">padding is neither "same" nor "valid"; and those of the other overload.</exception>
    public Tensor Conv1d(Tensor weight, Tensor? bias, int stride, string padding, int dilation = 1, int groups = 1)
    {
        bool same = PaddingName("conv1d", padding);
        var (x, w) = As2d("conv1d", weight, groups);
        return x.Conv("conv1d", w, bias, [1, stride], null, [1, dilation], groups, same).Squeeze(2);
    }

    /// <summary>
    /// PyTorch's <c>unfold</c> (im2col): this [N, C, H, W] to [N, C·kh·kw, L], column l holding the (zero-padded)
    /// window at output position l, rows ordered channel, kernel row, kernel column. Linear; its transpose is
    /// <see cref="Fold"/>.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D, the window is larger than the padded input, or the
    /// columns would have more than int.MaxValue elements.</exception>
    /// <exception cref="TensorException">a non-positive kernel, stride or dilation, or a negative padding.</exception>
    public Tensor Unfold(int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null)
    {
        var (ph, pw) = Pair("unfold", "padding", padding, 0, 0);
        var geo = Window("unfold", shape, kernelSize, stride, [ph, ph, pw, pw], dilation);
        return Dispatch.Apply(Primitives.Unfold, [this], geo);
    }

    /// <summary>
    /// PyTorch's <c>fold</c> (col2im), the transpose of <see cref="Unfold"/>: <paramref name="columns"/> [N, C·kh·kw, L]
    /// to [N, C, H, W] with <paramref name="outputSize"/> = (H, W), summing overlapping entries.
    /// </summary>
    /// <exception cref="ShapeMismatchException">columns is not 3-D, or its sizes do not match the window geometry.</exception>
    public static Tensor Fold(Tensor columns, int[] outputSize, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Rank != 3) throw new ShapeMismatchException("fold", $"expected columns [N, C·kh·kw, L], got shape {F(columns.shape)}");
        var (h, w) = Pair("fold", "outputSize", outputSize, -1, -1);
        var (kh, kw) = Pair("fold", "kernelSize", kernelSize, -1, -1);
        if (kh <= 0 || kw <= 0 || columns.shape[1] % (kh * kw) != 0)
            throw new ShapeMismatchException("fold", $"columns of shape {F(columns.shape)} do not hold whole {kh}x{kw} kernels");
        var (ph, pw) = Pair("fold", "padding", padding, 0, 0);
        var geo = Window("fold", [columns.shape[0], columns.shape[1] / (kh * kw), h, w], kernelSize, stride, [ph, ph, pw, pw], dilation);
        if (columns.shape[2] != geo.Positions)
            throw new ShapeMismatchException("fold", $"columns of shape {F(columns.shape)} have {columns.shape[2]} positions, but a {kh}x{kw} window over {h}x{w} gives {geo.Positions}");
        return Dispatch.Apply(Primitives.Fold, [columns.Float("fold")], geo);
    }

    Tensor Conv(string op, Tensor weight, Tensor? bias, int[]? stride, int[]? pads, int[]? dilation, int groups, bool same)
    {
        ArgumentNullException.ThrowIfNull(weight);
        SameDevice(op, this, weight);
        if (bias is not null) SameDevice(op, this, bias);
        if (Rank != 4) throw new ShapeMismatchException(op, $"expected a 4-D input [N, C, H, W], got shape {F(shape)}");
        if (weight.Rank != 4) throw new ShapeMismatchException(op, $"expected a 4-D weight [out, in/groups, kh, kw], got shape {F(weight.shape)}");
        if (groups <= 0) throw new TensorException(op, $"groups must be positive, got {groups}");
        int c = shape[1], o = weight.shape[0];
        if (c % groups != 0 || o % groups != 0)
            throw new TensorException(op, $"groups = {groups} must divide the input channels ({c}) and the output channels ({o}); input {F(shape)}, weight {F(weight.shape)}");
        if (weight.shape[1] * groups != c)
            throw new ShapeMismatchException(op, $"input of shape {F(shape)} has {c} channels, but weight of shape {F(weight.shape)} with groups = {groups} expects {weight.shape[1] * groups}");
        if (bias is not null && (bias.Rank != 1 || bias.shape[0] != o))
            throw new ShapeMismatchException(op, $"bias of shape {F(bias.shape)} does not match the {o} output channels of weight {F(weight.shape)}");
        if (same)
        {
            var (sh, sw) = Pair(op, "stride", stride, 1, 1);
            if (sh != 1 || sw != 1) throw new TensorException(op, $"padding \"same\" needs stride 1, got {sh}x{sw}");
            var (dh, dw) = Pair(op, "dilation", dilation, 1, 1);
            int th = dh * (weight.shape[2] - 1), tw = dw * (weight.shape[3] - 1);
            pads = [th / 2, th - th / 2, tw / 2, tw - tw / 2];
        }
        var geo = Window(op, shape, [weight.shape[2], weight.shape[3]], stride, pads ?? [0, 0, 0, 0], dilation) with { Groups = groups };
        FitsInTensor(op, "the output", (double)shape[0] * o * geo.OutHeight * geo.OutWidth, shape, pads ?? [0, 0, 0, 0]);
        var dtype = DTypes.Promote(DType, weight.DType);
        if (dtype == DType.Bool) throw new DTypeMismatchException(op, "Bool tensors have no arithmetic; cast with To(DType.Float32)");
        if (!dtype.IsFloatingPoint()) dtype = DType.Float32;
        // a bias of the result's dtype is added by the kernel as it writes the output; any other keeps type promotion
        if (bias is not null && bias.DType == dtype) return Dispatch.Apply(Primitives.Conv2dBias, [To(dtype), weight.To(dtype), bias], geo);
        var y = Dispatch.Apply(Primitives.Conv2d, [To(dtype), weight.To(dtype)], geo);
        return bias is null ? y : y + bias.Reshape(1, o, 1, 1);
    }

    /// <summary>The geometry of a sliding window over an input of shape [N, C, H, W], validated.</summary>
    static ConvGeometry Window(string op, int[] input, int[] kernelSize, int[]? stride, int[] pads, int[]? dilation)
    {
        if (input.Length != 4) throw new ShapeMismatchException(op, $"expected a 4-D input [N, C, H, W], got shape {F(input)}");
        var (kh, kw) = Pair(op, "kernelSize", kernelSize, -1, -1);
        var (sh, sw) = Pair(op, "stride", stride, 1, 1);
        var (dh, dw) = Pair(op, "dilation", dilation, 1, 1);
        if (kh <= 0 || kw <= 0) throw new TensorException(op, $"kernel size must be positive, got {kh}x{kw}");
        if (sh <= 0 || sw <= 0) throw new TensorException(op, $"stride must be positive, got {sh}x{sw}");
        if (dh <= 0 || dw <= 0) throw new TensorException(op, $"dilation must be positive, got {dh}x{dw}");
        if (pads.Any(p => p < 0)) throw new TensorException(op, $"padding must not be negative, got {F(pads)}");
        var geo = new ConvGeometry(input[1], input[2], input[3], kh, kw, sh, sw, pads[0], pads[1], pads[2], pads[3], dh, dw);
        int eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
        if (eh > geo.PaddedHeight || ew > geo.PaddedWidth)
            throw new ShapeMismatchException(op, $"kernel {kh}x{kw} (dilated {eh}x{ew}) is larger than the padded input {geo.PaddedHeight}x{geo.PaddedWidth} (input {F(input)}, padding {F(pads)})");
        // what the window ops materialize: the padded input and the columns of every window
        FitsInTensor(op, "the padded input", (double)input[0] * input[1] * geo.PaddedHeight * geo.PaddedWidth, input, pads);
        FitsInTensor(op, "the windows' columns", (double)input[0] * input[1] * kh * kw * geo.OutHeight * geo.OutWidth, input, pads);
        return geo;
    }

    /// <summary>Refuses a window op whose intermediate or result would have more elements than a tensor holds
    /// (int.MaxValue), instead of an overflow inside a kernel. Counted in floating point, which cannot overflow.</summary>
    static void FitsInTensor(string op, string what, double count, int[] input, int[] pads)
    {
        if (count > int.MaxValue)
            throw new ShapeMismatchException(op, $"{what} would have {count:0} elements, more than a tensor holds ({int.MaxValue}): input {F(input)}, padding {F(pads)}");
    }

    /// <summary>A (height, width) pair from one value, two values, or the default when null.</summary>
    static (int, int) Pair(string op, string name, int[]? v, int dh, int dw) => v switch
    {
        null => (dh, dw),
        [var a] => (a, a),
        [var a, var b] => (a, b),
        _ => throw new TensorException(op, $"{name} takes one or two values, got {F(v)}"),
    };

    static bool PaddingName(string op, string padding) => padding switch
    {
        "same" => true,
        "valid" => false,
        _ => throw new TensorException(op, $"padding must be \"same\", \"valid\" or numbers, got \"{padding}\""),
    };

    /// <summary>This [N, C, L] and weight [O, C/g, k] as height-1 images for conv2d; ranks and channels are checked
    /// here so that errors show the 1-D shapes.</summary>
    (Tensor, Tensor) As2d(string op, Tensor weight, int groups)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (Rank != 3) throw new ShapeMismatchException(op, $"expected a 3-D input [N, C, L], got shape {F(shape)}");
        if (weight.Rank != 3) throw new ShapeMismatchException(op, $"expected a 3-D weight [out, in/groups, k], got shape {F(weight.shape)}");
        if (groups > 0 && weight.shape[1] * groups != shape[1])
            throw new ShapeMismatchException(op, $"input of shape {F(shape)} has {shape[1]} channels, but weight of shape {F(weight.shape)} with groups = {groups} expects {weight.shape[1] * groups}");
        return (Unsqueeze(2), weight.Unsqueeze(2));
    }
}
