using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>The eigen-decomposition A = V·diag(λ)·Vᵀ of a symmetric matrix (<see cref="Linalg.Eigh"/>).</summary>
/// <param name="Eigenvalues">λ [..., n], ascending.</param>
/// <param name="Eigenvectors">V [..., n, n], orthonormal columns; column j belongs to λⱼ and has its largest-magnitude
/// entry positive.</param>
public readonly record struct EighDecomposition(Tensor Eigenvalues, Tensor Eigenvectors);

public static partial class Linalg
{
    /// <summary>
    /// Eigenvalues (ascending) and eigenvectors of symmetric matrices A [..., n, n] (PyTorch's <c>linalg.eigh</c>;
    /// only A's lower triangle is read, like UPLO = "L"). Householder tridiagonalization and implicit QL on the
    /// host, in double (EISPACK's tred2 and tql2; backward stable, O(n³)). Derivatives (Giles 2008): dλ = diag(Vᵀ·dA·V), dV = V·(F∘(Vᵀ·dA·V)) with
    /// F[i, j] = 1/(λⱼ - λᵢ); they are written with differentiable ops, so second derivatives work. Caveat (the
    /// degenerate spectrum): with repeated eigenvalues the eigenvectors are not unique and the derivative is infinite
    /// or NaN, as in PyTorch; it is accurate only where the eigenvalues are well separated.
    /// </summary>
    /// <exception cref="ShapeMismatchException">A is not square.</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static EighDecomposition Eigh(Tensor a)
    {
        int n = SquareSize("eigh", a);
        var packed = Dispatch.Apply(Primitives.SymmetricEigen, [Batch3(a, FloatType("eigh", a), n)], null);
        var batch = a.ShapeRef[..^2];
        return new(packed.Slice(1, 0, 1).Reshape([.. batch, n]), packed.Slice(1, 1).Reshape([.. batch, n, n]));
    }

    /// <summary>The eigenvalues of symmetric matrices, ascending (<see cref="Eigh"/>'s first part), with derivative
    /// diag(Vᵀ·dA·V). It shares eigh's rule, so at exactly repeated eigenvalues the derivative is NaN here.</summary>
    /// <exception cref="ShapeMismatchException">A is not square.</exception>
    public static Tensor Eigvalsh(Tensor a) => Eigh(a).Eigenvalues;
}
