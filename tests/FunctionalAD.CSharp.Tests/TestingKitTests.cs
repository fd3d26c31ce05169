using FsCheck;
using FsCheck.Fluent;
using FunctionalAD;
using FunctionalAD.Testing;

namespace FunctionalAD.CSharp.Tests;

/// <summary>FunctionalAD.Testing from C#: its arbitraries with FsCheck's C# API, its assertions in xunit.</summary>
public class TestingKitTests
{
    static readonly Config Replayed = Config.QuickThrowOnFailure.WithMaxTest(40).WithReplay(new Replay(new Rnd(12345UL, 67891UL), null));

    [Fact]
    public void GradientPropertyHoldsForACorrectFunction() =>
        FsCheck.Check.One(Replayed, GradientProperties.Match(TensorArbitraries.Tensors(DType.Float64, -2, 2), x => x.Sin() * x));

    [Fact]
    public void ForAllOverBroadcastableTensorsWithTensorAssert() =>
        FsCheck.Check.One(Replayed, Prop.ForAll(TensorArbitraries.Broadcastable(DType.Float64, 2, -1, 1),
            (Tensor[] ts) => TensorAssert.Gradients(xs => xs[0] * xs[1].Exp(), ts)));

    [Fact]
    public void AllCloseThrowsNamingTheWorstIndex()
    {
        var a = Tensor.FromArray(new[] { 1.0, 2.0, 3.0 });
        TensorAssert.AllClose(a, a);
        var e = Assert.Throws<CheckFailedException>(() => TensorAssert.AllClose(a + Tensor.FromArray(new[] { 0.0, 0.0, 0.5 }), a));
        Assert.Contains("index [2]", e.Message);
    }

    [Fact]
    public void WrongCustomBackwardIsCaught()
    {
        var wrong = new CustomFunction("wrongSin", 1, xs => xs[0].Sin(), (g, xs, y) => new[] { g * xs[0].Cos() * 1.01 });
        var x = Tensor.FromArray(new[] { 0.2, 0.7 });
        var e = Assert.Throws<CheckFailedException>(() => TensorAssert.CustomGradient(t => wrong.Invoke(t), x));
        Assert.Contains("reverse-mode gradient", e.Message);
        var right = new CustomFunction("sin", 1, xs => xs[0].Sin(), (g, xs, y) => new[] { g * xs[0].Cos() });
        TensorAssert.CustomGradient(t => right.Invoke(t), x);
    }
}
