namespace FunctionalAD;

/// <summary>Shape arithmetic shared by the ops: element counts, strides, broadcasting, axis normalisation.</summary>
public static class Shape
{
    /// <summary>"[2,3]".</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    /// <summary>The number of elements of a shape (1 for the scalar shape []).</summary>
    /// <exception cref="ShapeMismatchException">the count exceeds int.MaxValue (the count is in the message).</exception>
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n *= d;
            if (n > int.MaxValue || n < 0) throw TooLarge("shape", shape);
        }
        return (int)n;
    }

    /// <summary>The element count of a shape, exactly (it may exceed any machine integer).</summary>
    static System.Numerics.BigInteger Count(ReadOnlySpan<int> shape)
    {
        System.Numerics.BigInteger n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    static ShapeMismatchException TooLarge(string op, ReadOnlySpan<int> shape) =>
        new(op, $"shape {Format(shape)} has {Count(shape)} elements; at most {int.MaxValue} are supported");

    /// <summary>Row-major (C-order) strides of a shape.</summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        if (shape.Length == 0) return [];
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = s; s *= Math.Max(shape[i], 1); }
        return strides;
    }

    /// <summary>Checks a shape given by a user: every dimension non-negative, at most int.MaxValue elements, and the
    /// product of its non-zero sizes within int.MaxValue (strides are ints).</summary>
    /// <exception cref="ShapeMismatchException">a dimension is negative or the shape is too large (with its element count).</exception>
    public static int[] Validate(string op, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0) return shape;
        foreach (var d in shape)
            if (d < 0) throw new ShapeMismatchException(op, $"shape {Format(shape)} has a negative dimension; expected sizes >= 0");
        // Exactly, not in a wrapping 64-bit product: [65536; 65536; 65536; 65536] is 2^64 elements, not 0. Strides are
        // ints, so even an empty tensor may not have a dimension product (of its other sizes) beyond int.MaxValue.
        long n = 1;
        foreach (var d in shape)
            if (d != 0 && (n *= d) > int.MaxValue) throw TooLarge(op, shape);
        return (int[])shape.Clone();
    }

    /// <summary>The NumPy broadcast of two shapes.</summary>
    /// <exception cref="ShapeMismatchException">the shapes are not broadcastable.</exception>
    public static int[] Broadcast(string op, int[] a, int[] b)
    {
        if (a.AsSpan().SequenceEqual(b)) return a;
        int n = Math.Max(a.Length, b.Length);
        var r = new int[n];
        for (int i = 0; i < n; i++)
        {
            int da = i < n - a.Length ? 1 : a[i - (n - a.Length)];
            int db = i < n - b.Length ? 1 : b[i - (n - b.Length)];
            if (da == db || db == 1) r[i] = da;
            else if (da == 1) r[i] = db;
            else throw new ShapeMismatchException(op, $"shapes {Format(a)} and {Format(b)} are not broadcastable (dimension {i} of the broadcast: {da} vs {db})");
        }
        return r;
    }

    /// <summary>True when <paramref name="from"/> broadcasts to exactly <paramref name="to"/>.</summary>
    public static bool BroadcastsTo(int[] from, int[] to)
    {
        if (from.Length > to.Length) return false;
        int off = to.Length - from.Length;
        for (int i = 0; i < from.Length; i++)
            if (from[i] != to[i + off] && from[i] != 1) return false;
        return true;
    }

    /// <summary>Turns a possibly negative axis into 0..rank-1.</summary>
    /// <exception cref="TensorException">the axis is outside -rank..rank-1.</exception>
    public static int NormalizeAxis(string op, int axis, int rank)
    {
        // A 0-D tensor accepts -1 and 0, as in PyTorch (reducing over "it" reduces nothing).
        int span = Math.Max(rank, 1);
        int r = axis < 0 ? axis + span : axis;
        if (r < 0 || r >= span)
            throw new TensorException(op, $"dimension {axis} is out of range for a tensor of rank {rank}; expected {-span}..{span - 1}");
        return r;
    }

    /// <summary>Turns a possibly negative dimension of an op that indexes along it (slice, select, concat, ...) into
    /// 0..rank-1; a 0-D tensor has no such dimension.</summary>
    /// <exception cref="TensorException">the tensor is 0-D, or the dimension is outside -rank..rank-1.</exception>
    public static int NormalizeDim(string op, int dim, int rank)
    {
        if (rank == 0) throw new TensorException(op, $"needs a tensor with at least one dimension, got a 0-D tensor (dimension {dim} was asked for)");
        return NormalizeAxis(op, dim, rank);
    }

    /// <summary>Normalises a list of axes; null or empty means all axes. Sorted, without duplicates.</summary>
    /// <exception cref="TensorException">an axis is out of range or repeated.</exception>
    public static int[] NormalizeAxes(string op, int[]? axes, int rank)
    {
        if (axes is null || axes.Length == 0) { var all = new int[rank]; for (int i = 0; i < rank; i++) all[i] = i; return all; }
        var r = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++) r[i] = NormalizeAxis(op, axes[i], rank);
        Array.Sort(r);
        for (int i = 1; i < r.Length; i++)
            if (r[i] == r[i - 1]) throw new TensorException(op, $"dimension {r[i]} appears twice in {Format(axes)}");
        return rank == 0 ? [] : r;
    }

    /// <summary>The shape after reducing <paramref name="axes"/> (sorted, normalised).</summary>
    public static int[] Reduced(int[] shape, int[] axes, bool keepDim)
    {
        var r = new List<int>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            bool reduced = Array.IndexOf(axes, i) >= 0;
            if (!reduced) r.Add(shape[i]);
            else if (keepDim) r.Add(1);
        }
        return r.ToArray();
    }
}
