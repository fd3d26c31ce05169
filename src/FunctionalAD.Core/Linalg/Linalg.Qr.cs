using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>A = Q·R (<see cref="Linalg.Qr"/>).</summary>
/// <param name="Q">[..., m, n] with orthonormal columns.</param>
/// <param name="R">[..., n, n] upper triangular with a non-negative diagonal (positive for full column rank).</param>
public readonly record struct QrDecomposition(Tensor Q, Tensor R);

public static partial class Linalg
{
    /// <summary>
    /// The reduced QR decomposition of matrices A [..., m, n] with m ≥ n (PyTorch's <c>linalg.qr</c>, mode
    /// "reduced"). Blocked Householder QR with compact-WY updates on the packed GEMM (LAPACK's geqrf and orgqr).
    /// Signs: R's diagonal is made non-negative (each Householder column of Q and row of R whose diagonal entry came
    /// out negative is negated), so for full column rank Q and R are unique; LAPACK, hence PyTorch, leaves some of
    /// R's diagonal negative, so its Q and R can differ from these by the signs of matching columns and rows.
    /// Derivatives of every order (PyTorch's qr_backward: Ā = (Q̄ + Q·copyltu(R̄Rᵀ - QᵀQ̄))·R⁻ᵀ), defined for full
    /// column rank.
    /// </summary>
    /// <exception cref="ShapeMismatchException">fewer than 2 dimensions, or fewer rows than columns.</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static QrDecomposition Qr(Tensor a)
    {
        AtLeastMatrix("qr", a);
        int m = a.ShapeRef[^2], n = a.ShapeRef[^1];
        if (m < n) throw new ShapeMismatchException("qr", $"reduced QR needs at least as many rows as columns, got shape {F(a.ShapeRef)}");
        var x = Batch3("qr", a);
        int[] batch = a.ShapeRef[..^2];
        var packed = Dispatch.Apply(Primitives.Qr, [x], null);
        return new(packed.Slice(1, 0, m).Reshape([.. batch, m, n]), packed.Slice(1, m).Reshape([.. batch, n, n]));
    }
}
