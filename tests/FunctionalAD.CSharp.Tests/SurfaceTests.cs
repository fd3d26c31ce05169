using System.Reflection;
using FunctionalAD;
using FunctionalAD.Imperative;

namespace FunctionalAD.CSharp.Tests;

public class SurfaceTests
{
    [Fact]
    public void TheFacadeAndCoreDependOnNoFSharpAssembly()
    {
        foreach (var assembly in new[] { typeof(AD).Assembly, typeof(Tensor).Assembly })
        {
            var references = assembly.GetReferencedAssemblies().Select(a => a.Name).ToArray();
            Assert.DoesNotContain("FSharp.Core", references);
            Assert.DoesNotContain("FunctionalAD", references);
            Assert.DoesNotContain("Plotly.NET", references);
        }
    }

    [Fact]
    public void EveryConceptHasOneNameAcrossTheNamespaces()
    {
        // `using FunctionalAD; using FunctionalAD.Imperative;` must never make a name ambiguous (CS0104), even with
        // the F# assembly referenced (this test project references it through FunctionalAD.Testing)
        var assemblies = new[] { typeof(Tensor).Assembly, typeof(AD).Assembly, Assembly.Load(new AssemblyName("FunctionalAD")) };
        var names = assemblies.SelectMany(a => a.GetExportedTypes())
            .Where(t => !t.IsNested && (t.Namespace == "FunctionalAD" || t.Namespace == "FunctionalAD.Imperative"))
            .GroupBy(t => t.Name)
            .Where(g => g.Select(t => t.Namespace + "@" + t.Assembly.GetName().Name).Distinct().Count() > 1)
            .Select(g => g.Key);
        Assert.Empty(names);
        Assert.NotNull(typeof(Adam).GetConstructor([typeof(IEnumerable<Parameter>), typeof(double), typeof(double), typeof(double), typeof(double), typeof(double)]));
    }

    [Fact]
    public void ValueAndGradAndParameterFreeLayers()
    {
        var (value, gradient) = AD.ValueAndGrad(x => (x * x).Sum(), Tensor.FromArray(new[] { 1.0, 2.0 }));
        Assert.Equal(5.0, value.Item());
        Assert.Equal(new[] { 2.0, 4.0 }, gradient.ToArray<double>());
        var relu = Activation.Relu();
        Assert.Equal(new[] { 0.0, 2.0 }, relu.Forward(Tensor.FromArray(new[] { -1.0, 2.0 })).ToArray<double>());
        Assert.Empty(relu.Parameters);
    }
}
