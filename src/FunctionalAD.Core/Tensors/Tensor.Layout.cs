using FunctionalAD.Autodiff;

namespace FunctionalAD;

public sealed partial class Tensor
{
    static string F(int[] s) => FunctionalAD.Shape.Format(s);

    /// <summary>The same elements with a new shape (one dimension may be -1: inferred). A view when the layout
    /// allows, a copy otherwise.</summary>
    /// <exception cref="ShapeMismatchException">the element counts differ, or more than one -1.</exception>
    public Tensor Reshape(params int[] newShape)
    {
        ArgumentNullException.ThrowIfNull(newShape);
        var s = (int[])newShape.Clone();
        int infer = -1, known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (infer >= 0) throw new ShapeMismatchException("reshape", $"shape {F(newShape)} has more than one -1");
                infer = i;
            }
            else if (s[i] < 0) throw new ShapeMismatchException("reshape", $"shape {F(newShape)} has a negative dimension");
            else known *= s[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Numel % known != 0) throw new ShapeMismatchException("reshape", $"cannot reshape a tensor of shape {F(shape)} ({Numel} elements) to {F(newShape)}");
            s[infer] = Numel / known;
        }
        if (FunctionalAD.Shape.Numel(s) != Numel)
            throw new ShapeMismatchException("reshape", $"cannot reshape a tensor of shape {F(shape)} ({Numel} elements) to {F(newShape)} ({FunctionalAD.Shape.Numel(s)} elements)");
        if (s.AsSpan().SequenceEqual(shape)) return this;
        return Dispatch.Apply(Primitives.Reshape, [this], s);
    }

    /// <summary>All elements in one dimension.</summary>
    public Tensor Flatten() => Reshape(-1);

    /// <summary>Dimensions reordered: result dimension i is dimension dims[i] (a view).</summary>
    /// <exception cref="TensorException">dims is not a permutation of 0..rank-1.</exception>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank) throw new TensorException("permute", $"got {dims.Length} dimensions {F(dims)} for a tensor of rank {Rank}; expected a permutation of all of them");
        var p = new int[dims.Length];
        var seen = new bool[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            p[i] = FunctionalAD.Shape.NormalizeAxis("permute", dims[i], Rank);
            if (seen[p[i]]) throw new TensorException("permute", $"dimension {p[i]} appears twice in {F(dims)}");
            seen[p[i]] = true;
        }
        bool identity = true;
        for (int i = 0; i < p.Length; i++) identity &= p[i] == i;
        return identity ? this : Dispatch.Apply(Primitives.Permute, [this], p);
    }

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        int a = FunctionalAD.Shape.NormalizeDim("transpose", dim0, Rank), b = FunctionalAD.Shape.NormalizeDim("transpose", dim1, Rank);
        var p = new int[Rank];
        for (int i = 0; i < Rank; i++) p[i] = i;
        (p[a], p[b]) = (p[b], p[a]);
        return Permute(p);
    }

    /// <summary>All dimensions reversed (the matrix transpose for 2-D tensors).</summary>
    public Tensor T
    {
        get
        {
            var p = new int[Rank];
            for (int i = 0; i < Rank; i++) p[i] = Rank - 1 - i;
            return Permute(p);
        }
    }

    /// <summary>A size-1 dimension inserted at <paramref name="dim"/> (-rank-1..rank).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = dim < 0 ? dim + Rank + 1 : dim;
        if (d < 0 || d > Rank) throw new TensorException("unsqueeze", $"dimension {dim} is out of range for a tensor of rank {Rank}; expected {-Rank - 1}..{Rank}");
        var s = new List<int>(shape);
        s.Insert(d, 1);
        return Reshape([.. s]);
    }

    /// <summary>Size-1 dimensions removed: all of them, or only <paramref name="dim"/> (unchanged if its size is not 1).</summary>
    public Tensor Squeeze(int? dim = null)
    {
        if (dim is null) return Reshape(shape.Where(d => d != 1).ToArray());
        int d = FunctionalAD.Shape.NormalizeAxis("squeeze", dim.Value, Rank);
        if (Rank == 0 || shape[d] != 1) return this;
        var s = new List<int>(shape);
        s.RemoveAt(d);
        return Reshape([.. s]);
    }

    /// <summary>A broadcast view of this tensor with <paramref name="target"/> shape (NumPy rules); its
    /// derivative sums over the broadcast dimensions.</summary>
    /// <exception cref="ShapeMismatchException">this shape does not broadcast to target.</exception>
    public Tensor BroadcastTo(params int[] target)
    {
        if (target.AsSpan().SequenceEqual(shape)) return this;
        if (!FunctionalAD.Shape.BroadcastsTo(shape, target))
            throw new ShapeMismatchException("broadcastTo", $"shape {F(shape)} cannot be broadcast to {F(target)}");
        return Dispatch.Apply(Primitives.Expand, [this], FunctionalAD.Shape.Validate("broadcastTo", target));
    }

    /// <summary>BroadcastTo for a shape the library computed (already broadcast-compatible, never mutated): no
    /// validation and no defensive copy, which cost as much as the view itself on small tensors.</summary>
    internal Tensor BroadcastOwned(int[] target) =>
        target.AsSpan().SequenceEqual(shape) ? this : Dispatch.Apply(Primitives.Expand, [this], target);

    /// <summary>Same as <see cref="BroadcastTo"/> (PyTorch's name).</summary>
    public Tensor Expand(params int[] target) => BroadcastTo(target);

    /// <summary>Sums this tensor down to <paramref name="target"/>, a shape that broadcasts to this one (the
    /// transpose of <see cref="BroadcastTo"/>).</summary>
    /// <exception cref="ShapeMismatchException">target does not broadcast to this shape.</exception>
    public Tensor SumTo(params int[] target)
    {
        if (target.AsSpan().SequenceEqual(shape)) return this;
        if (!FunctionalAD.Shape.BroadcastsTo(target, shape))
            throw new ShapeMismatchException("sumTo", $"shape {F(target)} does not broadcast to {F(shape)}");
        int lead = Rank - target.Length;
        var axes = new List<int>();
        for (int i = 0; i < Rank; i++)
            if (i < lead || (target[i - lead] == 1 && shape[i] != 1)) axes.Add(i);
        return Sum([.. axes], true).Reshape(target);
    }

    /// <summary>Elements start, start+step, ... before end along <paramref name="dim"/> (Python slicing: negative
    /// start/end count from the end and are clamped; end null means the end). A view.</summary>
    /// <exception cref="TensorException">step is not positive, or dim is out of range.</exception>
    public Tensor Slice(int dim, int? start = null, int? end = null, int step = 1)
    {
        int d = FunctionalAD.Shape.NormalizeDim("slice", dim, Rank);
        if (step <= 0) throw new TensorException("slice", $"step must be positive, got {step}");
        int n = shape[d];
        int s = start ?? 0, e = end ?? n;
        if (s < 0) s += n;
        if (e < 0) e += n;
        s = Math.Clamp(s, 0, n); e = Math.Clamp(e, 0, n);
        int count = e > s ? (e - s + step - 1) / step : 0;
        if (s == 0 && count == n && step == 1) return this;
        return Dispatch.Apply(Primitives.Slice, [this], new SliceAttr(d, s, count, step));
    }

    /// <summary>length elements from start along dim (a view).</summary>
    /// <exception cref="TensorException">the range is outside the dimension.</exception>
    public Tensor Narrow(int dim, int start, int length)
    {
        int d = FunctionalAD.Shape.NormalizeDim("narrow", dim, Rank);
        if (start < 0 || length < 0 || start + length > shape[d])
            throw new TensorException("narrow", $"range {start}..{start + length} is outside dimension {d} of size {shape[d]}");
        return Slice(d, start, start + length);
    }

    /// <summary>The slice at <paramref name="index"/> along <paramref name="dim"/>, with that dimension removed.</summary>
    /// <exception cref="TensorException">index is out of range (negative counts from the end).</exception>
    public Tensor Select(int dim, int index)
    {
        int d = FunctionalAD.Shape.NormalizeDim("select", dim, Rank);
        int i = index < 0 ? index + shape[d] : index;
        if (i < 0 || i >= shape[d]) throw new TensorException("select", $"index {index} is out of range for dimension {d} of size {shape[d]}");
        var s = new List<int>(shape);
        s.RemoveAt(d);
        return Slice(d, i, i + 1).Reshape([.. s]);
    }

    /// <summary>t[i, j, ...]: selects along the leading dimensions (negative indices count from the end).</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public Tensor this[params int[] indices]
    {
        get
        {
            if (indices.Length > Rank) throw new TensorException("index", $"{indices.Length} indices for a tensor of rank {Rank} (shape {FunctionalAD.Shape.Format(shape)})");
            var t = this;
            for (int k = 0; k < indices.Length; k++)
            {
                int i = indices[k];
                if (i < -shape[k] || i >= shape[k])
                    throw new TensorException("index", $"index {i} is out of range for dimension {k} of size {shape[k]} (tensor of shape {FunctionalAD.Shape.Format(shape)})");
                t = t.Select(0, i);
            }
            return t;
        }
    }

    /// <summary>Joins tensors along <paramref name="dim"/>; all other dimensions must agree. dtypes are promoted.</summary>
    /// <exception cref="ShapeMismatchException">ranks or other dimensions differ, or no tensors.</exception>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ShapeMismatchException("concat", "expected at least one tensor");
        var first = tensors[0];
        int d = FunctionalAD.Shape.NormalizeDim("concat", dim, first.Rank);
        var dtype = first.DType;
        foreach (var t in tensors)
        {
            SameDevice("concat", first, t);
            dtype = DTypes.Promote(dtype, t.DType);
            bool ok = t.Rank == first.Rank;
            for (int i = 0; ok && i < t.Rank; i++) ok = i == d || t.shape[i] == first.shape[i];
            if (!ok) throw new ShapeMismatchException("concat", $"shapes {string.Join(" and ", tensors.Select(x => F(x.shape)))} differ outside dimension {d}");
        }
        if (tensors.Count == 1) return first;
        var xs = tensors.Select(t => t.To(dtype)).ToArray();
        return Dispatch.Apply(Primitives.Concat(xs.Length), xs, d);
    }

    /// <summary>Stacks equal-shaped tensors along a new dimension <paramref name="dim"/>.</summary>
    /// <exception cref="ShapeMismatchException">the shapes differ.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ShapeMismatchException("stack", "expected at least one tensor");
        foreach (var t in tensors)
            if (!t.shape.AsSpan().SequenceEqual(tensors[0].shape))
                throw new ShapeMismatchException("stack", $"all tensors must have the same shape; got {F(tensors[0].shape)} and {F(t.shape)}");
        return Concat(tensors.Select(t => t.Unsqueeze(dim)).ToArray(), dim);
    }

    /// <summary>Splits along <paramref name="dim"/> into pieces of the given sizes (they must add up to the dimension).</summary>
    /// <exception cref="ShapeMismatchException">the sizes do not add up.</exception>
    public Tensor[] Split(int[] sizes, int dim = 0)
    {
        int d = FunctionalAD.Shape.NormalizeDim("split", dim, Rank);
        if (sizes.Any(s => s < 0) || sizes.Sum() != shape[d])
            throw new ShapeMismatchException("split", $"sizes {F(sizes)} do not add up to dimension {d} of size {shape[d]}");
        var r = new Tensor[sizes.Length];
        int at = 0;
        for (int i = 0; i < sizes.Length; i++) { r[i] = Narrow(d, at, sizes[i]); at += sizes[i]; }
        return r;
    }

    /// <summary>Splits along <paramref name="dim"/> into pieces of <paramref name="size"/> (the last may be smaller).</summary>
    /// <exception cref="TensorException">size is not positive.</exception>
    public Tensor[] Split(int size, int dim = 0)
    {
        if (size <= 0) throw new TensorException("split", $"size must be positive, got {size}");
        int d = FunctionalAD.Shape.NormalizeDim("split", dim, Rank);
        var sizes = new List<int>();
        for (int at = 0; at < shape[d]; at += size) sizes.Add(Math.Min(size, shape[d] - at));
        return Split([.. sizes], d);
    }

    /// <summary>Entries index[0], index[1], ... along <paramref name="dim"/> (index: 1-D Int32/Int64). Its derivative
    /// adds back into the selected positions (repeated indices accumulate).</summary>
    /// <exception cref="DTypeMismatchException">index is not an integer tensor.</exception>
    /// <exception cref="TensorException">index is not 1-D or an entry is out of range.</exception>
    public Tensor IndexSelect(int dim, Tensor index)
    {
        int d = FunctionalAD.Shape.NormalizeDim("indexSelect", dim, Rank);
        if (index.DType is not (DType.Int32 or DType.Int64)) throw new DTypeMismatchException("indexSelect", $"index must be Int32 or Int64, got {index.DType}");
        if (index.Rank != 1) throw new TensorException("indexSelect", $"index must be 1-D, got shape {F(index.shape)}");
        SameDevice("indexSelect", this, index);
        return Dispatch.Apply(Primitives.IndexSelect, [this], new IndexAttr(d, index.Value));
    }

    /// <summary>Flat (row-major) positions in a tensor of <paramref name="shape"/> addressed by index along dim and
    /// by their own position elsewhere (the addressing of gather and scatterAdd); validated against the shape.</summary>
    static Tensor LinearIndex(string op, int[] shape, int dim, Tensor index)
    {
        if (index.DType is not (DType.Int32 or DType.Int64)) throw new DTypeMismatchException(op, $"index must be Int32 or Int64, got {index.DType}");
        if (index.Rank != shape.Length)
            throw new ShapeMismatchException(op, $"index of shape {F(index.shape)} must have the same rank as the tensor's shape {F(shape)}");
        for (int k = 0; k < shape.Length; k++)
            if (k != dim && index.shape[k] > shape[k])
                throw new ShapeMismatchException(op, $"index of shape {F(index.shape)} is larger than {F(shape)} in dimension {k}");
        var idx = index.StopGradient().ToDevice(Device.Cpu).To(DType.Int64).ToArray<long>();
        var strides = FunctionalAD.Shape.ContiguousStrides(shape);
        var istrides = FunctionalAD.Shape.ContiguousStrides(index.shape);
        var lin = new long[idx.Length];
        for (int p = 0; p < idx.Length; p++)
        {
            long v = idx[p];
            if (v < 0 || v >= shape[dim]) throw new TensorException(op, $"index {v} is out of range for dimension {dim} of size {shape[dim]}");
            long at = 0;
            for (int k = 0, rest = p; k < shape.Length; k++)
            {
                int coord = rest / istrides[k];
                rest -= coord * istrides[k];
                at += (k == dim ? v : coord) * strides[k];
            }
            lin[p] = at;
        }
        return FromArray(lin).ToDevice(index.Device);
    }

    /// <summary>PyTorch's gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (likewise for other dims). index is
    /// Int32/Int64 with x's rank and no larger than x outside dim; the result has index's shape. Its derivative adds
    /// back into the gathered positions (<see cref="ScatterAdd"/>).</summary>
    /// <exception cref="ShapeMismatchException">ranks differ or index is larger than x outside dim.</exception>
    /// <exception cref="DTypeMismatchException">index is not Int32/Int64.</exception>
    /// <exception cref="TensorException">an index is out of range.</exception>
    /// <exception cref="DeviceMismatchException">x and index are on different devices.</exception>
    public Tensor Gather(int dim, Tensor index)
    {
        int d = FunctionalAD.Shape.NormalizeDim("gather", dim, Rank);
        SameDevice("gather", this, index);
        var lin = LinearIndex("gather", shape, d, index);
        return Reshape(-1).IndexSelect(0, lin).Reshape(index.shape);
    }

    /// <summary>PyTorch's scatter_add on zeros: a tensor of <paramref name="shape"/> where source's elements are added at
    /// the positions gather would read (repeated positions accumulate). The transpose of <see cref="Gather"/>.</summary>
    /// <exception cref="ShapeMismatchException">source and index shapes differ, or index does not fit shape.</exception>
    /// <exception cref="DTypeMismatchException">index is not Int32/Int64.</exception>
    /// <exception cref="TensorException">an index is out of range.</exception>
    /// <exception cref="DeviceMismatchException">index and source are on different devices.</exception>
    public static Tensor ScatterAdd(int[] shape, int dim, Tensor index, Tensor source)
    {
        var s = FunctionalAD.Shape.Validate("scatterAdd", shape);
        int d = FunctionalAD.Shape.NormalizeDim("scatterAdd", dim, s.Length);
        if (!index.shape.AsSpan().SequenceEqual(source.shape))
            throw new ShapeMismatchException("scatterAdd", $"index shape {F(index.shape)} and source shape {F(source.shape)} differ");
        SameDevice("scatterAdd", source, index);
        var lin = LinearIndex("scatterAdd", s, d, index);
        return Dispatch.Apply(Primitives.IndexAdd, [source.Reshape(-1)], new IndexAttr(0, lin.Value, [FunctionalAD.Shape.Numel(s)])).Reshape(s);
    }

    /// <summary>A one-hot encoding of an integer tensor: shape [..., classes], 1 at each index (dtype Float32 by default).</summary>
    /// <exception cref="DTypeMismatchException">the tensor is not Int32/Int64.</exception>
    /// <exception cref="TensorException">an index is outside 0..classes-1.</exception>
    public Tensor OneHot(int classes, DType dtype = DType.Float32)
    {
        if (DType is not (DType.Int32 or DType.Int64)) throw new DTypeMismatchException("oneHot", $"expected an Int32/Int64 tensor of class indices, got {DType}");
        var eye = Eye(classes, null, dtype, Device);
        return eye.IndexSelect(0, Flatten()).Reshape([.. shape, classes]).StopGradient();
    }

    /// <summary>The elements converted to <paramref name="dtype"/> (this tensor itself if it already is). Float to
    /// integer truncates toward zero; to Bool is "nonzero". Only float-to-float casts carry derivatives.</summary>
    public Tensor To(DType dtype) => dtype == DType ? this : Dispatch.Apply(Primitives.Cast, [this], dtype);

    /// <summary>A copy on <paramref name="device"/> (this tensor itself if it is already there); derivatives flow back.</summary>
    /// <exception cref="DeviceMismatchException">the device has no backend (e.g. no GPU).</exception>
    public Tensor ToDevice(Device device) => device == Device ? this : Dispatch.Apply(Primitives.ToDevice, [this], device);
}
