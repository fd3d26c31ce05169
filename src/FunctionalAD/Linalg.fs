namespace FunctionalAD

/// Linear algebra with derivatives of every order (PyTorch's torch.linalg): `linalg.solve a b`, `linalg.det a`, ...
/// Matrices are the last two dimensions; leading dimensions are a batch and broadcast. Each function is the Core
/// `Linalg` method of the same name (its XML docs give shapes, derivatives and exceptions).
[<RequireQualifiedAccess>]
module linalg =

    /// X with A·X = B (B [..., n, k] or a vector [..., n]); LU with partial pivoting. Throws SingularMatrixException.
    let solve (a: Tensor) (b: Tensor) = Linalg.Solve(a, b)

    /// X with A·X = B for triangular A: only the upper (or lower) triangle is read; with unitDiagonal its diagonal
    /// is taken as ones.
    let solveTriangular (upper: bool) (unitDiagonal: bool) (a: Tensor) (b: Tensor) = Linalg.SolveTriangular(a, b, upper, unitDiagonal)

    /// The lower-triangular L with A = L·Lᵀ (A's lower triangle read). Throws NotPositiveDefiniteException.
    let cholesky (a: Tensor) = Linalg.Cholesky(a)

    /// X with A·X = B from A's Cholesky factor L (PyTorch's argument order: B, then L).
    let choleskySolve (b: Tensor) (l: Tensor) = Linalg.CholeskySolve(b, l)

    /// The inverse of each matrix. Throws SingularMatrixException naming "inv" and the pivot.
    let inv (a: Tensor) = Linalg.Inv(a)

    /// The determinant of each matrix (0 for a singular one).
    let det (a: Tensor) = Linalg.Det(a)

    /// (sign, log|det|) of each matrix; log|det| stays finite where det over- or underflows.
    let slogdet (a: Tensor) =
        let r = Linalg.Slogdet(a)
        r.Sign, r.LogAbsDet

    /// The lower triangle (entries with j - i <= diagonal) of each matrix, the rest zero.
    let tril (diagonal: int) (x: Tensor) = Linalg.Tril(x, diagonal)

    /// The upper triangle (entries with j - i >= diagonal) of each matrix, the rest zero.
    let triu (diagonal: int) (x: Tensor) = Linalg.Triu(x, diagonal)

    /// The main diagonal of each matrix, [..., m, n] -> [..., min(m, n)].
    let diagonal (x: Tensor) = Linalg.Diagonal(x)

    /// The diagonal at an offset (> 0 above the main one) of each matrix.
    let diagonalAt (offset: int) (x: Tensor) = Linalg.Diagonal(x, offset)

    /// The sum of each matrix's diagonal.
    let trace (x: Tensor) = Linalg.Trace(x)

    /// Diagonal matrices from vectors: [..., n] -> [..., n, n].
    let diag (v: Tensor) = Linalg.Diag(v)

    /// The Kronecker product.
    let kron (a: Tensor) (b: Tensor) = Linalg.Kron(a, b)

    /// Contracts the last `dims` dimensions of a with the first `dims` of b.
    let tensordot (dims: int) (a: Tensor) (b: Tensor) = Linalg.Tensordot(a, b, dims)

    /// Contracts dimensions dimsA of a with dimsB of b, pairwise.
    let tensordotOver (dimsA: int[]) (dimsB: int[]) (a: Tensor) (b: Tensor) = Linalg.Tensordot(a, b, dimsA, dimsB)

    /// The norm of each matrix: "fro", "nuc", "1", "-1", "2", "-2", "inf" or "-inf" (nuc, 2 and -2 from the SVD).
    let matrixNorm (ord: string) (x: Tensor) = Linalg.MatrixNorm(x, ord)

    /// The p-norm of all elements (ord = infinity: max |x|).
    let vectorNorm (ord: float) (x: Tensor) = Linalg.VectorNorm(x, ord)

    /// The p-norm along the given dimensions.
    let vectorNormOver (ord: float) (dims: int[]) (x: Tensor) = Linalg.VectorNorm(x, ord, dims)

    /// Einstein summation, e.g. `linalg.einsum "ij,jk->ik" [ a; b ]`; letters repeated in an operand take its
    /// diagonal, letters absent from the output are summed (no ellipsis).
    let einsum (equation: string) (operands: Tensor list) = Linalg.Einsum(equation, List.toArray operands)

    /// (P, L, U) with A = P·L·U (partial pivoting; P carries no derivative).
    let lu (a: Tensor) =
        let r = Linalg.Lu(a)
        r.P, r.L, r.U

    /// The compact factors (LU, P) of A = P·L·U, for luSolve.
    let luFactor (a: Tensor) =
        let r = Linalg.LuFactor(a)
        r.LU, r.P

    /// X with A·X = B from luFactor's (LU, P).
    let luSolve (lu: Tensor, p: Tensor) (b: Tensor) = Linalg.LuSolve(LuFactorization(lu, p), b)

    /// The matrix exponential e^A (scaling and squaring with a Taylor polynomial).
    let matrixExp (a: Tensor) = Linalg.MatrixExp(a)

    /// The reduced QR decomposition (Q, R) of A [..., m, n], m >= n, full column rank; R's diagonal positive.
    let qr (a: Tensor) =
        let r = Linalg.Qr(a)
        r.Q, r.R

    /// Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices (lower triangle read).
    let eigh (a: Tensor) =
        let r = Linalg.Eigh(a)
        r.Eigenvalues, r.Eigenvectors

    /// The eigenvalues of symmetric matrices, ascending.
    let eigvalsh (a: Tensor) = Linalg.Eigvalsh(a)

    /// The least-squares (m >= n) or minimum-norm (m < n) solution of A·X ≈ B: via QR for full-rank A, else the
    /// minimum-norm solution through the SVD (singular values <= eps·max(m, n)·σ_max count as zero, as PyTorch's).
    let lstsq (a: Tensor) (b: Tensor) = Linalg.Lstsq(a, b)

    /// lstsq with an explicit rcond: singular values <= rcond·σ_max count as zero.
    let lstsqWith (rcond: float) (a: Tensor) (b: Tensor) = Linalg.Lstsq(a, b, rcond)

    /// The Moore-Penrose pseudo-inverse: via QR for full-rank A, else the truncated SVD (cutoff eps·max(m, n)·σ_max).
    let pinv (a: Tensor) = Linalg.Pinv(a)

    /// pinv with an explicit relative cutoff: singular values <= rtol·σ_max count as zero.
    let pinvWith (rtol: float) (a: Tensor) = Linalg.Pinv(a, rtol)

    /// The reduced SVD (U, S, Vh) of A [..., m, n]: U [..., m, k], S [..., k] descending, Vh [..., k, n], k = min(m, n).
    /// The vectors' derivatives need distinct, nonzero singular values (see Linalg.Svd).
    let svd (a: Tensor) =
        let r = Linalg.Svd(a)
        r.U, r.S, r.Vh

    /// The singular values of A [..., m, n], descending; their gradient U·diag(σ̄)·Vᵀ is well defined.
    let svdvals (a: Tensor) = Linalg.Svdvals(a)
