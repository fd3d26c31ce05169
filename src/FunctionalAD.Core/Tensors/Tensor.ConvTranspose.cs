namespace FunctionalAD;

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D transposed convolution as PyTorch's <c>conv_transpose2d</c> (the gradient of conv2d with respect to its
    /// input, "deconvolution"): this [N, C, H, W] and <paramref name="weight"/> [C, O/groups, kh, kw] give [N, O, H', W']
    /// with H' = (H - 1)·strideH - 2·padH + dilationH·(kh - 1) + outputPaddingH + 1. Each input pixel scatters its
    /// channel vector times the kernel into the output; <paramref name="padding"/> crops that many rows and columns
    /// on each side, <paramref name="outputPadding"/> adds rows and columns at the bottom and right (to pick one of
    /// the sizes a strided conv2d maps to the same size). stride, padding, outputPadding and dilation take one value
    /// (both dimensions) or two (height, width); <paramref name="bias"/> [O] is added per output channel. Composed of a
    /// matmul (weightᵀ · input per group) and <see cref="Fold"/>, so derivatives of every order follow.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input or weight is not 4-D, the input's channels differ from the
    /// weight's first dimension, the bias is not [O], or the output would be empty.</exception>
    /// <exception cref="TensorException">a stride or dilation is not positive, a padding or output padding is negative,
    /// an output padding is not smaller than the stride or the dilation, or groups does not divide the channels.</exception>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public Tensor ConvTranspose2d(Tensor weight, Tensor? bias = null, int[]? stride = null, int[]? padding = null,
                                  int[]? outputPadding = null, int[]? dilation = null, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(weight);
        const string op = "convTranspose2d";
        SameDevice(op, this, weight);
        if (bias is not null) SameDevice(op, this, bias);
        if (Rank != 4) throw new ShapeMismatchException(op, $"expected a 4-D input [N, C, H, W], got shape {F(shape)}");
        if (weight.Rank != 4) throw new ShapeMismatchException(op, $"expected a 4-D weight [in, out/groups, kh, kw], got shape {F(weight.shape)}");
        if (groups <= 0) throw new TensorException(op, $"groups must be positive, got {groups}");
        int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        int kh = weight.shape[2], kw = weight.shape[3], o = weight.shape[1] * groups;
        if (weight.shape[0] != c)
            throw new ShapeMismatchException(op, $"input of shape {F(shape)} has {c} channels, but weight of shape {F(weight.shape)} expects {weight.shape[0]} (weight [in, out/groups, kh, kw])");
        if (c % groups != 0)
            throw new TensorException(op, $"groups = {groups} must divide the input channels ({c}); input {F(shape)}, weight {F(weight.shape)}");
        if (bias is not null && (bias.Rank != 1 || bias.shape[0] != o))
            throw new ShapeMismatchException(op, $"bias of shape {F(bias.shape)} does not match the {o} output channels of weight {F(weight.shape)} with groups = {groups}");
        var (sh, sw) = Pair(op, "stride", stride, 1, 1);
        var (ph, pw) = Pair(op, "padding", padding, 0, 0);
        var (oh, ow) = Pair(op, "outputPadding", outputPadding, 0, 0);
        var (dh, dw) = Pair(op, "dilation", dilation, 1, 1);
        if (kh <= 0 || kw <= 0) throw new ShapeMismatchException(op, $"the kernel must not be empty, got weight {F(weight.shape)}");
        if (sh <= 0 || sw <= 0) throw new TensorException(op, $"stride must be positive, got {sh}x{sw}");
        if (dh <= 0 || dw <= 0) throw new TensorException(op, $"dilation must be positive, got {dh}x{dw}");
        if (ph < 0 || pw < 0 || oh < 0 || ow < 0)
            throw new TensorException(op, $"padding and output padding must not be negative, got {ph}x{pw} and {oh}x{ow}");
        if ((oh >= sh && oh >= dh) || (ow >= sw && ow >= dw))
            throw new TensorException(op, $"output padding {oh}x{ow} must be smaller than the stride {sh}x{sw} or the dilation {dh}x{dw}");
        // The full output before cropping: every input pixel's kernel footprint, (H - 1)·s + d·(k - 1) + 1 rows.
        int fullH = (h - 1) * sh + dh * (kh - 1) + 1, fullW = (w - 1) * sw + dw * (kw - 1) + 1;
        int outH = fullH - 2 * ph + oh, outW = fullW - 2 * pw + ow;
        if (outH <= 0 || outW <= 0)
            throw new ShapeMismatchException(op, $"the output would be {outH}x{outW}: padding {ph}x{pw} crops more than the {fullH}x{fullW} the input {F(shape)} and weight {F(weight.shape)} give");
        var dtype = DTypes.Promote(DType, weight.DType);
        if (dtype == DType.Bool) throw new DTypeMismatchException(op, "Bool tensors have no arithmetic; cast with To(DType.Float32)");
        if (!dtype.IsFloatingPoint()) dtype = DType.Float32;
        int cg = c / groups, m = o / groups * kh * kw;
        // columns[n, g, (o', i, j), l] = Σ_c' weight[g·C/groups + c', o', i, j] · x[n, g·C/groups + c', l]
        var wt = weight.To(dtype).Reshape(groups, cg, m).Transpose(1, 2).Unsqueeze(0);     // [1, g, m, C/g]
        var columns = wt.MatMul(To(dtype).Reshape(n, groups, cg, h * w)).Reshape(n, o * kh * kw, h * w);
        var full = Fold(columns, [fullH, fullW], [kh, kw], [sh, sw], null, [dh, dw]);       // [N, O, fullH, fullW]
        // padding crops ph rows at the top and bottom; output padding gives back oh rows at the bottom (zeros where
        // no kernel reaches them)
        var y = full.Pad([-pw, ow - pw, -ph, oh - ph]);
        return bias is null ? y : y + bias.To(dtype).Reshape(1, o, 1, 1);
    }
}
