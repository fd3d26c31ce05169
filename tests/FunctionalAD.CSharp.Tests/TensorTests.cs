using FunctionalAD;

namespace FunctionalAD.CSharp.Tests;

public class TensorTests
{
    static void Close(double[] expected, double[] actual, double tol = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"element {i}: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void CreatesFromArraysAndReadsBack()
    {
        var t = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 }, 2, 3);
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(DType.Float64, t.DType);
        Assert.Equal(Device.Cpu, t.Device);
        Assert.Equal(new[] { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 }, t.ToArray<double>());
        Assert.Equal(DType.Float32, Tensor.FromArray(new[] { 1f, 2f }).DType);
        var m = Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } });
        Assert.Equal(new[] { 2, 2 }, m.Shape);
        Assert.Equal(4f, m.ToArray2D<float>()[1, 1]);
        Assert.Equal(21.0, t.Sum().Item());
    }

    [Fact]
    public void OperatorsBroadcastAndFluentMethodsChain()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 }, 2, 3);
        var b = Tensor.FromArray(new[] { 10.0, 20.0, 30.0 });
        var y = (x + b) * 2.0 - 1.0;
        Assert.Equal(new[] { 21.0, 43.0, 65.0, 27.0, 49.0, 71.0 }, y.ToArray<double>());
        var z = x.Sin().Mul(x);
        Close(x.ToArray<double>().Select(v => Math.Sin(v) * v).ToArray(), z.ToArray<double>());
        Assert.Equal(new[] { 3, 2 }, x.Reshape(3, 2).Shape);
        Assert.Equal(new[] { 14.0, 32.0, 32.0, 77.0 }, x.MatMul(x.T).ToArray<double>());
        Assert.Equal(new[] { false, true, true }, b.Gt(15.0).ToArray<bool>());
        Assert.Equal(5.0, x[1, 1].Item());
        Assert.Equal(-2.0, (-x)[0, 1].Item());
    }

    [Fact]
    public void SeededRandomNumbersRepeat()
    {
        var a = Tensor.Randn([3, 3], new Generator(7));
        var b = Tensor.Randn([3, 3], new Generator(7));
        Assert.Equal(a.ToArray<float>(), b.ToArray<float>());
    }

    [Fact]
    public void BadShapesThrowArgumentExceptionsNamingTheOperation()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => Tensor.Zeros([2, 3]).MatMul(Tensor.Zeros([4, 5])));
        Assert.Contains("matmul", e.Message);
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("[4,5]", e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e);
        Assert.Throws<ShapeMismatchException>(() => Tensor.Zeros([2]) + Tensor.Zeros([3]));
    }
}
