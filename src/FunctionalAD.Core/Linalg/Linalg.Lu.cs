using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>A = P·L·U (<see cref="Linalg.Lu"/>).</summary>
/// <param name="P">The permutation matrices [..., n, n] (no derivative).</param>
/// <param name="L">Unit lower-triangular factors [..., n, n].</param>
/// <param name="U">Upper-triangular factors [..., n, n].</param>
public readonly record struct LuDecomposition(Tensor P, Tensor L, Tensor U);

/// <summary>The compact form of A = P·L·U (<see cref="Linalg.LuFactor"/>), for <see cref="Linalg.LuSolve"/>.</summary>
/// <param name="LU">L strictly below the diagonal (its unit diagonal not stored) and U on and above it, [..., n, n].</param>
/// <param name="P">The permutation matrices [..., n, n] (no derivative); PyTorch returns LAPACK's pivot indices instead.</param>
public readonly record struct LuFactorization(Tensor LU, Tensor P);

public static partial class Linalg
{
    /// <summary>The compact LU factorization with partial pivoting of square matrices A [..., n, n] (PyTorch's
    /// <c>linalg.lu_factor</c>, with the permutation as a matrix). Differentiable in A at nonsingular A (P held
    /// fixed): d(LU) = L·tril(X, -1) + triu(X)·U with X = L⁻¹·Pᵀ·dA·U⁻¹. A singular A factors without error (a zero
    /// on U's diagonal).</summary>
    /// <exception cref="ShapeMismatchException">A is not square (rectangular LU is not supported yet).</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static LuFactorization LuFactor(Tensor a)
    {
        int n = SquareSize("luFactor", a);
        var a3 = Batch3(a, FloatType("luFactor", a), n);
        var packed = Dispatch.Apply(Primitives.LuPacked, [a3], null);
        var p = Dispatch.Apply(Primitives.LuPermutation, [a3], null); // P·A = L·U, so A = Pᵀ·L·U
        return new(packed.Reshape(a.ShapeRef), p.Transpose(-1, -2).Reshape(a.ShapeRef));
    }

    /// <summary>P, L and U with A = P·L·U for square matrices A [..., n, n] (PyTorch's <c>linalg.lu</c>):
    /// <see cref="LuFactor"/> unpacked, with the same derivatives.</summary>
    /// <exception cref="ShapeMismatchException">A is not square.</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static LuDecomposition Lu(Tensor a)
    {
        var f = LuFactor(a);
        int n = a.ShapeRef[^1];
        var eye = Tensor.Eye(n, null, f.LU.DType, f.LU.Device);
        return new(f.P, Tril(f.LU, -1) + eye, Triu(f.LU));
    }

    /// <summary>X with A·X = B from A's <see cref="LuFactor"/> (PyTorch's <c>linalg.lu_solve</c>): X = U⁻¹·L⁻¹·Pᵀ·B,
    /// two triangular solves on the compact factors; differentiable in LU and B. B as in <see cref="Solve"/>.</summary>
    /// <exception cref="ShapeMismatchException">LU is not square, B's rows differ from its size, or the batch
    /// dimensions do not broadcast.</exception>
    public static Tensor LuSolve(LuFactorization factors, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var lu = factors.LU;
        int n = SquareSize("luSolve", lu);
        bool vector = b.Rank == 1 || (b.Rank == lu.Rank - 1 && b.ShapeRef.AsSpan().SequenceEqual(lu.ShapeRef.AsSpan(0, lu.Rank - 1)));
        var bm = vector ? b.Unsqueeze(-1) : b;
        if (bm.Rank < 2 || bm.ShapeRef[^2] != n)
            throw new ShapeMismatchException("luSolve", $"B needs {n} rows to match LU: got LU of shape {F(lu.ShapeRef)} and B of shape {F(b.ShapeRef)}");
        var y = SolveTriangular(lu, factors.P.Transpose(-1, -2).MatMul(bm), upper: false, unitDiagonal: true);
        var x = SolveTriangular(lu, y, upper: true);
        return vector ? x.Squeeze(-1) : x;
    }
}
