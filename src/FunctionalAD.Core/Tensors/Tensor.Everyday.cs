using FunctionalAD.Autodiff;

namespace FunctionalAD;

// Everyday reductions and shape ops (issue 17), composed from primitives, so each is differentiable at every order
// with no rule of its own. Semantics follow PyTorch.
public sealed partial class Tensor
{
    /// <summary>True when every element is nonzero (Bool, 0-D; true for an empty tensor). No derivative.</summary>
    public Tensor All() => Ne(0.0).To(DType.Int64).Sum().Eq(Scalar((long)Numel));

    /// <summary>True when any element is nonzero (Bool, 0-D; false for an empty tensor). No derivative.</summary>
    public Tensor Any() => Ne(0.0).To(DType.Int64).Sum().Gt(0L);

    /// <summary>The number of nonzero elements (Int64, 0-D), or along <paramref name="dim"/>.</summary>
    /// <exception cref="TensorException">dim is out of range.</exception>
    public Tensor CountNonzero(int? dim = null) =>
        dim is { } d ? Ne(0.0).To(DType.Int64).Sum([d]) : Ne(0.0).To(DType.Int64).Sum();

    /// <summary>
    /// The vector p-norm over <paramref name="dims"/> (all when null): (Σ |x|ᵖ)^(1/p); p = ∞ is max |x|, p = -∞ is
    /// min |x|, p = 0 counts the nonzero elements (no derivative). The 2-norm's derivative at 0 is 0, as PyTorch's.
    /// </summary>
    /// <exception cref="TensorException">a dimension is out of range.</exception>
    public Tensor Norm(double p = 2, int[]? dims = null, bool keepDim = false)
    {
        var x = Float("norm").Abs();
        if (double.IsPositiveInfinity(p)) return x.Max(dims, keepDim);
        if (double.IsNegativeInfinity(p)) return x.Min(dims, keepDim);
        if (p == 0) return x.Ne(0.0).To(x.DType).Sum(dims, keepDim);
        if (p == 1) return x.Sum(dims, keepDim);
        if (p == 2)
        {
            // sqrt of a sum of squares, with the derivative at 0 taken as 0 (not NaN): sqrt'(0)·0 would be inf·0
            var s = x.Square().Sum(dims, keepDim);
            var safe = Where(s.Gt(0.0), s, OnesLike(s));
            return Where(s.Gt(0.0), safe.Sqrt(), ZerosView(s));
        }
        return x.Pow(p).Sum(dims, keepDim).Pow(1 / p);
    }

    /// <summary>Sum treating NaN as 0, over <paramref name="dims"/> (all when null).</summary>
    public Tensor NanSum(int[]? dims = null, bool keepDim = false)
    {
        var x = Float("nansum");
        return Where(x.Ne(x), ZerosView(x), x).Sum(dims, keepDim);
    }

    /// <summary>Mean of the elements that are not NaN, over <paramref name="dims"/> (all when null); NaN where all are.</summary>
    public Tensor NanMean(int[]? dims = null, bool keepDim = false)
    {
        var x = Float("nanmean");
        var kept = x.Eq(x).To(x.DType);
        return Where(x.Ne(x), ZerosView(x), x).Sum(dims, keepDim) / kept.Sum(dims, keepDim);
    }

    /// <summary>Cumulative sum along <paramref name="dim"/>: yᵢ = Σ_{j ≤ i} xⱼ. Blocks of up to 512 elements are a
    /// product with a triangular matrix of ones on the GEMM; longer runs add each block's offset (the cumulative sum
    /// of the block totals), so the work stays linear in the length beyond the block.</summary>
    /// <exception cref="TensorException">dim is out of range.</exception>
    public Tensor Cumsum(int dim)
    {
        const int Block = 512;
        var x = Float("cumsum");
        if (Rank == 0) return x;
        int d = FunctionalAD.Shape.NormalizeDim("cumsum", dim, Rank);
        int n = shape[d];
        if (n <= Block)
        {
            var upper = Ones([n, n], x.DType, Device).Triangle(upper: true);
            return x.Transpose(d, -1).MatMul(upper).Transpose(d, -1);
        }
        var local = x.Split(Block, d).Select(c => c.Cumsum(d)).ToArray();
        // offset of block k = sum of the blocks before it: the exclusive cumulative sum of the block totals
        var totals = Concat(local.Select(c => c.Narrow(d, c.shape[d] - 1, 1)).ToArray(), d);
        var before = totals.Cumsum(d) - totals;
        for (int k = 1; k < local.Length; k++) local[k] = local[k] + before.Narrow(d, k, 1);
        return Concat(local, d);
    }

    /// <summary>Ones on and above (upper) or on and below (lower) the diagonal of a square matrix, zeros elsewhere
    /// (a constant mask, multiplied in).</summary>
    Tensor Triangle(bool upper)
    {
        int n = shape[0];
        var mask = new bool[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) mask[i * n + j] = upper ? j >= i : j <= i;
        return this * FromArray(mask, n, n).ToDevice(Device).To(DType);
    }

    /// <summary>The elements in reverse order along each of <paramref name="dims"/>.</summary>
    /// <exception cref="TensorException">a dimension is out of range.</exception>
    public Tensor Flip(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        var t = this;
        foreach (var dim in dims)
        {
            int d = FunctionalAD.Shape.NormalizeDim("flip", dim, Rank);
            var reversed = new long[shape[d]];
            for (int i = 0; i < reversed.Length; i++) reversed[i] = reversed.Length - 1 - i;
            t = t.IndexSelect(d, FromArray(reversed).ToDevice(Device));
        }
        return t;
    }

    /// <summary>The elements shifted by <paramref name="shift"/> along <paramref name="dim"/>, wrapping around.</summary>
    /// <exception cref="TensorException">dim is out of range.</exception>
    public Tensor Roll(int shift, int dim)
    {
        int d = FunctionalAD.Shape.NormalizeDim("roll", dim, Rank);
        int n = shape[d];
        if (n == 0) return this;
        int s = ((shift % n) + n) % n;
        return s == 0 ? this : Concat([Narrow(d, n - s, s), Narrow(d, 0, n - s)], d);
    }

    /// <summary>The tensor repeated <paramref name="repeats"/>[i] times along dimension i (PyTorch's repeat; extra leading
    /// counts add dimensions).</summary>
    /// <exception cref="ShapeMismatchException">fewer counts than dimensions, or a negative count.</exception>
    public Tensor Repeat(params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        if (repeats.Length < Rank) throw new ShapeMismatchException("repeat", $"{repeats.Length} counts for a tensor of rank {Rank} (shape {FunctionalAD.Shape.Format(shape)}); expected at least {Rank}");
        if (repeats.Any(r => r < 0)) throw new ShapeMismatchException("repeat", $"counts {FunctionalAD.Shape.Format(repeats)} must be >= 0");
        var s = new int[repeats.Length];
        for (int i = 0; i < s.Length; i++) s[i] = i < repeats.Length - Rank ? 1 : shape[i - (repeats.Length - Rank)];
        var x = Reshape(s);
        // [s0, s1, ...] -> [1, s0, 1, s1, ...] -> expand to [r0, s0, r1, s1, ...] -> [r0·s0, r1·s1, ...]
        var interleaved = new int[2 * s.Length];
        var expanded = new int[2 * s.Length];
        var result = new int[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            interleaved[2 * i] = 1; interleaved[2 * i + 1] = s[i];
            expanded[2 * i] = repeats[i]; expanded[2 * i + 1] = s[i];
            result[i] = repeats[i] * s[i];
        }
        return x.Reshape(interleaved).BroadcastTo(expanded).Reshape(result);
    }

    /// <summary>NumPy's tile: like <see cref="Repeat"/>, but fewer counts than dimensions repeat the trailing ones.</summary>
    public Tensor Tile(params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        return repeats.Length >= Rank ? Repeat(repeats) : Repeat([.. Enumerable.Repeat(1, Rank - repeats.Length), .. repeats]);
    }

    /// <summary><paramref name="chunks"/> pieces along <paramref name="dim"/>, each of ⌈size/chunks⌉ elements (the last
    /// smaller), as PyTorch's chunk.</summary>
    /// <exception cref="ArgumentOutOfRangeException">chunks &lt; 1.</exception>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 1);
        int d = FunctionalAD.Shape.NormalizeDim("chunk", dim, Rank);
        int size = Math.Max(1, (shape[d] + chunks - 1) / chunks);
        return shape[d] == 0 ? [this] : Split(size, d);
    }

    /// <summary>The slices along <paramref name="dim"/>, each without that dimension.</summary>
    public Tensor[] Unbind(int dim = 0)
    {
        int d = FunctionalAD.Shape.NormalizeDim("unbind", dim, Rank);
        var r = new Tensor[shape[d]];
        for (int i = 0; i < r.Length; i++) r[i] = Select(d, i);
        return r;
    }

    /// <summary>The dimension <paramref name="source"/> moved to position <paramref name="destination"/>, the others
    /// keeping their order.</summary>
    public Tensor Movedim(int source, int destination)
    {
        int s = FunctionalAD.Shape.NormalizeDim("movedim", source, Rank), t = FunctionalAD.Shape.NormalizeDim("movedim", destination, Rank);
        var order = Enumerable.Range(0, Rank).Where(i => i != s).ToList();
        order.Insert(t, s);
        return Permute([.. order]);
    }
}
