using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>How <see cref="Tensor.Pad"/> fills the added elements (PyTorch's <c>mode</c>).</summary>
public enum PadMode
{
    /// <summary>A constant value (0 by default).</summary>
    Constant,
    /// <summary>The input mirrored about its edge element, which is not repeated: [a b c] padded by 2 gives [c b a b c b a].</summary>
    Reflect,
    /// <summary>The edge element repeated: [a b c] padded by 2 gives [a a a b c c c].</summary>
    Replicate,
}

public sealed partial class Tensor
{
    /// <summary>
    /// PyTorch's <c>pad</c>: <paramref name="pads"/> lists (before, after) pairs from the last dimension backwards,
    /// so [1, 2] pads the last dimension with 1 element before and 2 after, and [l, r, t, b] pads width then height.
    /// Constant mode also crops where a pad is negative. Composed from slice-scatter (constant) or an index gather
    /// (reflect, replicate), so derivatives flow back to the elements that were copied, summed where one was copied
    /// several times.
    /// </summary>
    /// <exception cref="TensorException">an odd number of pads or more pairs than dimensions; a negative pad in reflect or
    /// replicate mode; a reflect pad not smaller than its dimension; replicate on an empty dimension.</exception>
    public Tensor Pad(int[] pads, PadMode mode = PadMode.Constant, double value = 0)
    {
        ArgumentNullException.ThrowIfNull(pads);
        const string op = "pad";
        if (pads.Length % 2 != 0 || pads.Length / 2 > Rank)
            throw new TensorException(op, $"pads {F(pads)} must be (before, after) pairs for at most {Rank} dimensions of a tensor of shape {F(shape)}");
        var x = this;
        bool anyAdded = false;
        for (int i = 0; i < pads.Length / 2; i++)
        {
            int d = Rank - 1 - i, before = pads[2 * i], after = pads[2 * i + 1], n = x.shape[d];
            if (before == 0 && after == 0) continue;
            if (mode == PadMode.Constant)
            {
                if (before < 0) { x = x.Narrow(d, -before, n + before); n += before; before = 0; }
                if (after < 0) { x = x.Narrow(d, 0, n + after); n += after; after = 0; }
                if (before == 0 && after == 0) continue;
                var s = (int[])x.shape.Clone();
                s[d] = n + before + after;
                x = Dispatch.Apply(Primitives.SliceScatter, [x], new SliceScatterAttr(s, d, before, 1));
                anyAdded = true;
                continue;
            }
            if (before < 0 || after < 0) throw new TensorException(op, $"{mode} padding cannot be negative, got {F(pads)}");
            if (mode == PadMode.Reflect && (before >= n || after >= n))
                throw new TensorException(op, $"reflect padding ({before}, {after}) must be smaller than dimension {d} of size {n} (shape {F(shape)})");
            if (n == 0) throw new TensorException(op, $"cannot {mode} pad the empty dimension {d} (shape {F(shape)})");
            var index = new long[before + n + after];
            for (int j = 0; j < index.Length; j++)
            {
                int at = j - before;
                index[j] = mode == PadMode.Reflect
                    ? (at < 0 ? -at : at >= n ? 2 * (n - 1) - at : at)
                    : Math.Clamp(at, 0, n - 1);
            }
            x = x.IndexSelect(d, FromArray(index).ToDevice(Device));
        }
        if (mode != PadMode.Constant || value == 0 || !anyAdded) return x;
        // Where the constant goes: the padding applied to ones is 0 exactly there.
        var added = Ones(shape, DType.Float32, Device).Pad(pads).Eq(0.0);
        return Where(added, FillValue(value, x), x);
    }

    /// <summary>The lower triangle of the last two dimensions (PyTorch's <c>tril</c>): elements with column - row ≤
    /// <paramref name="diagonal"/> kept, the rest 0. The derivative flows to the kept elements.</summary>
    /// <exception cref="ShapeMismatchException">the tensor has fewer than two dimensions.</exception>
    public Tensor Tril(int diagonal = 0) => Where(Triangle("tril", diagonal, lower: true), this, Zeros([], DType, Device));

    /// <summary>The upper triangle of the last two dimensions (PyTorch's <c>triu</c>): elements with column - row ≥
    /// <paramref name="diagonal"/> kept, the rest 0.</summary>
    /// <exception cref="ShapeMismatchException">the tensor has fewer than two dimensions.</exception>
    public Tensor Triu(int diagonal = 0) => Where(Triangle("triu", diagonal, lower: false), this, Zeros([], DType, Device));

    /// <summary>The Bool [rows, cols] mask of the last two dimensions with column - row ≤ diagonal (lower) or ≥ diagonal.</summary>
    Tensor Triangle(string op, int diagonal, bool lower)
    {
        if (Rank < 2) throw new ShapeMismatchException(op, $"expected at least 2 dimensions, got shape {F(shape)}");
        return TriangleMask(shape[^2], shape[^1], diagonal, lower, Device);
    }

    static Tensor TriangleMask(int rows, int cols, int diagonal, bool lower, Device device)
    {
        var m = new bool[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                m[i * cols + j] = lower ? j - i <= diagonal : j - i >= diagonal;
        return FromArray(m, rows, cols).ToDevice(device);
    }

    /// <summary>PyTorch's <c>masked_fill</c>: <paramref name="value"/> where the Bool <paramref name="mask"/> (broadcast
    /// to this shape) is true, this tensor elsewhere; the derivative flows to the elements kept.</summary>
    /// <exception cref="DTypeMismatchException">mask is not Bool.</exception>
    /// <exception cref="ShapeMismatchException">mask does not broadcast to this tensor's shape.</exception>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.DType != DType.Bool) throw new DTypeMismatchException("maskedFill", $"the mask must be Bool, got {mask.DType} of shape {F(mask.shape)}");
        if (!FunctionalAD.Shape.BroadcastsTo(mask.shape, shape))
            throw new ShapeMismatchException("maskedFill", $"mask of shape {F(mask.shape)} does not broadcast to {F(shape)}");
        return Where(mask, FillValue(value, this), this);
    }

    /// <summary>value as a scalar of like's dtype (integer and Bool tensors keep theirs, as in PyTorch).</summary>
    static Tensor FillValue(double value, Tensor like) => like.DType.IsFloatingPoint() ? ScalarLike(value, like) : Full([], value, like.DType, like.Device);
}
