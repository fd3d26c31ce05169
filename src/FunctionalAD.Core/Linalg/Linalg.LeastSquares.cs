namespace FunctionalAD;

public static partial class Linalg
{
    /// <summary>
    /// The least-squares solution of A·X ≈ B for A [..., m, n] (PyTorch's <c>linalg.lstsq(A, B, rcond).solution</c>,
    /// whose CPU driver gelsy also gives the minimum-norm solution for rank-deficient A). B is [..., m, k] or a vector
    /// [..., m]; batch dimensions broadcast. Singular values at or below rcond·σ_max count as zero (default, as
    /// PyTorch's: ε of the dtype times max(m, n)). When every matrix has full rank by that measure (the singular values
    /// are read out to decide): for m ≥ n the X minimizing ‖A·X - B‖ (QR of A: X = R⁻¹·Qᵀ·B), for m &lt; n the
    /// minimum-norm solution of A·X = B (QR of Aᵀ: X = Q·R⁻ᵀ·B), differentiable to any order. Otherwise X = A⁺·B with
    /// the truncated pseudo-inverse of <see cref="Pinv"/> (through the SVD, whose derivative needs distinct nonzero
    /// singular values among those kept).
    /// </summary>
    /// <exception cref="ShapeMismatchException">A has fewer than 2 dimensions, B's rows differ from A's, or the batch
    /// dimensions do not broadcast.</exception>
    public static Tensor Lstsq(Tensor a, Tensor b, double? rcond = null)
    {
        AtLeastMatrix("lstsq", a);
        ArgumentNullException.ThrowIfNull(b);
        int m = a.ShapeRef[^2], n = a.ShapeRef[^1];
        bool vector = b.Rank == 1 || (b.Rank == a.Rank - 1 && b.ShapeRef.AsSpan().SequenceEqual(a.ShapeRef.AsSpan(0, a.Rank - 1)));
        var bm = vector ? b.Unsqueeze(-1) : b;
        if (bm.Rank < 2 || bm.ShapeRef[^2] != m)
            throw new ShapeMismatchException("lstsq", $"B needs {m} rows to match A: got A of shape {F(a.ShapeRef)} and B of shape {F(b.ShapeRef)}");
        var x = a.DType.IsFloatingPoint() ? a : a.To(FloatType("lstsq", a));
        double rtol = rcond ?? DefaultRtol(x.DType, m, n);
        var r = FullRank(x, rtol) ? QrLeastSquares(x, bm) : TruncatedPinv(x, rtol).MatMul(bm);
        return vector ? r.Squeeze(-1) : r;
    }

    /// <summary>The least-squares (m ≥ n) or minimum-norm (m &lt; n) solution for full-rank x, through QR.</summary>
    static Tensor QrLeastSquares(Tensor x, Tensor bm)
    {
        if (x.ShapeRef[^2] >= x.ShapeRef[^1])
        {
            var (q, r) = Qr(x);
            return SolveTriangular(r, q.Transpose(-1, -2).MatMul(bm), upper: true);
        }
        else
        {
            var (q, r) = Qr(x.Transpose(-1, -2));
            return q.MatMul(SolveTriangular(r.Transpose(-1, -2), bm, upper: false));
        }
    }

    /// <summary>The Moore-Penrose pseudo-inverse of matrices A [..., m, n], shape [..., n, m] (PyTorch's
    /// <c>linalg.pinv(A, rtol=rtol)</c>): singular values at or below rtol·σ_max count as zero (default ε of the dtype
    /// times max(m, n), as PyTorch's). Full-rank A (every matrix; decided from its singular values): (AᵀA)⁻¹Aᵀ =
    /// R⁻¹Qᵀ for m ≥ n, Aᵀ(AAᵀ)⁻¹ for m &lt; n, through <see cref="Qr"/>, differentiable to any order. Rank-deficient A:
    /// V·diag(σ⁺)·Uᵀ from <see cref="Svd"/>, with σ⁺ = 1/σ for the singular values kept and 0 for the others; its
    /// derivative (at constant rank) goes through the SVD's and needs the kept singular values distinct.</summary>
    /// <exception cref="ShapeMismatchException">A has fewer than 2 dimensions.</exception>
    public static Tensor Pinv(Tensor a, double? rtol = null)
    {
        AtLeastMatrix("pinv", a);
        int m = a.ShapeRef[^2], n = a.ShapeRef[^1];
        var x = a.DType.IsFloatingPoint() ? a : a.To(FloatType("pinv", a));
        double cut = rtol ?? DefaultRtol(x.DType, m, n);
        if (!FullRank(x, cut)) return TruncatedPinv(x, cut);
        var eye = Tensor.Eye(m, null, x.DType, x.Device).BroadcastTo([.. a.ShapeRef[..^2], m, m]);
        return QrLeastSquares(x, eye);
    }
}
