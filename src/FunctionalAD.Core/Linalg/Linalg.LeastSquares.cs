namespace FunctionalAD;

public static partial class Linalg
{
    /// <summary>
    /// The least-squares solution of A·X ≈ B for A [..., m, n] of full rank (PyTorch's <c>linalg.lstsq(A, B).solution</c>):
    /// for m ≥ n the X minimizing ‖A·X - B‖ (QR of A: X = R⁻¹·Qᵀ·B), for m &lt; n the minimum-norm solution of
    /// A·X = B (QR of Aᵀ: X = Q·R⁻ᵀ·B). B is [..., m, k] or a vector [..., m]; batch dimensions broadcast. A
    /// composition of <see cref="Qr"/>, matmul and triangular solves, so differentiable to any order. Rank-deficient A
    /// (which needs the SVD) is not supported: it gives NaN or infinities.
    /// </summary>
    /// <exception cref="ShapeMismatchException">A has fewer than 2 dimensions, B's rows differ from A's, or the batch
    /// dimensions do not broadcast.</exception>
    public static Tensor Lstsq(Tensor a, Tensor b)
    {
        AtLeastMatrix("lstsq", a);
        ArgumentNullException.ThrowIfNull(b);
        int m = a.ShapeRef[^2], n = a.ShapeRef[^1];
        bool vector = b.Rank == 1 || (b.Rank == a.Rank - 1 && b.ShapeRef.AsSpan().SequenceEqual(a.ShapeRef.AsSpan(0, a.Rank - 1)));
        var bm = vector ? b.Unsqueeze(-1) : b;
        if (bm.Rank < 2 || bm.ShapeRef[^2] != m)
            throw new ShapeMismatchException("lstsq", $"B needs {m} rows to match A: got A of shape {F(a.ShapeRef)} and B of shape {F(b.ShapeRef)}");
        Tensor x;
        if (m >= n)
        {
            var (q, r) = Qr(a);
            x = SolveTriangular(r, q.Transpose(-1, -2).MatMul(bm), upper: true);
        }
        else
        {
            var (q, r) = Qr(a.Transpose(-1, -2));
            x = q.MatMul(SolveTriangular(r.Transpose(-1, -2), bm, upper: false));
        }
        return vector ? x.Squeeze(-1) : x;
    }

    /// <summary>The Moore-Penrose pseudo-inverse of full-rank matrices A [..., m, n], shape [..., n, m] (PyTorch's
    /// <c>linalg.pinv</c> for full-rank input): (AᵀA)⁻¹Aᵀ = R⁻¹Qᵀ for m ≥ n, Aᵀ(AAᵀ)⁻¹ for m &lt; n, through
    /// <see cref="Qr"/>; differentiable to any order. Rank-deficient A (which needs the SVD) is not supported.</summary>
    /// <exception cref="ShapeMismatchException">A has fewer than 2 dimensions.</exception>
    public static Tensor Pinv(Tensor a)
    {
        AtLeastMatrix("pinv", a);
        int m = a.ShapeRef[^2];
        var x = a.DType.IsFloatingPoint() ? a : a.To(FloatType("pinv", a));
        var eye = Tensor.Eye(m, null, x.DType, x.Device).BroadcastTo([.. a.ShapeRef[..^2], m, m]);
        return Lstsq(x, eye);
    }
}
