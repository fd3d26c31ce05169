namespace FunctionalAD;

// Sorting and order statistics (issue 17). The order itself has no derivative: argsort is computed from the values
// (read out, sorted stably, NaN counted as the largest value as in PyTorch) and the sorted values are a gather of the
// input by it, so their derivative flows back to the elements they came from, at every order.
public sealed partial class Tensor
{
    /// <summary>The indices (Int64) that sort the tensor along <paramref name="dim"/> (ascending unless
    /// <paramref name="descending"/>); a stable sort, NaN after every number (before, descending).</summary>
    /// <exception cref="TensorException">dim is out of range, or the tensor is Bool.</exception>
    public Tensor Argsort(int dim = -1, bool descending = false)
    {
        // integers compare as Float64, exact up to 2^53
        var x = (DType.IsFloatingPoint() || DType == DType.Bool ? Float("argsort") : To(DType.Float64)).StopGradient();
        int d = FunctionalAD.Shape.NormalizeDim("argsort", dim, Rank);
        // rows along the last axis: [outer, n]
        var moved = x.Movedim(d, -1);
        int n = shape[d], rows = n == 0 ? 0 : Numel / n;
        var values = moved.ToDoubleArray();
        var order = new long[values.Length];
        var idx = new int[n];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < n; i++) idx[i] = i;
            int off = r * n;
            int Compare(int a, int b)
            {
                double va = values[off + a], vb = values[off + b];
                int c = double.IsNaN(va) ? (double.IsNaN(vb) ? 0 : 1) : double.IsNaN(vb) ? -1 : va.CompareTo(vb);
                if (descending) c = -c;
                return c != 0 ? c : a.CompareTo(b); // stable
            }
            Array.Sort(idx, Compare);
            for (int i = 0; i < n; i++) order[off + i] = idx[i];
        }
        return FromArray(order, moved.shape).ToDevice(Device).Movedim(-1, d);
    }

    /// <summary>The values sorted along <paramref name="dim"/> and the indices they came from (see <see cref="Argsort"/>);
    /// the values are differentiable.</summary>
    public (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false)
    {
        var indices = Argsort(dim, descending);
        return (Gather(dim, indices), indices);
    }

    /// <summary>The <paramref name="k"/> largest (or smallest) values along <paramref name="dim"/>, sorted, with their
    /// indices (PyTorch's topk).</summary>
    /// <exception cref="TensorException">k is negative or larger than the dimension.</exception>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true)
    {
        int d = FunctionalAD.Shape.NormalizeDim("topk", dim, Rank);
        if (k < 0 || k > shape[d]) throw new TensorException("topk", $"k = {k} is outside 0..{shape[d]} (dimension {d} of shape {FunctionalAD.Shape.Format(shape)})");
        var indices = Argsort(d, descending: largest).Narrow(d, 0, k);
        return (Gather(d, indices), indices);
    }

    /// <summary>The <paramref name="k"/>-th smallest value (1-based) along <paramref name="dim"/> and its index.</summary>
    /// <exception cref="TensorException">k is outside 1..size.</exception>
    public (Tensor Values, Tensor Indices) Kthvalue(int k, int dim = -1, bool keepDim = false)
    {
        int d = FunctionalAD.Shape.NormalizeDim("kthvalue", dim, Rank);
        if (k < 1 || k > shape[d]) throw new TensorException("kthvalue", $"k = {k} is outside 1..{shape[d]} (dimension {d} of shape {FunctionalAD.Shape.Format(shape)})");
        var indices = Argsort(d).Narrow(d, k - 1, 1);
        var values = Gather(d, indices);
        return keepDim ? (values, indices) : (values.Squeeze(d), indices.Squeeze(d));
    }

    /// <summary>The lower median along <paramref name="dim"/> (PyTorch's median: for an even count, the smaller of the
    /// two middle values; NaN where the row holds a NaN) and its index.</summary>
    public (Tensor Values, Tensor Indices) Median(int dim = -1, bool keepDim = false)
    {
        int d = FunctionalAD.Shape.NormalizeDim("median", dim, Rank);
        if (shape[d] == 0) throw new TensorException("median", $"dimension {d} of shape {FunctionalAD.Shape.Format(shape)} is empty");
        var (values, indices) = Kthvalue((shape[d] + 1) / 2, d, keepDim);
        return (NanWhereRowHasNan(values, d, keepDim), indices);
    }

    /// <summary>values with NaN wherever the reduced row of this tensor along d holds a NaN (PyTorch's median and
    /// quantile propagate NaN; sorting alone would put it last and answer with a number).</summary>
    Tensor NanWhereRowHasNan(Tensor values, int d, bool keepDim)
    {
        if (!DType.IsFloatingPoint()) return values;
        var hasNan = Ne(this).To(DType.Int64).Sum([d], keepDim).Gt(0.0);
        return Where(hasNan, ScalarLike(double.NaN, values), values);
    }

    /// <summary>The <paramref name="q"/>-quantile (q in [0, 1]) along <paramref name="dim"/> with linear interpolation
    /// between the two nearest order statistics (PyTorch's default; NaN where the row holds a NaN); differentiable in
    /// the values.</summary>
    /// <exception cref="TensorException">q outside [0, 1], or an empty dimension.</exception>
    public Tensor Quantile(double q, int dim = -1, bool keepDim = false)
    {
        if (!(q >= 0 && q <= 1)) throw new TensorException("quantile", $"q = {q} is outside [0, 1]");
        int d = FunctionalAD.Shape.NormalizeDim("quantile", dim, Rank);
        int n = shape[d];
        if (n == 0) throw new TensorException("quantile", $"dimension {d} of shape {FunctionalAD.Shape.Format(shape)} is empty");
        var sorted = Sort(d).Values;
        double pos = q * (n - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, n - 1);
        double frac = pos - lo;
        var a = sorted.Narrow(d, lo, 1);
        var r = frac == 0 ? a : a + (sorted.Narrow(d, hi, 1) - a) * frac;
        return NanWhereRowHasNan(keepDim ? r : r.Squeeze(d), d, keepDim);
    }

    /// <summary>
    /// The distinct values of the flattened tensor in ascending order (NaN last, each NaN distinct as in PyTorch), with
    /// for every element the index of its value in that list (<c>Inverse</c>, in the tensor's shape) and how often
    /// each value occurs (<c>Counts</c>). No derivative (PyTorch's unique has none either).
    /// </summary>
    public (Tensor Values, Tensor Inverse, Tensor Counts) Unique()
    {
        var x = StopGradient();
        var flat = x.Reshape(-1);
        var order = flat.Argsort().ToArray<long>();
        var values = (DType.IsFloatingPoint() || DType == DType.Bool ? flat.Float("unique") : flat.To(DType.Float64)).ToDoubleArray();
        var keep = new List<long>();
        var counts = new List<long>();
        var inverse = new long[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            double v = values[order[i]];
            bool same = i > 0 && v == values[order[i - 1]]; // NaN != NaN: each NaN is its own value
            if (!same) { keep.Add(order[i]); counts.Add(0); }
            counts[^1]++;
            inverse[order[i]] = keep.Count - 1;
        }
        var uniques = flat.IndexSelect(0, FromArray(keep.ToArray()).ToDevice(Device));
        return (uniques, FromArray(inverse, shape).ToDevice(Device), FromArray(counts.ToArray()).ToDevice(Device));
    }
}
