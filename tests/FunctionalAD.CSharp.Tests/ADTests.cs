using FunctionalAD;

namespace FunctionalAD.CSharp.Tests;

public class ADTests
{
    static Tensor S(double v) => Tensor.Scalar(v);

    [Fact]
    public void GradOfSinIsCos()
    {
        var x = Tensor.FromArray(new[] { 0.0, Math.PI / 2, Math.PI });
        var g = AD.Grad(t => t.Sin().Sum(), x);
        var expected = new[] { 1.0, 0.0, -1.0 };
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], g.ToArray<double>()[i], 12);
    }

    [Fact]
    public void GradComposesToHigherOrder()
    {
        Func<Tensor, Tensor> f = x => x * x * x;          // x^3
        var d2 = AD.Grad(AD.Grad(f));                    // 6x
        Assert.Equal(12.0, d2(S(2.0)).Item(), 12);
        var d3 = AD.Diff(AD.Diff(AD.Diff(f)));           // 6
        Assert.Equal(6.0, d3(S(5.0)).Item(), 12);
    }

    [Fact]
    public void TwoArgumentGradReturnsBoth()
    {
        var (gx, gy) = AD.Grad((x, y) => (x * y).Sum(), Tensor.FromArray(new[] { 1.0, 2.0 }), Tensor.FromArray(new[] { 3.0, 4.0 }));
        Assert.Equal(new[] { 3.0, 4.0 }, gx.ToArray<double>());
        Assert.Equal(new[] { 1.0, 2.0 }, gy.ToArray<double>());
    }

    [Fact]
    public void JvpVjpJacobianHessian()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0 });
        Func<Tensor, Tensor> f = t => t * t;
        var (value, tangent) = AD.Jvp(f, x, Tensor.FromArray(new[] { 1.0, 0.0 }));
        Assert.Equal(new[] { 1.0, 4.0 }, value.ToArray<double>());
        Assert.Equal(new[] { 2.0, 0.0 }, tangent.ToArray<double>());
        var pull = AD.Vjp(f, x).Pullback(Tensor.FromArray(new[] { 0.0, 1.0 }))[0];
        Assert.Equal(new[] { 0.0, 4.0 }, pull.ToArray<double>());
        Assert.Equal(new[] { 2.0, 0.0, 0.0, 4.0 }, AD.Jacobian(f, x).ToArray<double>());
        Assert.Equal(new[] { 6.0, 0.0, 0.0, 12.0 }, AD.Hessian(t => (t * t * t).Sum(), x).ToArray<double>());
        Assert.Equal(new[] { 6.0, 12.0 }, AD.Hvp(t => (t * t * t).Sum(), x, Tensor.FromArray(new[] { 1.0, 1.0 })).ToArray<double>());
    }

    [Fact]
    public void NoGradAndGradCheck()
    {
        var x = S(3.0);
        Assert.Equal(1.0, AD.Grad(t => t + AD.NoGrad(() => t * 5.0), x).Item());
        Assert.Equal(3.0, AD.Grad(t => t * AD.StopGradient(t), x).Item());
        Assert.True(AD.GradCheck(t => (t.Exp() * t.Sin()).Sum(), Tensor.FromArray(new[] { 0.3, -0.7 })).Passed);
    }

    [Fact]
    public void GradOfNonScalarThrowsAndSaysWhatToUse()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => AD.Grad(t => t * 2.0, Tensor.FromArray(new[] { 1.0, 2.0 })));
        Assert.Contains("jacobian", e.Message);
    }
}
