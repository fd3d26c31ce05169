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

    [Fact]
    public void SvdPinvAndSpectralNorm()
    {
        var a = M(2, 2, 3, 0, 4, 5);
        var (u, s, vh) = Linalg.Svd(a);
        Assert.Equal(new[] { 3 * Math.Sqrt(5), Math.Sqrt(5) }, s.ToArray<double>().Select(v => Math.Round(v, 12)), (x, y) => Math.Abs(x - y) < 1e-11);
        var back = (u * s.Unsqueeze(0)).MatMul(vh).ToArray<double>();
        Assert.All(back.Zip(a.ToArray<double>()), p => Assert.Equal(p.Second, p.First, 12));
        Assert.Equal(3 * Math.Sqrt(5), Linalg.MatrixNorm(a, "2").Item(), 12);
        // a rank-one matrix: its pseudo-inverse through the truncated SVD, xyᵀ/(‖x‖²‖y‖²)ᵀ
        var r1 = M(2, 2, 1, 2, 2, 4);
        var p1 = Linalg.Pinv(r1, rtol: 1e-10).ToArray<double>();
        Assert.All(p1.Zip(new[] { 1.0 / 25, 2.0 / 25, 2.0 / 25, 4.0 / 25 }), p => Assert.Equal(p.Second, p.First, 12));
        // ∇ Σσ = U·Vh, well defined also where singular values repeat (here all of them: the identity)
        Assert.Equal(new[] { 1.0, 0.0, 0.0, 1.0 }, AD.Grad(x => Linalg.Svdvals(x).Sum(), Tensor.Eye(2, null, DType.Float64)).ToArray<double>().Select(v => Math.Round(v, 12)));
    }
}
