using System.Numerics;
using FunctionalAD;

namespace FunctionalAD.CSharp.Tests;

public class DualTests
{
    // Written once over .NET generic math; evaluated on double and differentiated on Dual<double>.
    static T F<T>(T x) where T : IFloatingPointIeee754<T> => T.Sin(x) * x + T.Exp(x / (T.One + T.One));

    [Fact]
    public void GenericMathFunctionRunsOnDoubleAndOnDual()
    {
        double x = 0.8;
        var (value, derivative) = Dual.ValueAndDiff(F, x);
        Assert.Equal(F(x), value, 14);
        Assert.Equal(Math.Cos(x) * x + Math.Sin(x) + 0.5 * Math.Exp(x / 2), derivative, 14);
    }

    [Fact]
    public void NestedDualsGiveSecondDerivatives()
    {
        // (x sin x)'' = 2 cos x - x sin x
        double x = 1.3;
        Assert.Equal(2 * Math.Cos(x) - x * Math.Sin(x), Dual.Diff2(d => Dual<Dual<double>>.Sin(d) * d, x), 14);
    }

    [Fact]
    public void MixedScalarOperatorsAndControlFlow()
    {
        Assert.Equal(6.0, Dual.Diff(d => 3.0 * d * d - 1.0, 1.0), 14);
        Assert.Equal(0.0, Dual.Diff(d => d > 0.0 ? Dual<double>.Zero : d, 2.0));
    }
}
