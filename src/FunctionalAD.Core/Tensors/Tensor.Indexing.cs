namespace FunctionalAD;

// Scans and indexing by values (issue 17), composed from primitives. Where an op selects elements by a mask or by
// searching, the positions are computed from the values read out (they carry no derivative) and the selected values
// are an IndexSelect/Gather of the input, so derivatives flow to the elements that were chosen.
public sealed partial class Tensor
{
    /// <summary>Cumulative product along <paramref name="dim"/>: yᵢ = Π_{j ≤ i} xⱼ (a chain of products, correct with
    /// zeros and negatives, differentiable at every order).</summary>
    /// <exception cref="TensorException">dim is out of range.</exception>
    public Tensor Cumprod(int dim) => Scan("cumprod", dim, static (acc, x) => acc * x);

    /// <summary>log Σ_{j ≤ i} exp(xⱼ) along <paramref name="dim"/>, computed stably (logaddexp at each step).</summary>
    /// <exception cref="TensorException">dim is out of range.</exception>
    public Tensor LogCumSumExp(int dim) => Scan("logcumsumexp", dim, static (acc, x) => LogAddExp(acc, x));

    /// <summary>The running combination of the slices along dim: y₀ = x₀, yᵢ = step(yᵢ₋₁, xᵢ).</summary>
    Tensor Scan(string op, int dim, Func<Tensor, Tensor, Tensor> step)
    {
        var x = Float(op);
        if (Rank == 0) return x;
        int d = FunctionalAD.Shape.NormalizeDim(op, dim, Rank);
        if (shape[d] <= 1) return x;
        var slices = x.Split(1, d);
        var acc = slices[0];
        var outs = new Tensor[slices.Length];
        outs[0] = acc;
        for (int i = 1; i < slices.Length; i++) outs[i] = acc = step(acc, slices[i]);
        return Concat(outs, d);
    }

    /// <summary>Elements picked along <paramref name="dim"/> by Int64 <paramref name="indices"/> of the same rank,
    /// broadcasting the other dimensions (NumPy's take_along_axis, PyTorch's take_along_dim).</summary>
    /// <exception cref="ShapeMismatchException">the ranks differ or the other dimensions do not broadcast.</exception>
    public Tensor TakeAlongDim(Tensor indices, int dim)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int d = FunctionalAD.Shape.NormalizeDim("takeAlongDim", dim, Rank);
        if (indices.Rank != Rank) throw new ShapeMismatchException("takeAlongDim", $"indices of rank {indices.Rank} for a tensor of rank {Rank} (shapes {FunctionalAD.Shape.Format(indices.shape)} and {FunctionalAD.Shape.Format(shape)})");
        var target = (int[])shape.Clone(); target[d] = 1;
        var idxTarget = (int[])indices.shape.Clone(); idxTarget[d] = 1;
        var common = FunctionalAD.Shape.Broadcast("takeAlongDim", target, idxTarget);
        var xs = (int[])common.Clone(); xs[d] = shape[d];
        var ix = (int[])common.Clone(); ix[d] = indices.shape[d];
        return BroadcastTo(xs).Gather(d, indices.BroadcastTo(ix));
    }

    /// <summary>Elements of the flattened tensor at Int64 <paramref name="indices"/> (any shape; negative indices count
    /// from the end), in the indices' shape (PyTorch's take).</summary>
    /// <exception cref="TensorException">an index is out of range.</exception>
    public Tensor Take(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var flat = indices.StopGradient().To(DType.Int64).ToArray<long>();
        int n = Numel;
        for (int i = 0; i < flat.Length; i++)
        {
            if (flat[i] < -n || flat[i] >= n) throw new TensorException("take", $"index {flat[i]} is out of range for a tensor of {n} elements (shape {FunctionalAD.Shape.Format(shape)})");
            if (flat[i] < 0) flat[i] += n;
        }
        return Flatten().IndexSelect(0, FromArray(flat).ToDevice(Device)).Reshape(indices.shape);
    }

    /// <summary>The elements where the Bool <paramref name="mask"/> (broadcast to this shape) is true, as a 1-D tensor
    /// in row-major order (PyTorch's masked_select and t[mask]); differentiable in the selected values.</summary>
    /// <exception cref="DTypeMismatchException">mask is not Bool.</exception>
    /// <exception cref="ShapeMismatchException">mask does not broadcast to this shape.</exception>
    public Tensor MaskedSelect(Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.DType != DType.Bool) throw new DTypeMismatchException("maskedSelect", $"the mask must be Bool, got {mask.DType}");
        var s = FunctionalAD.Shape.Broadcast("maskedSelect", shape, mask.shape);
        var m = mask.StopGradient().BroadcastTo(s).ToArray<bool>();
        var positions = new List<long>();
        for (int i = 0; i < m.Length; i++) if (m[i]) positions.Add(i);
        return BroadcastTo(s).Flatten().IndexSelect(0, FromArray(positions.ToArray()).ToDevice(Device));
    }

    /// <summary>The indices (Int64, [count, rank]) of the nonzero elements in row-major order. No derivative.</summary>
    public Tensor Nonzero()
    {
        var values = StopGradient().To(DType.Float64).ToArray<double>();
        var strides = FunctionalAD.Shape.ContiguousStrides(shape);
        var found = new List<long>();
        int count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] == 0) continue;
            count++;
            int rest = i;
            for (int d = 0; d < Rank; d++) { found.Add(rest / strides[d]); rest %= strides[d]; }
        }
        return FromArray(found.ToArray(), count, Rank).ToDevice(Device);
    }

    /// <summary>Each element repeated <paramref name="repeats"/> times along <paramref name="dim"/> (PyTorch's
    /// repeat_interleave with a scalar count).</summary>
    /// <exception cref="ArgumentOutOfRangeException">repeats is negative.</exception>
    public Tensor RepeatInterleave(int repeats, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(repeats);
        int d = FunctionalAD.Shape.NormalizeDim("repeatInterleave", dim, Rank);
        var idx = new long[shape[d] * repeats];
        for (int i = 0; i < idx.Length; i++) idx[i] = i / repeats;
        return IndexSelect(d, FromArray(idx).ToDevice(Device));
    }

    /// <summary>Square matrices with the last dimension on their diagonal: [..., n] gives [..., n, n].</summary>
    /// <exception cref="TensorException">the tensor is 0-D.</exception>
    public Tensor DiagEmbed()
    {
        var x = Float("diagEmbed");
        if (Rank == 0) throw new TensorException("diagEmbed", "needs a tensor with at least one dimension, got a 0-D tensor");
        int n = shape[^1];
        return x.Unsqueeze(-1) * Eye(n, null, x.DType, Device);
    }

    /// <summary>For each value, the index of the first position in the sorted 1-D <paramref name="boundaries"/> where it
    /// could be inserted keeping the order (the left side; the right side when <paramref name="right"/>), Int64 in the
    /// values' shape (PyTorch's searchsorted on a 1-D sequence; bucketize is the same with the arguments swapped).</summary>
    /// <exception cref="ShapeMismatchException">boundaries is not 1-D.</exception>
    public static Tensor SearchSorted(Tensor boundaries, Tensor values, bool right = false)
    {
        ArgumentNullException.ThrowIfNull(boundaries); ArgumentNullException.ThrowIfNull(values);
        if (boundaries.Rank != 1) throw new ShapeMismatchException("searchsorted", $"the sorted sequence must be 1-D, got shape {FunctionalAD.Shape.Format(boundaries.shape)}");
        var b = boundaries.StopGradient().To(DType.Float64).ToArray<double>();
        var v = values.StopGradient().To(DType.Float64).ToArray<double>();
        var r = new long[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            int lo = 0, hi = b.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (right ? b[mid] <= v[i] : b[mid] < v[i]) lo = mid + 1; else hi = mid;
            }
            r[i] = lo;
        }
        return FromArray(r, values.shape).ToDevice(values.Device);
    }
}
