namespace FunctionalAD;

/// <summary>Triangles, diagonals, traces, Kronecker and tensor contractions, norms: compositions of differentiable
/// views, where, matmul and reductions, so every order of derivative comes from those primitives.</summary>
public static partial class Linalg
{
    static void AtLeastMatrix(string op, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2) throw new ShapeMismatchException(op, $"expected at least 2 dimensions (matrices in the last two), got shape {F(x.ShapeRef)}");
    }

    /// <summary>A Bool [m, n] mask on x's device, true in the columns [lo, hi) that <paramref name="kept"/> gives for
    /// each row (clamped to [0, n)): rows filled by runs, not element by element.</summary>
    static Tensor Mask(Tensor x, int m, int n, Func<int, (long Lo, long Hi)> kept)
    {
        var v = new bool[m * n];
        for (int i = 0; i < m; i++)
        {
            var (lo, hi) = kept(i);
            int from = (int)Math.Clamp(lo, 0, n), to = (int)Math.Clamp(hi, 0, n);
            if (to > from) v.AsSpan(i * n + from, to - from).Fill(true);
        }
        return Tensor.FromArray(v, m, n).ToDevice(x.Device);
    }

    static Tensor Keep(Tensor x, Func<int, (long Lo, long Hi)> kept)
    {
        int m = x.ShapeRef[^2], n = x.ShapeRef[^1];
        return Tensor.Where(Mask(x, m, n, kept), x, Tensor.Zeros([], x.DType, x.Device));
    }

    /// <summary>The lower triangle of the matrices of x [..., m, n]: entries with j - i ≤ <paramref name="diagonal"/>
    /// kept, the rest zero (PyTorch's <c>tril</c>).</summary>
    /// <exception cref="ShapeMismatchException">x has fewer than 2 dimensions.</exception>
    public static Tensor Tril(Tensor x, int diagonal = 0)
    {
        AtLeastMatrix("tril", x);
        return Keep(x, i => (0, (long)i + diagonal + 1)); // j - i <= diagonal
    }

    /// <summary>The upper triangle of the matrices of x [..., m, n]: entries with j - i ≥ <paramref name="diagonal"/>
    /// kept, the rest zero (PyTorch's <c>triu</c>).</summary>
    /// <exception cref="ShapeMismatchException">x has fewer than 2 dimensions.</exception>
    public static Tensor Triu(Tensor x, int diagonal = 0)
    {
        AtLeastMatrix("triu", x);
        return Keep(x, i => ((long)i + diagonal, long.MaxValue)); // j - i >= diagonal
    }

    /// <summary>The diagonal of the matrices of x [..., m, n] as [..., d] (PyTorch's <c>diagonal(x, offset, -2,
    /// -1)</c>): entries (i, i + offset); offset &gt; 0 is above the main diagonal. A strided view of x's elements.</summary>
    /// <exception cref="ShapeMismatchException">x has fewer than 2 dimensions.</exception>
    public static Tensor Diagonal(Tensor x, int offset = 0)
    {
        AtLeastMatrix("diagonal", x);
        int m = x.ShapeRef[^2], n = x.ShapeRef[^1];
        int start = offset >= 0 ? offset : -offset * n;
        int count = Math.Max(0, offset >= 0 ? Math.Min(m, n - offset) : Math.Min(m + offset, n));
        var flat = x.Reshape([.. x.ShapeRef[..^2], m * n]);
        return count == 0 ? flat.Slice(-1, 0, 0) : flat.Slice(-1, start, start + (count - 1) * (n + 1) + 1, n + 1);
    }

    /// <summary>The sum of the diagonal of each matrix of x [..., m, n] (shape [...]).</summary>
    /// <exception cref="ShapeMismatchException">x has fewer than 2 dimensions.</exception>
    public static Tensor Trace(Tensor x) => Diagonal(x).Sum([-1]);

    /// <summary>Diagonal matrices from vectors: v [..., n] gives [..., n, n] with v on the diagonal (PyTorch's
    /// <c>diag</c> of a vector, batched like <c>diag_embed</c>).</summary>
    /// <exception cref="ShapeMismatchException">v is 0-D.</exception>
    public static Tensor Diag(Tensor v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.Rank < 1) throw new ShapeMismatchException("diag", "expected a vector (or a batch of vectors), got a 0-D tensor");
        int n = v.ShapeRef[^1];
        return Tensor.Where(Mask(v, n, n, i => (i, i + 1)), v.Unsqueeze(-2), Tensor.Zeros([], v.DType, v.Device));
    }

    /// <summary>The Kronecker product (PyTorch's <c>kron</c>): for shapes a [a₀, ...] and b [b₀, ...] (the shorter
    /// padded with leading 1s) the result has shape [a₀·b₀, ...], block (i₀, ...) being a[i₀, ...]·b.</summary>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public static Tensor Kron(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b);
        Tensor.SameDevice("kron", a, b);
        int r = Math.Max(a.Rank, b.Rank);
        int[] sa = [.. Enumerable.Repeat(1, r - a.Rank), .. a.ShapeRef], sb = [.. Enumerable.Repeat(1, r - b.Rank), .. b.ShapeRef];
        var ia = new int[2 * r]; var ib = new int[2 * r]; var result = new int[r];
        for (int i = 0; i < r; i++) { ia[2 * i] = sa[i]; ia[2 * i + 1] = 1; ib[2 * i] = 1; ib[2 * i + 1] = sb[i]; result[i] = sa[i] * sb[i]; }
        return (a.Reshape(ia) * b.Reshape(ib)).Reshape(result);
    }

    /// <summary>Contracts the last <paramref name="dims"/> dimensions of a with the first <paramref name="dims"/> of b
    /// (NumPy's <c>tensordot(a, b, dims)</c>; dims = 1 is a matrix product, 0 an outer product).</summary>
    /// <exception cref="ShapeMismatchException">dims exceeds a rank, or the contracted sizes differ.</exception>
    public static Tensor Tensordot(Tensor a, Tensor b, int dims = 2)
    {
        ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b);
        if (dims < 0 || dims > a.Rank || dims > b.Rank)
            throw new ShapeMismatchException("tensordot", $"cannot contract {dims} dimensions of shapes {F(a.ShapeRef)} and {F(b.ShapeRef)}");
        return Tensordot(a, b, [.. Enumerable.Range(a.Rank - dims, dims)], [.. Enumerable.Range(0, dims)]);
    }

    /// <summary>Contracts dimension dimsA[i] of a with dimsB[i] of b for each i (NumPy's <c>tensordot(a, b, (dimsA,
    /// dimsB))</c>); the result has a's remaining dimensions, then b's, in order. One permute, reshape and matmul.</summary>
    /// <exception cref="ShapeMismatchException">the lists differ in length, repeat a dimension, or pair sizes that differ.</exception>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public static Tensor Tensordot(Tensor a, Tensor b, int[] dimsA, int[] dimsB)
    {
        ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(dimsA); ArgumentNullException.ThrowIfNull(dimsB);
        const string op = "tensordot";
        Tensor.SameDevice(op, a, b);
        if (dimsA.Length != dimsB.Length) throw new ShapeMismatchException(op, $"contracted dimension lists differ in length: {F(dimsA)} and {F(dimsB)}");
        var db = new int[dimsB.Length];
        for (int i = 0; i < dimsB.Length; i++) db[i] = Shape.NormalizeAxis(op, dimsB[i], b.Rank);
        var pa = new int[dimsA.Length];
        for (int i = 0; i < dimsA.Length; i++) pa[i] = Shape.NormalizeAxis(op, dimsA[i], a.Rank);
        if (pa.Distinct().Count() != pa.Length || db.Distinct().Count() != db.Length) throw new ShapeMismatchException(op, $"a contracted dimension repeats: {F(dimsA)} and {F(dimsB)}");
        int k = 1;
        for (int i = 0; i < pa.Length; i++)
        {
            if (a.ShapeRef[pa[i]] != b.ShapeRef[db[i]])
                throw new ShapeMismatchException(op, $"dimension {pa[i]} of a (size {a.ShapeRef[pa[i]]}) and {db[i]} of b (size {b.ShapeRef[db[i]]}) differ; shapes {F(a.ShapeRef)} and {F(b.ShapeRef)}");
            k *= a.ShapeRef[pa[i]];
        }
        var freeA = Enumerable.Range(0, a.Rank).Where(d => !pa.Contains(d)).ToArray();
        var freeB = Enumerable.Range(0, b.Rank).Where(d => !db.Contains(d)).ToArray();
        int[] outA = [.. freeA.Select(d => a.ShapeRef[d])], outB = [.. freeB.Select(d => b.ShapeRef[d])];
        var am = a.Permute([.. freeA, .. pa]).Reshape(Shape.Numel(outA), k);
        var bm = b.Permute([.. db, .. freeB]).Reshape(k, Shape.Numel(outB));
        return am.MatMul(bm).Reshape([.. outA, .. outB]);
    }

    /// <summary>The norm of each matrix of x [..., m, n] (PyTorch's <c>linalg.matrix_norm</c>): "fro" (Frobenius,
    /// the default), "1" / "-1" (largest / smallest absolute column sum), "inf" / "-inf" (largest / smallest absolute
    /// row sum), "2" / "-2" (largest / smallest singular value) and "nuc" (the sum of the singular values), the last
    /// three from <see cref="Svdvals"/> (whose gradient is U·diag(σ̄)·Vᵀ; for "2" and "-2" only where that singular
    /// value is simple).</summary>
    /// <exception cref="ShapeMismatchException">x has fewer than 2 dimensions.</exception>
    /// <exception cref="TensorException">an order not listed.</exception>
    public static Tensor MatrixNorm(Tensor x, string ord = "fro", bool keepDim = false)
    {
        AtLeastMatrix("matrixNorm", x);
        ArgumentNullException.ThrowIfNull(ord);
        int[] both = [x.Rank - 2, x.Rank - 1];
        if (ord is "2" or "-2" or "nuc")
        {
            var s = Svdvals(x);
            int k = s.ShapeRef[^1];
            if (k == 0) throw new ShapeMismatchException("matrixNorm", $"the {ord} norm of empty matrices is undefined, got shape {F(x.ShapeRef)}");
            var v = ord == "nuc" ? s.Sum([-1], keepDim: true) : ord == "2" ? s.Slice(-1, 0, 1) : s.Slice(-1, k - 1, k);
            return keepDim ? v.Unsqueeze(-1) : v.Squeeze(-1);
        }
        var ax = x.DType.IsFloatingPoint() ? x.Abs() : x.To(DType.Float32).Abs();
        Tensor r = ord switch
        {
            "fro" => (ax * ax).Sum(both, keepDim).Sqrt(),
            "1" => ax.Sum(-2, keepDim: true).Max([x.Rank - 1], keepDim: true),
            "-1" => ax.Sum(-2, keepDim: true).Min([x.Rank - 1], keepDim: true),
            "inf" => ax.Sum(-1, keepDim: true).Max([x.Rank - 2], keepDim: true),
            "-inf" => ax.Sum(-1, keepDim: true).Min([x.Rank - 2], keepDim: true),
            _ => throw new TensorException("matrixNorm", $"unsupported order '{ord}': expected fro, nuc, 1, -1, 2, -2, inf or -inf"),
        };
        return ord == "fro" || keepDim ? r : r.Reshape(x.ShapeRef[..^2]);
    }

    /// <summary>The vector p-norm (Σ|x|ᵖ)^(1/p) over <paramref name="dims"/> (all when null), as PyTorch's
    /// <c>linalg.vector_norm</c>: ord = ∞ is max|x|, -∞ min|x|, 0 the number of nonzeros (no derivative). Its
    /// derivative at x = 0 (for ord = 2: x/‖x‖) is NaN there, where PyTorch returns 0.</summary>
    public static Tensor VectorNorm(Tensor x, double ord = 2, int[]? dims = null, bool keepDim = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        var ax = (x.DType.IsFloatingPoint() ? x : x.To(DType.Float32)).Abs();
        if (double.IsPositiveInfinity(ord)) return ax.Max(dims, keepDim);
        if (double.IsNegativeInfinity(ord)) return ax.Min(dims, keepDim);
        if (ord == 0) return ax.StopGradient().Ne(0).To(ax.DType).Sum(dims, keepDim);
        if (ord == 1) return ax.Sum(dims, keepDim);
        if (ord == 2) return (ax * ax).Sum(dims, keepDim).Sqrt();
        return ax.Pow(ord).Sum(dims, keepDim).Pow(1 / ord);
    }
}
