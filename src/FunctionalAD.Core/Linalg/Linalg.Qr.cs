namespace FunctionalAD;

/// <summary>A = Q·R (<see cref="Linalg.Qr"/>).</summary>
/// <param name="Q">[..., m, n] with orthonormal columns.</param>
/// <param name="R">[..., n, n] upper triangular with a positive diagonal.</param>
public readonly record struct QrDecomposition(Tensor Q, Tensor R);

public static partial class Linalg
{
    /// <summary>
    /// The reduced QR decomposition of matrices A [..., m, n] with m ≥ n and full column rank (PyTorch's
    /// <c>linalg.qr</c>, mode "reduced"), R's diagonal positive (so Q and R are unique; LAPACK's signs may differ).
    /// Classical Gram-Schmidt with one reorthogonalization per column (CGS2), which keeps Q orthonormal to working
    /// precision for numerically full-rank A. Written with matmul, sums and sqrt, so derivatives of every order
    /// follow by differentiating the algorithm; O(m·n²) in n column steps (not blocked). A rank-deficient A gives NaN.
    /// </summary>
    /// <exception cref="ShapeMismatchException">fewer than 2 dimensions, or fewer rows than columns.</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static QrDecomposition Qr(Tensor a)
    {
        AtLeastMatrix("qr", a);
        int m = a.ShapeRef[^2], n = a.ShapeRef[^1], rows = a.Rank - 2, cols = a.Rank - 1;
        if (m < n) throw new ShapeMismatchException("qr", $"reduced QR needs at least as many rows as columns, got shape {F(a.ShapeRef)}");
        var x = a.To(FloatType("qr", a));
        int[] batch = a.ShapeRef[..^2];
        if (n == 0) return new(x, Tensor.Zeros([.. batch, 0, 0], x.DType, x.Device));
        Tensor? q = null;
        var rColumns = new List<Tensor>(n);
        for (int j = 0; j < n; j++)
        {
            var v = x.Slice(cols, j, j + 1);
            Tensor? r = null;
            if (q is not null)
                for (int pass = 0; pass < 2; pass++)
                {
                    var c = q.Transpose(rows, cols).MatMul(v);
                    v -= q.MatMul(c);
                    r = r is null ? c : r + c;
                }
            var norm = (v * v).Sum([rows], keepDim: true).Sqrt();
            var qj = v / norm;
            q = q is null ? qj : Tensor.Concat([q, qj], cols);
            var parts = new List<Tensor>(3);
            if (r is not null) parts.Add(r);
            parts.Add(norm);
            if (j < n - 1) parts.Add(Tensor.Zeros([.. batch, n - j - 1, 1], x.DType, x.Device));
            rColumns.Add(parts.Count == 1 ? parts[0] : Tensor.Concat(parts, rows));
        }
        return new(q!, rColumns.Count == 1 ? rColumns[0] : Tensor.Concat(rColumns, cols));
    }
}
