using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>How <see cref="Tensor.ScatterReduce"/> combines the values that land on one position (PyTorch's
/// <c>reduce</c> argument of scatter_reduce).</summary>
public enum ScatterReduction
{
    /// <summary>Their sum.</summary>
    Sum,
    /// <summary>Their product.</summary>
    Prod,
    /// <summary>Their mean (the count includes the original element when include_self).</summary>
    Mean,
    /// <summary>Their largest value; ties share the derivative equally.</summary>
    Amax,
    /// <summary>Their smallest value; ties share the derivative equally.</summary>
    Amin,
}

// Scatter, scatter-reduce and index-put (issue 17), composed from the IndexSelect/IndexAdd primitives and where.
// The positions are read out of the integer index (which carries no derivative) and grouped on the host; the values
// flow through primitives only, so every result is differentiable at every order with PyTorch's formulas:
// overwritten elements get no derivative, a product's derivative is the product of the others (exact with zeros: it
// is a chain of multiplications), and amax/amin split ties equally between the original element and the sources.
public sealed partial class Tensor
{
    /// <summary>PyTorch's scatter (out of place): a copy of this tensor with out[index[i][j]][j] = source[i][j] for dim 0
    /// (likewise for other dims). index is Int32/Int64 with this rank, no larger than source in any dimension and than
    /// this tensor outside dim; only source's leading index-shaped block is used. Where several elements land on one
    /// position the last one (in row-major order of index) wins, deterministically. Derivatives flow to the elements
    /// of this tensor that were kept and to the source elements that were written.</summary>
    /// <exception cref="ShapeMismatchException">ranks differ or index is larger than source or this tensor.</exception>
    /// <exception cref="DTypeMismatchException">index is not Int32/Int64.</exception>
    /// <exception cref="TensorException">an index is out of range (the message names it and the dimension's size).</exception>
    public Tensor Scatter(int dim, Tensor index, Tensor source)
    {
        var (_, lin, src) = ScatterPositions("scatter", dim, index, source);
        return Flatten().Overwrite(lin, src).Reshape(shape);
    }

    /// <summary>PyTorch's scatter with a scalar: a copy of this tensor with <paramref name="value"/> at the positions
    /// index addresses along dim (see <see cref="Scatter(int, Tensor, Tensor)"/>); those positions get no derivative.</summary>
    /// <exception cref="ShapeMismatchException">ranks differ or index is larger than this tensor outside dim.</exception>
    /// <exception cref="DTypeMismatchException">index is not Int32/Int64.</exception>
    /// <exception cref="TensorException">an index is out of range.</exception>
    public Tensor Scatter(int dim, Tensor index, double value)
    {
        ArgumentNullException.ThrowIfNull(index);
        return Scatter(dim, index, Full(index.shape, value, DType, Device));
    }

    /// <summary>
    /// PyTorch's scatter_reduce (out of place): the source elements are combined by <paramref name="reduce"/> into the
    /// positions index addresses along dim (as <see cref="Scatter(int, Tensor, Tensor)"/>), together with the original
    /// element when <paramref name="includeSelf"/>; positions no index addresses keep their value. Derivatives follow
    /// PyTorch's: prod's is the product of the others (exact with zeros), amax/amin share ties equally.
    /// Prod, amax and amin lay each position's values out in a row as long as the largest group.
    /// </summary>
    /// <exception cref="ShapeMismatchException">ranks differ or index is larger than source or this tensor.</exception>
    /// <exception cref="DTypeMismatchException">index is not Int32/Int64; the tensor is Bool; mean of an integer tensor.</exception>
    /// <exception cref="TensorException">an index is out of range.</exception>
    public Tensor ScatterReduce(int dim, Tensor index, Tensor source, ScatterReduction reduce, bool includeSelf = true)
    {
        const string op = "scatterReduce";
        if (DType == DType.Bool) throw new DTypeMismatchException(op, "cannot reduce Bool tensors");
        if (reduce == ScatterReduction.Mean && !DType.IsFloatingPoint())
            throw new DTypeMismatchException(op, $"mean needs a floating-point tensor, got {DType}");
        var (_, lin, src) = ScatterPositions(op, dim, index, source);
        int n = Numel;
        var self = Flatten();
        var count = new int[n];
        foreach (var p in lin) count[p]++;
        var covered = Mask(count, c => c > 0);
        if (reduce is ScatterReduction.Sum or ScatterReduction.Mean)
        {
            var kept = includeSelf ? self : Where(covered, ZerosView(self), self);
            var sum = kept + Place(src, lin, n);
            if (reduce == ScatterReduction.Sum) return sum.Reshape(shape);
            var divisor = new double[n];
            for (int i = 0; i < n; i++) divisor[i] = count[i] == 0 ? 1 : count[i] + (includeSelf ? 1 : 0);
            return Where(covered, sum / FromArray(divisor).To(DType).ToDevice(Device), self).Reshape(shape);
        }
        // one row per position: [self (when included), its sources..., padding], padding neutral for the reduction
        int width = 1;
        foreach (var c in count) width = Math.Max(width, c + (includeSelf ? 1 : 0));
        bool isFloat = DType.IsFloatingPoint();
        Tensor pad = reduce switch
        {
            ScatterReduction.Prod => Ones([1], DType, Device),
            ScatterReduction.Amax => isFloat ? Full([1], double.NegativeInfinity, DType, Device) : Concat([self, src]).Min().Reshape(1),
            _ => isFloat ? Full([1], double.PositiveInfinity, DType, Device) : Concat([self, src]).Max().Reshape(1),
        };
        int srcAt = includeSelf ? n : 0, padAt = srcAt + src.Numel;
        var pool = Concat(includeSelf ? [self, src, pad.StopGradient()] : [src, pad.StopGradient()]);
        var rows = new long[n * width];
        Array.Fill(rows, padAt);
        var filled = new int[n];
        if (includeSelf) for (int i = 0; i < n; i++) rows[i * width + filled[i]++] = i;
        for (int p = 0; p < lin.Length; p++) { long t = lin[p]; rows[t * width + filled[t]++] = srcAt + p; }
        var laid = pool.IndexSelect(0, FromArray(rows).ToDevice(Device)).Reshape(n, width);
        Tensor reduced;
        if (reduce == ScatterReduction.Prod)
        {
            var columns = laid.Unbind(1);
            reduced = columns[0];
            for (int c = 1; c < width; c++) reduced = reduced * columns[c];
        }
        else reduced = reduce == ScatterReduction.Amax ? laid.Max(1) : laid.Min(1);
        return Where(covered, reduced, self).Reshape(shape);
    }

    /// <summary>PyTorch's index_add (out of place): this tensor plus <paramref name="alpha"/>·source, whose slice i along
    /// dim is added at position index[i] (repeated indices accumulate). index: 1-D Int32/Int64 with one entry per slice of
    /// source; source has this shape except along dim.</summary>
    /// <exception cref="ShapeMismatchException">source's shape does not match.</exception>
    /// <exception cref="DTypeMismatchException">index is not Int32/Int64.</exception>
    /// <exception cref="TensorException">index is not 1-D or an entry is out of range.</exception>
    public Tensor IndexAdd(int dim, Tensor index, Tensor source, double alpha = 1)
    {
        const string op = "indexAdd";
        ArgumentNullException.ThrowIfNull(index); ArgumentNullException.ThrowIfNull(source);
        int d = FunctionalAD.Shape.NormalizeDim(op, dim, Rank);
        if (index.DType is not (DType.Int32 or DType.Int64)) throw new DTypeMismatchException(op, $"index must be Int32 or Int64, got {index.DType}");
        if (index.Rank != 1) throw new TensorException(op, $"index must be 1-D, got shape {F(index.shape)}");
        var expected = (int[])shape.Clone(); expected[d] = index.shape[0];
        if (!source.shape.AsSpan().SequenceEqual(expected))
            throw new ShapeMismatchException(op, $"source of shape {F(source.shape)} for a tensor of shape {F(shape)} and {index.shape[0]} indices along dimension {d}; expected {F(expected)}");
        SameDevice(op, this, index);
        var idx = index.StopGradient().To(DType.Int64).ToArray<long>();
        foreach (var v in idx)
            if (v < 0 || v >= shape[d]) throw new TensorException(op, $"index {v} is out of range for dimension {d} of size {shape[d]}");
        var src = alpha == 1 ? source.To(DType) : source.To(DType) * alpha;
        return this + Dispatch.Apply(Primitives.IndexAdd, [src], new IndexAttr(d, index.Value, shape));
    }

    /// <summary>
    /// PyTorch's index_put (out of place): a copy of this tensor where the positions addressed by
    /// <paramref name="indices"/> take <paramref name="values"/> (or have them added, when <paramref name="accumulate"/>).
    /// indices is one integer tensor per leading dimension (broadcast together; negative entries count from the end)
    /// or a single Bool mask over the leading dimensions; values broadcast to the indexed shape (the indices' shape
    /// followed by the dimensions not indexed). Without accumulate, a position addressed twice takes the last value.
    /// </summary>
    /// <exception cref="TensorException">more indices than dimensions, or an index out of range (named, with the
    /// dimension's size).</exception>
    /// <exception cref="DTypeMismatchException">an index is not Int32/Int64 (or a lone Bool mask).</exception>
    /// <exception cref="ShapeMismatchException">indices or values do not broadcast, or a mask of the wrong shape.</exception>
    public Tensor IndexPut(Tensor[] indices, Tensor values, bool accumulate = false)
    {
        const string op = "indexPut";
        ArgumentNullException.ThrowIfNull(indices); ArgumentNullException.ThrowIfNull(values);
        var (rows, lead, k) = RowPositions(op, indices);
        int n = FunctionalAD.Shape.Numel(shape.AsSpan(0, k));
        var rest = shape[k..];
        var target = values.To(DType).BroadcastTo([.. lead, .. rest]).Reshape([rows.Length, .. rest]);
        var self = Reshape([n, .. rest]);
        if (accumulate)
            return (self + Dispatch.Apply(Primitives.IndexAdd, [target], new IndexAttr(0, FromArray(rows).ToDevice(Device).Value, [n, .. rest]))).Reshape(shape);
        return self.Overwrite(rows, target).Reshape(shape);
    }

    /// <summary>The bucket of each value among sorted 1-D <paramref name="boundaries"/> (Int64, in input's shape):
    /// the i with boundaries[i-1] &lt; x ≤ boundaries[i], or boundaries[i-1] ≤ x &lt; boundaries[i] when
    /// <paramref name="right"/> (PyTorch's bucketize: searchsorted with the arguments swapped). No derivative.</summary>
    /// <exception cref="ShapeMismatchException">boundaries is not 1-D.</exception>
    public static Tensor Bucketize(Tensor input, Tensor boundaries, bool right = false) => SearchSorted(boundaries, input, right);

    /// <summary>
    /// Indexing by a tensor (PyTorch's t[mask] and t[idx]): a Bool <paramref name="index"/> whose shape equals the
    /// leading dimensions of this tensor selects those elements (rows), giving [count, remaining dims...] (1-D for a
    /// mask of this tensor's shape); an Int32/Int64 index of any shape selects along dimension 0 (negative entries
    /// count from the end), giving index's shape followed by the remaining dimensions. Derivatives flow back to the
    /// selected elements (repeated indices accumulate).
    /// </summary>
    /// <exception cref="ShapeMismatchException">a mask whose shape is not this tensor's leading dimensions.</exception>
    /// <exception cref="TensorException">an index out of range (the message names it and the size of dimension 0),
    /// or indexing a 0-D tensor.</exception>
    /// <exception cref="DTypeMismatchException">index is neither Bool nor Int32/Int64.</exception>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public Tensor this[Tensor index]
    {
        get
        {
            var (rows, lead, k) = RowPositions("index", [index]);
            var rest = shape[k..];
            int n = FunctionalAD.Shape.Numel(shape.AsSpan(0, k));
            return Reshape([n, .. rest]).IndexSelect(0, FromArray(rows).ToDevice(Device)).Reshape([.. lead, .. rest]);
        }
    }

    /// <summary>Row positions (row-major over the first k dimensions) addressed by integer index tensors (broadcast
    /// together) or one Bool mask over the leading dimensions, with the indexed shape and k.</summary>
    (long[] Rows, int[] Lead, int K) RowPositions(string op, Tensor[] indices)
    {
        if (indices.Length == 0) throw new TensorException(op, "expected at least one index tensor");
        foreach (var t in indices) ArgumentNullException.ThrowIfNull(t);
        if (indices.Length == 1 && indices[0].DType == DType.Bool)
        {
            var mask = indices[0];
            if (mask.Rank > Rank || !mask.shape.AsSpan().SequenceEqual(shape.AsSpan(0, mask.Rank)))
                throw new ShapeMismatchException(op, $"a Bool mask of shape {F(mask.shape)} for a tensor of shape {F(shape)}; the mask's shape must equal the tensor's leading dimensions");
            var m = mask.StopGradient().ToArray<bool>();
            var picked = new List<long>();
            for (int i = 0; i < m.Length; i++) if (m[i]) picked.Add(i);
            return (picked.ToArray(), [picked.Count], mask.Rank);
        }
        if (Rank == 0) throw new TensorException(op, "cannot index a 0-D tensor");
        if (indices.Length > Rank) throw new TensorException(op, $"{indices.Length} index tensors for a tensor of rank {Rank} (shape {F(shape)})");
        var lead = indices[0].shape;
        foreach (var t in indices)
        {
            if (t.DType is not (DType.Int32 or DType.Int64))
                throw new DTypeMismatchException(op, $"index tensors must be Int32 or Int64 (or one Bool mask), got {t.DType}");
            lead = FunctionalAD.Shape.Broadcast(op, lead, t.shape);
        }
        var rows = new long[FunctionalAD.Shape.Numel(lead)];
        for (int j = 0; j < indices.Length; j++)
        {
            var v = indices[j].StopGradient().BroadcastTo(lead).To(DType.Int64).ToArray<long>();
            int size = shape[j];
            for (int p = 0; p < v.Length; p++)
            {
                long i = v[p];
                if (i < -size || i >= size)
                    throw new TensorException(op, $"index {i} is out of range for dimension {j} of size {size} (tensor of shape {F(shape)})");
                rows[p] = rows[p] * size + (i < 0 ? i + size : i);
            }
        }
        return (rows, lead, indices.Length);
    }

    /// <summary>Validates scatter's operands; the flat target position of each used source element and those
    /// elements (flattened, in this dtype).</summary>
    (int Dim, long[] Positions, Tensor Source) ScatterPositions(string op, int dim, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index); ArgumentNullException.ThrowIfNull(source);
        int d = FunctionalAD.Shape.NormalizeDim(op, dim, Rank);
        if (source.Rank != index.Rank)
            throw new ShapeMismatchException(op, $"source of shape {F(source.shape)} and index of shape {F(index.shape)} must have the same rank");
        for (int k = 0; k < index.Rank; k++)
            if (index.shape[k] > source.shape[k])
                throw new ShapeMismatchException(op, $"index of shape {F(index.shape)} is larger than source of shape {F(source.shape)} in dimension {k}");
        SameDevice(op, this, index);
        SameDevice(op, this, source);
        var lin = LinearIndex(op, shape, d, index).ToArray<long>();
        var src = source;
        for (int k = 0; k < index.Rank; k++)
            if (src.shape[k] != index.shape[k]) src = src.Narrow(k, 0, index.shape[k]);
        return (d, lin, src.To(DType).Flatten());
    }

    /// <summary>This tensor (rows along dim 0) with rows[p] replaced by values' slice p; the last write wins.</summary>
    Tensor Overwrite(long[] rows, Tensor values)
    {
        int n = shape[0];
        var winner = new int[n];
        Array.Fill(winner, -1);
        for (int p = 0; p < rows.Length; p++) winner[rows[p]] = p;
        var targets = new List<long>();
        var sources = new List<long>();
        for (int i = 0; i < n; i++)
            if (winner[i] >= 0) { targets.Add(i); sources.Add(winner[i]); }
        var chosen = values.IndexSelect(0, FromArray(sources.ToArray()).ToDevice(Device));
        var placed = Dispatch.Apply(Primitives.IndexAdd, [chosen], new IndexAttr(0, FromArray(targets.ToArray()).ToDevice(Device).Value, shape));
        var covered = Mask(winner, w => w >= 0);
        if (Rank > 1) covered = covered.Reshape([n, .. Enumerable.Repeat(1, Rank - 1)]);
        return Where(covered, placed, this);
    }

    /// <summary>Zeros of length n with values[p] added at positions[p].</summary>
    Tensor Place(Tensor values, long[] positions, int n) =>
        Dispatch.Apply(Primitives.IndexAdd, [values], new IndexAttr(0, FromArray(positions).ToDevice(Device).Value, [n]));

    Tensor Mask(int[] values, Func<int, bool> test)
    {
        var m = new bool[values.Length];
        for (int i = 0; i < m.Length; i++) m[i] = test(values[i]);
        return FromArray(m).ToDevice(Device);
    }
}
