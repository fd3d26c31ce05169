using FunctionalAD;

namespace FunctionalAD.CSharp.Tests;

/// <summary>Issue 17 from C#: distributions, scatter-reduce, indexing by a tensor and L-BFGS.</summary>
public class DistributionTests
{
    static Tensor V(params double[] v) => Tensor.FromArray(v);

    [Fact]
    public void NormalLogProbRsampleAndKl()
    {
        var n = new NormalDistribution(Tensor.Scalar(1.0), Tensor.Scalar(2.0));
        Assert.Equal(-1.6433357137646178, n.LogProb(Tensor.Scalar(0.5)).Item(), 12);
        Assert.Equal(new[] { 3, 4 }, n.Rsample(new Generator(1), 3, 4).Shape);
        // d/dμ E[x] through the reparameterized sample is 1 per draw
        var g = AD.Grad(mu => new NormalDistribution(mu, Tensor.Scalar(2.0)).Rsample(new Generator(1), 5).Sum(), Tensor.Scalar(0.0));
        Assert.Equal(5.0, g.Item(), 12);
        var kl = Distribution.KlDivergence(n, new NormalDistribution(Tensor.Scalar(1.0), Tensor.Scalar(2.0)));
        Assert.Equal(0.0, kl.Item(), 14);
        Assert.Throws<NotSupportedException>(() => new GammaDistribution(Tensor.Scalar(1.0), Tensor.Scalar(1.0)).Rsample(new Generator(1)));
    }

    [Fact]
    public void ScatterReduceAndTensorIndexing()
    {
        var r = V(1, 2, 3, 4).ScatterReduce(0, Tensor.FromArray(new long[] { 0, 1, 0, 1, 2, 1 }), V(1, 2, 3, 4, 5, 6), ScatterReduction.Sum);
        Assert.Equal(new[] { 5.0, 14.0, 8.0, 4.0 }, r.ToArray<double>());
        var t = Tensor.FromArray(new[] { 1.0, -2.0, 3.0, -4.0 }, 2, 2);
        Assert.Equal(new[] { 1.0, 3.0 }, t[t.Gt(0.0)].ToArray<double>());
        Assert.Equal(new[] { -4.0, 3.0 }, t[Tensor.FromArray(new long[] { -1 })].ToArray<double>().Reverse().ToArray());
        var e = Assert.Throws<TensorException>(() => t[Tensor.FromArray(new long[] { 2 })]);
        Assert.Contains("index 2 is out of range for dimension 0 of size 2", e.Message);
    }

    [Fact]
    public void LbfgsMinimizesRosenbrock()
    {
        var result = LbfgsSolver.Minimize(x =>
        {
            var a = x[0]; var b = x[1];
            return (1.0 - a).Square() + 100.0 * (b - a.Square()).Square();
        }, V(-1.5, 2.0), maxIter: 100);
        Assert.True(result.Iterations < 100);
        Assert.Equal(1.0, result.Minimizer.ToArray<double>()[0], 4);
        Assert.Equal(1.0, result.Minimizer.ToArray<double>()[1], 4);
    }
}
