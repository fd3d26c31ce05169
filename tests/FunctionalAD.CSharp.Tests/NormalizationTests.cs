using FunctionalAD;

namespace FunctionalAD.CSharp.Tests;

public class NormalizationTests
{
    [Fact]
    public void BatchNormGroupNormAndRecurrentCellsAreReachableFromCSharp()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 6.0 }, [2, 2]);
        var r = x.BatchNorm(Tensor.Zeros([2], DType.Float64), Tensor.Ones([2], DType.Float64), null, null, training: true);
        Assert.Equal(new[] { -1.0, -1.0, 1.0, 1.0 }, r.Output.ToArray<double>().Select(v => Math.Round(v, 3)));
        Assert.Equal(new[] { 0.2, 0.4 }, r.RunningMean.ToArray<double>().Select(v => Math.Round(v, 12)));
        Assert.Equal(new[] { 1.1, 1.7 }, r.RunningVar.ToArray<double>().Select(v => Math.Round(v, 12)));  // 0.9 + 0.1·(2, 8)
        var eval = x.BatchNorm(r.RunningMean, r.RunningVar, null, null, training: false);
        Assert.Same(r.RunningMean, eval.RunningMean);
        Assert.Equal(new[] { 2, 4, 3 }, Tensor.Rand([2, 4, 3], new Generator(1)).GroupNorm(2).Shape);

        var g = new Generator(2);
        var (h, c) = Tensor.LstmCell(Tensor.Rand([3, 5], g), Tensor.Zeros([3, 4]), Tensor.Zeros([3, 4]), Tensor.Rand([16, 5], g), Tensor.Rand([16, 4], g));
        Assert.Equal(new[] { 3, 4 }, h.Shape);
        Assert.Equal(new[] { 3, 4 }, c.Shape);
        var (outputs, last) = Tensor.Gru(Tensor.Rand([3, 7, 5], g), Tensor.Zeros([3, 4]), Tensor.Rand([12, 5], g), Tensor.Rand([12, 4], g));
        Assert.Equal(new[] { 3, 7, 4 }, outputs.Shape);
        Assert.Equal(last.ToArray<float>(), outputs.Select(1, 6).ToArray<float>());
        var e = Assert.Throws<ShapeMismatchException>(() => Tensor.GruCell(Tensor.Zeros([3, 6]), Tensor.Zeros([3, 4]), Tensor.Zeros([12, 5]), Tensor.Zeros([12, 4])));
        Assert.Contains("gruCell", e.Message);
        Assert.Contains("[3,6]", e.Message);
    }
}
