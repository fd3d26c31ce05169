namespace FunctionalAD;

/// <summary>How <see cref="Tensor.Upsample(int[], UpsampleMode, bool)"/> computes a pixel (PyTorch's <c>mode</c>).</summary>
public enum UpsampleMode
{
    /// <summary>The input pixel the output pixel falls in (PyTorch's "nearest": index ⌊i·in/out⌋).</summary>
    Nearest,
    /// <summary>Linear interpolation between the four nearest input pixels (PyTorch's "bilinear").</summary>
    Bilinear,
}

public sealed partial class Tensor
{
    /// <summary>
    /// Resizes the last two dimensions of this [N, C, H, W] tensor to <paramref name="size"/> = (H', W') (one value:
    /// both), as PyTorch's <c>interpolate</c>/<c>Upsample</c> with <c>size</c> (shrinking works too). Nearest takes
    /// input pixel ⌊i·H/H'⌋; bilinear interpolates, with <paramref name="alignCorners"/> false the pixel centres are
    /// aligned (source (i + ½)·H/H' - ½, clamped at 0), with true the corner pixels (source i·(H - 1)/(H' - 1)).
    /// Composed of index gathers and a weighted sum, so derivatives of every order follow; bilinear converts integer
    /// inputs to Float32, nearest keeps the dtype.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D or has an empty spatial dimension.</exception>
    /// <exception cref="TensorException">a size is not positive, size has other than one or two values, or
    /// alignCorners is set with nearest.</exception>
    public Tensor Upsample(int[] size, UpsampleMode mode = UpsampleMode.Nearest, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(size);
        const string op = "upsample";
        CheckUpsample(mode, alignCorners);
        var (oh, ow) = Pair(op, "size", size, -1, -1);
        if (oh <= 0 || ow <= 0) throw new TensorException(op, $"the output size must be positive, got {F(size)}");
        return Resample(oh, ow, null, null, mode, alignCorners);
    }

    /// <summary>
    /// Resizes the last two dimensions of this [N, C, H, W] tensor by <paramref name="scaleFactor"/> (one value: both;
    /// two: height, width) to ⌊H·scale⌋ x ⌊W·scale⌋, as PyTorch's <c>interpolate</c> with <c>scale_factor</c> (the
    /// factor itself, not the rounded size ratio, places the source pixels: nearest takes ⌊i/scale⌋, bilinear without
    /// aligned corners (i + ½)/scale - ½). See the overload taking a size for the modes.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input is not 4-D or has an empty spatial dimension.</exception>
    /// <exception cref="TensorException">a factor is not positive and finite, gives an empty output, or alignCorners
    /// is set with nearest.</exception>
    public Tensor Upsample(double[] scaleFactor, UpsampleMode mode = UpsampleMode.Nearest, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(scaleFactor);
        const string op = "upsample";
        CheckUpsample(mode, alignCorners);
        var (sh, sw) = scaleFactor switch
        {
            [var a] => (a, a),
            [var a, var b] => (a, b),
            _ => throw new TensorException(op, $"scaleFactor takes one or two values, got [{string.Join(", ", scaleFactor)}]"),
        };
        if (!(sh > 0 && sw > 0 && double.IsFinite(sh) && double.IsFinite(sw)))
            throw new TensorException(op, $"the scale factors must be positive and finite, got {sh} and {sw}");
        int oh = (int)Math.Floor(shape[2] * sh), ow = (int)Math.Floor(shape[3] * sw);
        if (oh <= 0 || ow <= 0)
            throw new TensorException(op, $"scale factors {sh}x{sw} turn the {shape[2]}x{shape[3]} input into an empty {oh}x{ow} output");
        return Resample(oh, ow, sh, sw, mode, alignCorners);
    }

    void CheckUpsample(UpsampleMode mode, bool alignCorners)
    {
        const string op = "upsample";
        if (Rank != 4) throw new ShapeMismatchException(op, $"expected a 4-D input [N, C, H, W], got shape {F(shape)}");
        if (shape[2] == 0 || shape[3] == 0) throw new ShapeMismatchException(op, $"cannot resize an empty image, got shape {F(shape)}");
        if (mode == UpsampleMode.Nearest && alignCorners)
            throw new TensorException(op, "alignCorners applies to bilinear interpolation only, not to nearest");
    }

    Tensor Resample(int oh, int ow, double? scaleH, double? scaleW, UpsampleMode mode, bool alignCorners)
    {
        if (mode == UpsampleMode.Nearest)
            return IndexSelect(2, NearestIndex(shape[2], oh, scaleH)).IndexSelect(3, NearestIndex(shape[3], ow, scaleW));
        var x = DType.IsFloatingPoint() ? this : To(DType.Float32);
        x = Interpolate(x, 2, oh, scaleH, alignCorners);
        return Interpolate(x, 3, ow, scaleW, alignCorners);
    }

    /// <summary>PyTorch's nearest_idx: the same size is the identity, twice the size halves, otherwise ⌊i·scale⌋ in
    /// single precision (scale = 1/factor when a factor was given, else in/out), clamped to the input.</summary>
    Tensor NearestIndex(int input, int output, double? factor)
    {
        var index = new long[output];
        float scale = factor is double f ? (float)(1.0 / f) : (float)input / output;
        for (int i = 0; i < output; i++)
            index[i] = output == input ? i : output == 2 * input ? i >> 1 : Math.Min((long)MathF.Floor(i * scale), input - 1);
        return FromArray(index).ToDevice(Device);
    }

    /// <summary>Linear interpolation along dimension d to <paramref name="output"/> elements: x[i0]·λ0 + x[i1]·λ1
    /// with PyTorch's source indices and weights (compute_source_index_and_lambda), in single precision.</summary>
    static Tensor Interpolate(Tensor x, int d, int output, double? factor, bool alignCorners)
    {
        int input = x.shape[d];
        if (input == output) return x;
        var i0 = new long[output];
        var i1 = new long[output];
        var w0 = new double[output];
        var w1 = new double[output];
        float scale = alignCorners
            ? (output > 1 ? (float)(input - 1) / (output - 1) : 0f)
            : factor is double f ? (float)(1.0 / f) : (float)input / output;
        for (int i = 0; i < output; i++)
        {
            float source = alignCorners ? scale * i : Math.Max(scale * (i + 0.5f) - 0.5f, 0f);
            long lo = Math.Min((long)MathF.Floor(source), input - 1);
            float lambda = Math.Clamp(source - lo, 0f, 1f);
            i0[i] = lo;
            i1[i] = lo < input - 1 ? lo + 1 : lo;
            w0[i] = 1f - lambda;
            w1[i] = lambda;
        }
        var weightShape = d == 2 ? new[] { output, 1 } : new[] { output };
        var lambda0 = FromArray(w0, weightShape).To(x.DType).ToDevice(x.Device);
        var lambda1 = FromArray(w1, weightShape).To(x.DType).ToDevice(x.Device);
        return x.IndexSelect(d, FromArray(i0).ToDevice(x.Device)) * lambda0 + x.IndexSelect(d, FromArray(i1).ToDevice(x.Device)) * lambda1;
    }
}
