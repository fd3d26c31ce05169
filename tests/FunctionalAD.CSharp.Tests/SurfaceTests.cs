using System.Reflection;
using FunctionalAD;
using FunctionalAD.Imperative;

namespace FunctionalAD.CSharp.Tests;

public class SurfaceTests
{
    static IEnumerable<Type> Mentioned(MemberInfo m) => m switch
    {
        MethodInfo mi => mi.GetParameters().Select(p => p.ParameterType).Append(mi.ReturnType),
        PropertyInfo pi => [pi.PropertyType],
        ConstructorInfo ci => ci.GetParameters().Select(p => p.ParameterType),
        FieldInfo fi => [fi.FieldType],
        _ => [],
    };

    static IEnumerable<Type> Flatten(Type t) =>
        t.IsGenericType ? t.GetGenericArguments().SelectMany(Flatten).Prepend(t.GetGenericTypeDefinition())
        : t.HasElementType ? Flatten(t.GetElementType()!).Prepend(t) : [t];

    [Fact]
    public void TheFacadeExposesNoFSharpTypes()
    {
        var facade = typeof(AD).Assembly;
        var offenders = new List<string>();
        foreach (var type in facade.GetExportedTypes())
            foreach (var member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
                foreach (var mentioned in Mentioned(member).SelectMany(Flatten))
                    if (mentioned.Namespace?.StartsWith("Microsoft.FSharp") == true)
                        offenders.Add($"{type.Name}.{member.Name}: {mentioned.FullName}");
        Assert.Empty(offenders);
    }

    [Fact]
    public void ValueAndGradAndDiffFunctions()
    {
        var (value, gradient) = AD.ValueAndGrad(x => (x * x).Sum(), Tensor.FromArray(new[] { 1.0, 2.0 }));
        Assert.Equal(5.0, value.Item());
        Assert.Equal(new[] { 2.0, 4.0 }, gradient.ToArray<double>());
        var (v2, g2) = Optim.ValueAndGrad(p => p["w"].Square().Sum(), Params.Create([new("w", Tensor.FromArray(new[] { 3.0 }))]));
        Assert.Equal(9.0, v2.Item());
        Assert.Equal(6.0, g2["w"].Item());
        var relu = Activation.Relu();
        Assert.Equal(new[] { 0.0, 2.0 }, relu.Forward(Tensor.FromArray(new[] { -1.0, 2.0 })).ToArray<double>());
        Assert.Empty(relu.Parameters);
    }
}
