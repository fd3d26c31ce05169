using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>The sign of a determinant and the logarithm of its absolute value (<see cref="Linalg.Slogdet"/>).</summary>
/// <param name="Sign">+1, -1, or 0 for a singular matrix; carries no derivative.</param>
/// <param name="LogAbsDet">log|det|, finite where det itself under- or overflows; -inf for a singular matrix.</param>
public readonly record struct SignLogDet(Tensor Sign, Tensor LogAbsDet);

/// <summary>
/// Linear algebra with derivatives of every order (PyTorch's <c>torch.linalg</c>; F#: <c>linalg.solve</c> ...).
/// Matrices are the last two dimensions of a tensor; leading dimensions are a batch and broadcast between operands.
/// Float32 and Float64 (integers are converted to Float32). Solves and determinants use LU with partial pivoting,
/// and their derivatives are written with the same differentiable operations (Giles 2008; Murray 2016 for Cholesky),
/// so gradients of gradients, Hessians and Newton steps work.
/// </summary>
public static partial class Linalg
{
    static string F(int[] s) => Shape.Format(s);

    static DType FloatType(string op, params Tensor[] xs)
    {
        var dtype = xs[0].DType;
        foreach (var x in xs) dtype = DTypes.Promote(dtype, x.DType);
        if (dtype == DType.Bool) throw new DTypeMismatchException(op, "expected floating-point matrices, got Bool");
        return dtype.IsFloatingPoint() ? dtype : DType.Float32;
    }

    static int SquareSize(string op, Tensor a)
    {
        ArgumentNullException.ThrowIfNull(a);
        var s = a.ShapeRef;
        if (s.Length < 2 || s[^1] != s[^2])
            throw new ShapeMismatchException(op, $"expected square matrices in the last two dimensions, got shape {F(s)}");
        return s[^1];
    }

    /// <summary>A's matrices as one batch [B, n, n] of dtype <paramref name="dtype"/>.</summary>
    static Tensor Batch3(Tensor a, DType dtype, int n) => a.To(dtype).Reshape(Shape.Numel(a.ShapeRef.AsSpan(0, a.Rank - 2)), n, n);

    /// <summary>Applies a two-operand solve primitive with PyTorch's rules for B (a vector when B is 1-D or has
    /// A's shape without its last dimension) and batch broadcasting.</summary>
    static Tensor SolveLike(string op, Primitive p, object attr, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = SquareSize(op, a);
        Tensor.SameDevice(op, a, b);
        bool vector = b.Rank == 1 || (b.Rank == a.Rank - 1 && b.ShapeRef.AsSpan().SequenceEqual(a.ShapeRef.AsSpan(0, a.Rank - 1)));
        var bm = vector ? b.Unsqueeze(-1) : b;
        if (bm.Rank < 2 || bm.ShapeRef[^2] != n)
            throw new ShapeMismatchException(op, $"B needs {n} rows to match A: got A of shape {F(a.ShapeRef)} and B of shape {F(b.ShapeRef)}");
        var dtype = FloatType(op, a, b);
        int[] batch;
        try { batch = Shape.Broadcast(op, a.ShapeRef[..^2], bm.ShapeRef[..^2]); }
        catch (ShapeMismatchException)
        {
            throw new ShapeMismatchException(op, $"the batch dimensions {F(a.ShapeRef[..^2])} of A (shape {F(a.ShapeRef)}) and {F(bm.ShapeRef[..^2])} of B (shape {F(b.ShapeRef)}) do not broadcast");
        }
        int count = Shape.Numel(batch), k = bm.ShapeRef[^1];
        var a3 = a.To(dtype).BroadcastTo([.. batch, n, n]).Reshape(count, n, n);
        var b3 = bm.To(dtype).BroadcastTo([.. batch, n, k]).Reshape(count, n, k);
        var x = Dispatch.Apply(p, [a3, b3], attr).Reshape([.. batch, n, k]);
        return vector ? x.Squeeze(-1) : x;
    }

    /// <summary>X with A·X = B (PyTorch's <c>linalg.solve</c>): A [..., n, n]; B [..., n, k], or a vector [..., n]
    /// (1-D, or A's shape without its last dimension), giving X of B's shape. Batch dimensions broadcast. LU with
    /// partial pivoting; derivatives dX = A⁻¹(dB - dA·X), B̄ = A⁻ᵀX̄, Ā = -B̄·Xᵀ.</summary>
    /// <exception cref="SingularMatrixException">a matrix of A is singular (an exactly zero pivot).</exception>
    /// <exception cref="ShapeMismatchException">A is not square, B's rows differ from A's size, or the batch
    /// dimensions do not broadcast.</exception>
    /// <exception cref="DTypeMismatchException">an operand is Bool.</exception>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public static Tensor Solve(Tensor a, Tensor b) => SolveLike("solve", Primitives.Solve, new LinalgAttr("solve", a.Shape), a, b);

    /// <summary>X with A·X = B for triangular A (PyTorch's <c>linalg.solve_triangular</c> with left=True): only A's
    /// upper (or lower) triangle is read; with <paramref name="unitDiagonal"/> its diagonal is taken as ones and not
    /// read. Shapes and broadcasting as <see cref="Solve"/>. A zero on the diagonal gives infinities, as in LAPACK's trsm.</summary>
    /// <exception cref="ShapeMismatchException">A is not square, B's rows differ from A's size, or the batch
    /// dimensions do not broadcast.</exception>
    /// <exception cref="DTypeMismatchException">an operand is Bool.</exception>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public static Tensor SolveTriangular(Tensor a, Tensor b, bool upper, bool unitDiagonal = false) =>
        SolveLike("solveTriangular", Primitives.SolveTriangular, new TriangularAttr(upper, unitDiagonal), a, b);

    /// <summary>The lower-triangular L with A = L·Lᵀ of symmetric positive-definite matrices A [..., n, n] (only
    /// A's lower triangle is read). Blocked right-looking algorithm on the GEMM; derivative after Murray 2016.</summary>
    /// <exception cref="NotPositiveDefiniteException">a matrix is not positive definite; the exception names the
    /// first leading minor that is not positive.</exception>
    /// <exception cref="ShapeMismatchException">A is not square.</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static Tensor Cholesky(Tensor a)
    {
        int n = SquareSize("cholesky", a);
        var l = Dispatch.Apply(Primitives.Cholesky, [Batch3(a, FloatType("cholesky", a), n)], new LinalgAttr("cholesky", a.Shape));
        return l.Reshape(a.ShapeRef);
    }

    /// <summary>X with A·X = B given A's Cholesky factor L (PyTorch's <c>cholesky_solve(B, L)</c>): two triangular
    /// solves, L·Y = B and Lᵀ·X = Y. Shapes and broadcasting as <see cref="Solve"/>.</summary>
    /// <exception cref="ShapeMismatchException">L is not square, B's rows differ from L's size, or the batch
    /// dimensions do not broadcast.</exception>
    public static Tensor CholeskySolve(Tensor b, Tensor l) =>
        SolveTriangular(l.Transpose(-1, -2), SolveTriangular(l, b, upper: false), upper: true);

    /// <summary>The inverse of each matrix of A [..., n, n] (a solve against the identity); derivative -A⁻¹·dA·A⁻¹.</summary>
    /// <exception cref="SingularMatrixException">a matrix is singular; the exception names "inv" and the pivot.</exception>
    /// <exception cref="ShapeMismatchException">A is not square.</exception>
    public static Tensor Inv(Tensor a)
    {
        int n = SquareSize("inv", a);
        var eye = Tensor.Eye(n, null, FloatType("inv", a), a.Device).BroadcastTo(a.ShapeRef); // A's rank: never read as a vector
        return SolveLike("inv", Primitives.Solve, new LinalgAttr("inv", a.Shape), a, eye);
    }

    /// <summary>The determinant of each matrix of A [..., n, n], shape [...]: the signed product of U's diagonal
    /// from LU with partial pivoting, exactly 0 for a singular matrix. Derivative (Jacobi) det·tr(A⁻¹dA); it is not
    /// defined here at a singular matrix (SingularMatrixException from the derivative). For large matrices whose
    /// det overflows or underflows use <see cref="Slogdet"/>.</summary>
    /// <exception cref="ShapeMismatchException">A is not square.</exception>
    public static Tensor Det(Tensor a) => Determinant("det", Primitives.Det, a);

    /// <summary>sign(det A) and log|det A| for each matrix of A [..., n, n] (both of shape [...]), from LU: the
    /// logarithm is a sum of log|Uᵢᵢ|, so it stays finite where det itself overflows or underflows. A singular matrix
    /// gives sign 0 and log|det| = -inf. log|det| has derivative tr(A⁻¹dA) (gradient A⁻ᵀ), to any order.</summary>
    /// <exception cref="ShapeMismatchException">A is not square.</exception>
    public static SignLogDet Slogdet(Tensor a) =>
        new(Determinant("slogdet", Primitives.DetSign, a), Determinant("slogdet", Primitives.LogAbsDet, a));

    static Tensor Determinant(string op, Primitive p, Tensor a)
    {
        int n = SquareSize(op, a);
        var r = Dispatch.Apply(p, [Batch3(a, FloatType(op, a), n)], new LinalgAttr(op, a.Shape));
        return r.Reshape(a.ShapeRef[..^2]);
    }
}
