namespace FunctionalAD.Backends;

/// <summary>An LU factorization with partial pivoting of a batch of square matrices: P·A = L·U.</summary>
/// <param name="Lu">[B, n, n]: L below the diagonal (its unit diagonal not stored) and U on and above it.</param>
/// <param name="Pivots">[B, n] Int32, LAPACK's convention (0-based): at step k, row k was swapped with row Pivots[k] ≥ k.</param>
public readonly record struct LuFactors(RawTensor Lu, RawTensor Pivots);

/// <summary>A Cholesky factorization A = L·Lᵀ of a batch of matrices.</summary>
/// <param name="L">[B, n, n], lower triangular (zeros above the diagonal).</param>
/// <param name="FailedOrder">Per matrix, 0 where the factorization succeeded, else the order (1-based) of the first
/// leading minor that is not positive; that matrix's L is then undefined.</param>
public readonly record struct CholeskyFactors(RawTensor L, int[] FailedOrder);

public partial interface IBackend
{
    /// <summary>
    /// LU factorization with partial pivoting of [B, n, n] floating-point matrices (a zero pivot is left in U, as
    /// LAPACK's getrf does; callers decide whether that is an error). The default is <see cref="LinalgKernels.LuFactor"/>:
    /// a recursive algorithm (LAPACK's getrf2) on the host whose updates run on the CPU's packed GEMM (the
    /// matrices are downloaded and the factors uploaded, so a device backend should override it).
    /// </summary>
    LuFactors LuFactor(RawTensor a) => LinalgKernels.LuFactor(this, a);

    /// <summary>X = A⁻¹·B from <see cref="LuFactor"/>'s factors: lu [B, n, n], pivots [B, n], b [B, n, k]. The default
    /// is <see cref="LinalgKernels.LuSolve"/> (host-side triangular solves: in registers for up to 64 columns, else blocked on the GEMM).</summary>
    RawTensor LuSolve(RawTensor lu, RawTensor pivots, RawTensor b) => LinalgKernels.LuSolve(this, lu, pivots, b);

    /// <summary>X = A⁻ᵀ·G from <see cref="LuFactor"/>'s factors of A (solve's backward): lu [B, n, n], pivots [B, n],
    /// g [B, n, k]; from PA = LU, Aᵀ = Uᵀ·Lᵀ·P, so two triangular solves with the transposed factors and the row swaps
    /// undone. The default is <see cref="LinalgKernels.LuSolveAdjoint"/> (host-side, as <see cref="LuSolve"/>).</summary>
    RawTensor LuSolveAdjoint(RawTensor lu, RawTensor pivots, RawTensor g) => LinalgKernels.LuSolveAdjoint(this, lu, pivots, g);

    /// <summary>X = A⁻¹·B for triangular A [B, n, n] (only its upper or lower triangle is read; with
    /// <paramref name="unitDiagonal"/> the diagonal is taken as ones and not read) and b [B, n, k]. The default is
    /// <see cref="LinalgKernels.TriangularSolve"/> (host-side, blocked on the GEMM).</summary>
    RawTensor TriangularSolve(RawTensor a, RawTensor b, bool upper, bool unitDiagonal) => LinalgKernels.TriangularSolve(this, a, b, upper, unitDiagonal);

    /// <summary>Cholesky factorization of [B, n, n] matrices (only the lower triangle is read). The default is
    /// <see cref="LinalgKernels.Cholesky"/> (host-side, blocked right-looking with GEMM trailing updates).</summary>
    CholeskyFactors Cholesky(RawTensor a) => LinalgKernels.Cholesky(this, a);

    /// <summary>Eigenvalues and eigenvectors of symmetric [B, n, n] matrices (only the lower triangle is read), packed
    /// as [B, n + 1, n]: row 0 the eigenvalues in ascending order, rows 1..n the matrix V whose columns are the
    /// orthonormal eigenvectors (each with its largest-magnitude entry positive). The default is
    /// <see cref="LinalgKernels.SymmetricEigen"/>: Householder tridiagonalization and implicit QL on the host.</summary>
    RawTensor SymmetricEigen(RawTensor a) => LinalgKernels.SymmetricEigen(this, a);

    /// <summary>Singular value decompositions A = U·diag(σ)·Vᵀ of [B, m, n] floating-point matrices, reduced (k =
    /// min(m, n)). With <paramref name="vectors"/>, packed as [B, m + 1 + n, k]: rows 0..m-1 the matrix U [m, k], row
    /// m the singular values in descending order, rows m+1.. the matrix V [n, k] (orthonormal columns; each pair
    /// (uⱼ, vⱼ) signed so uⱼ's largest-magnitude entry is positive); without, only σ as [B, k]. A matrix with a NaN or
    /// infinite entry gives NaN throughout. The default is
    /// <see cref="LinalgKernels.Svd"/>: on the host, in double, Golub–Kahan bidiagonalization and implicit-shift QR
    /// from min(m, n) = 24, one-sided Jacobi below (high relative accuracy).</summary>
    RawTensor Svd(RawTensor a, bool vectors) => LinalgKernels.Svd(this, a, vectors);

    /// <summary>Reduced QR decompositions A = Q·R of [B, m, n] floating-point matrices with m ≥ n, packed as
    /// [B, m + n, n]: rows 0..m-1 the matrix Q [m, n] with orthonormal columns, rows m.. the upper-triangular R [n, n]
    /// with a non-negative diagonal. The default is <see cref="LinalgKernels.Qr"/>: blocked Householder with compact-WY
    /// updates on the CPU's packed GEMM (on the host).</summary>
    RawTensor Qr(RawTensor a) => LinalgKernels.Qr(this, a);
}
