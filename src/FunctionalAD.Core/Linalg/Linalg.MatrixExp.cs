namespace FunctionalAD;

public static partial class Linalg
{
    /// <summary>Taylor degree of <see cref="MatrixExp"/>: with ‖A/2ˢ‖₁ ≤ 1/2 the remainder is below 3e-14.</summary>
    const int ExpDegree = 12;

    /// <summary>
    /// The matrix exponential e^A = Σ Aᵏ/k! of square matrices A [..., n, n] (PyTorch's <c>linalg.matrix_exp</c>),
    /// by scaling and squaring: A/2ˢ with ‖A/2ˢ‖₁ ≤ 1/2 (s from the largest 1-norm in the batch), a degree-12 Taylor
    /// polynomial in Horner form, then s squarings. Relative accuracy about 1e-13 in Float64 for moderate norms (each
    /// squaring can double the error). Built from matmul and sums, so it differentiates to any order (the derivative
    /// is that of the approximation, accurate to the same order); s carries no derivative.
    /// </summary>
    /// <exception cref="ShapeMismatchException">A is not square.</exception>
    /// <exception cref="DTypeMismatchException">A is Bool.</exception>
    public static Tensor MatrixExp(Tensor a)
    {
        int n = SquareSize("matrixExp", a);
        var x = a.To(FloatType("matrixExp", a));
        if (x.Numel == 0) return x;
        double norm = MatrixNorm(x.StopGradient(), "1").Max().Item();
        int s = norm > 0.5 ? (int)Math.Ceiling(Math.Log2(norm / 0.5)) : 0;
        if (double.IsNaN(norm) || double.IsInfinity(norm)) s = 0; // NaN/inf propagate through the polynomial
        var scaled = s == 0 ? x : x * Math.Pow(2, -s);
        var eye = Tensor.Eye(n, null, x.DType, x.Device);
        // I + X(I + X/2(I + X/3(... (I + X/12))))
        var e = eye + scaled / ExpDegree;
        for (int k = ExpDegree - 1; k >= 1; k--) e = eye + scaled.MatMul(e) / k;
        for (int i = 0; i < s; i++) e = e.MatMul(e);
        return e;
    }
}
