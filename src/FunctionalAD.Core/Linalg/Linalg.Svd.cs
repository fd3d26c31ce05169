using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>The reduced singular value decomposition A = U·diag(S)·Vh (<see cref="Linalg.Svd"/>).</summary>
/// <param name="U">[..., m, k] with orthonormal columns, k = min(m, n).</param>
/// <param name="S">[..., k], the singular values in descending order (non-negative).</param>
/// <param name="Vh">[..., k, n] with orthonormal rows (Vᵀ, as PyTorch returns it).</param>
public readonly record struct SvdDecomposition(Tensor U, Tensor S, Tensor Vh);

public static partial class Linalg
{
    static Tensor Batch3(string op, Tensor a)
    {
        AtLeastMatrix(op, a);
        int m = a.ShapeRef[^2], n = a.ShapeRef[^1];
        return a.To(FloatType(op, a)).Reshape(Shape.Numel(a.ShapeRef.AsSpan(0, a.Rank - 2)), m, n);
    }

    /// <summary>
    /// The reduced singular value decomposition of matrices A [..., m, n] (PyTorch's <c>linalg.svd</c> with
    /// full_matrices=False): U [..., m, k], S [..., k] descending and Vh [..., k, n], k = min(m, n), with
    /// A = U·diag(S)·Vh. On the host in double precision, after a Householder QR when A is at least twice as tall as
    /// wide (or wide as tall): Golub–Kahan (Householder bidiagonalization, implicit-shift QR; singular values to
    /// ε·σ₁, as LAPACK) from min(m, n) = 24, one-sided Jacobi below (relative accuracy near machine precision, also
    /// for small singular values); for zero singular values U's columns complete an orthonormal set. Signs: each
    /// column of U has its largest-magnitude entry positive and the matching row of Vh follows (LAPACK, hence PyTorch,
    /// may return the opposite signs for some pairs). Derivatives of every order (Townsend 2016, PyTorch's
    /// svd_backward), written with differentiable ops. Caveat, as in PyTorch: U and Vh are not unique where singular
    /// values repeat (or, for non-square A, are zero), and there their derivatives are infinite or NaN; they are
    /// accurate only for well-separated, nonzero singular values. Derivatives of S alone are better taken with
    /// <see cref="Svdvals"/>. A matrix with a NaN or infinite entry gives NaN in all three (PyTorch raises instead).
    /// </summary>
    /// <exception cref="ShapeMismatchException">A has fewer than 2 dimensions.</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static SvdDecomposition Svd(Tensor a)
    {
        var x = Batch3("svd", a);
        int m = x.ShapeRef[1], n = x.ShapeRef[2], k = Math.Min(m, n);
        var batch = a.ShapeRef[..^2];
        var packed = Dispatch.Apply(Primitives.Svd, [x], null);
        return new(packed.Slice(1, 0, m).Reshape([.. batch, m, k]),
                   packed.Slice(1, m, m + 1).Reshape([.. batch, k]),
                   packed.Slice(1, m + 1).Transpose(1, 2).Reshape([.. batch, k, n]));
    }

    /// <summary>The singular values of matrices A [..., m, n], descending, shape [..., min(m, n)] (PyTorch's
    /// <c>linalg.svdvals</c>). Its own primitive: the gradient U·diag(σ̄)·Vᵀ is well defined also where singular values
    /// repeat (it then depends only on the repeated group's sum), unlike a gradient taken through <see cref="Svd"/>'s
    /// vectors; second derivatives go through the vectors' derivative and need distinct singular values.</summary>
    /// <exception cref="ShapeMismatchException">A has fewer than 2 dimensions.</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static Tensor Svdvals(Tensor a)
    {
        var x = Batch3("svdvals", a);
        return Dispatch.Apply(Primitives.SvdVals, [x], null).Reshape([.. a.ShapeRef[..^2], Math.Min(x.ShapeRef[1], x.ShapeRef[2])]);
    }

    /// <summary>The default cutoff of <see cref="Pinv"/> and <see cref="Lstsq"/>, as PyTorch's: ε of the dtype times
    /// max(m, n).</summary>
    static double DefaultRtol(DType dtype, int m, int n) => (dtype == DType.Float64 ? 2.220446049250313e-16 : 1.1920928955078125e-07) * Math.Max(m, n);

    /// <summary>Whether every matrix of x [..., m, n] has all its singular values above rtol·σ_max (read out on the
    /// host: it picks the algorithm).</summary>
    static bool FullRank(Tensor x, double rtol)
    {
        int k = Math.Min(x.ShapeRef[^2], x.ShapeRef[^1]);
        if (k == 0) return true;
        var s = Svdvals(x.StopGradient()).Reshape(-1, k).ToDoubleArray();
        for (int i = 0; i < s.Length; i += k)
            if (!(s[i + k - 1] > rtol * s[i])) return false;
        return true;
    }

    /// <summary>V·diag(σ⁺)·Uᵀ from the SVD: σ⁺ = 1/σ for σ &gt; rtol·σ_max, else 0 (no infinity in the branch not taken,
    /// so the derivative stays finite).</summary>
    static Tensor TruncatedPinv(Tensor x, double rtol)
    {
        var (u, s, vh) = Svd(x);
        var keep = s.Gt(s.Slice(-1, 0, 1).StopGradient() * rtol);
        var zero = Tensor.Zeros([], s.DType, s.Device);
        var inverse = Tensor.Where(keep, 1 / Tensor.Where(keep, s, Tensor.Ones([], s.DType, s.Device)), zero);
        return (vh.Transpose(-1, -2) * inverse.Unsqueeze(-2)).MatMul(u.Transpose(-1, -2));
    }
}
