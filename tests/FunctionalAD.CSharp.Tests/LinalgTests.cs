using FunctionalAD;

namespace FunctionalAD.CSharp.Tests;

/// <summary>Linear algebra from C#: the same ops as F#'s linalg module, as Linalg.Xxx.</summary>
public class LinalgTests
{
    static Tensor M(int rows, int cols, params double[] v) => Tensor.FromArray(v, rows, cols);

    [Fact]
    public void SolveDetAndTheirGradients()
    {
        var a = M(2, 2, 4, 1, 2, 3);
        var b = Tensor.FromArray(new[] { 1.0, 2.0 });
        var x = Linalg.Solve(a, b);
        Assert.Equal(new[] { 0.1, 0.6 }, x.ToArray<double>().Select(v => Math.Round(v, 12)));
        Assert.Equal(10.0, Linalg.Det(a).Item(), 12);
        // ∂det/∂A = cofactors [[3, -2], [-1, 4]]
        Assert.Equal(new[] { 3.0, -2.0, -1.0, 4.0 }, AD.Grad(Linalg.Det, a).ToArray<double>().Select(v => Math.Round(v, 12)));
        var (sign, logAbsDet) = Linalg.Slogdet(a);
        Assert.Equal(1.0, sign.Item());
        Assert.Equal(Math.Log(10), logAbsDet.Item(), 12);
    }

    [Fact]
    public void CholeskyAndErrors()
    {
        var a = M(2, 2, 4, 2, 2, 5);
        var l = Linalg.Cholesky(a);
        Assert.Equal(new[] { 2.0, 0.0, 1.0, 2.0 }, l.ToArray<double>());
        var e = Assert.Throws<NotPositiveDefiniteException>(() => Linalg.Cholesky(M(2, 2, 1, 2, 2, 1)));
        Assert.Equal(2, e.Order);
        Assert.Contains("cholesky", e.Message);
        var s = Assert.Throws<SingularMatrixException>(() => Linalg.Inv(M(2, 2, 1, 2, 2, 4)));
        Assert.Contains("inv", s.Message);
        Assert.Equal(1, s.Pivot);
    }
}
