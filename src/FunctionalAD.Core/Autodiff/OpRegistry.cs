using System.Reflection;
using FunctionalAD.Backends;
using FunctionalAD.Ops;

namespace FunctionalAD.Autodiff;

/// <summary>One elementwise op of the library, seen without its type parameter (for tests, kernel checks and tools).</summary>
/// <param name="Type">The op struct.</param>
/// <param name="Name">Its name ("sin").</param>
/// <param name="Domains">Where property tests draw each input.</param>
/// <param name="AcceptsIntegers">True when integer tensors are computed as integers.</param>
/// <param name="ZeroDerivative">True for piecewise-constant ops (no derivative, no tape).</param>
/// <param name="Primitive">The op's primitive.</param>
/// <param name="Apply">The op on tensors (Tensor.Map or Tensor.Zip).</param>
/// <param name="Kernel">The op's kernel on a backend, for raw inputs of equal shape and dtype.</param>
internal sealed record OpEntry(Type Type, string Name, OpDomain[] Domains, bool AcceptsIntegers, bool ZeroDerivative, Primitive Primitive,
    Func<Tensor[], Tensor> Apply, Func<IBackend, RawTensor[], RawTensor> Kernel)
{
    /// <summary>Number of inputs (1 or 2).</summary>
    public int Arity => Domains.Length;

    /// <summary>g·f'(x) through the backend's fused kernel (unary ops), or null where it has none.</summary>
    public RawTensor? FusedDerivative(IBackend backend, RawTensor g, RawTensor x, RawTensor y)
    {
        var m = typeof(IBackend).GetMethod(nameof(IBackend.TryUnaryDerivative))!.MakeGenericMethod(Type);
        object?[] args = [g, x, y, null];
        return (bool)m.Invoke(backend, args)! ? (RawTensor)args[3]! : null;
    }
}

/// <summary>Every elementwise op struct defined in this assembly (<see cref="IUnaryOp"/> and <see cref="IBinaryOp"/>
/// implementations in <c>Ops/</c>), found by reflection: a new op is registered by being written.</summary>
internal static class OpRegistry
{
    public static readonly Type[] UnaryTypes = Find(typeof(IUnaryOp));
    public static readonly Type[] BinaryTypes = Find(typeof(IBinaryOp));

    static Type[] Find(Type kind) => typeof(OpRegistry).Assembly.GetTypes()
        .Where(t => t.IsValueType && !t.IsGenericTypeDefinition && kind.IsAssignableFrom(t))
        .OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();

    /// <summary>True when the op accepts integer tensors.</summary>
    public static bool AcceptsIntegers(Type op) => (bool)Traits(op).GetField(nameof(OpTraits<int>.AcceptsIntegers))!.GetValue(null)!;

    /// <summary>True when the op is piecewise constant (no derivative kernel is ever launched for it).</summary>
    public static bool ZeroDerivative(Type op) => (bool)Traits(op).GetField(nameof(OpTraits<int>.ZeroDerivative))!.GetValue(null)!;

    static Type Traits(Type op) => typeof(OpTraits<>).MakeGenericType(op);

    /// <summary>Every op, unary then binary, each ordered by type name.</summary>
    public static readonly IReadOnlyList<OpEntry> All = [.. UnaryTypes.Select(Unary), .. BinaryTypes.Select(Binary)];

    static OpEntry Unary(Type t)
    {
        var op = (IUnaryOp)Activator.CreateInstance(t)!;
        var map = typeof(Tensor).GetMethod(nameof(Tensor.Map))!.MakeGenericMethod(t);
        var kernel = typeof(IBackend).GetMethod(nameof(IBackend.Unary))!.MakeGenericMethod(t);
        var primitive = (Primitive)typeof(UnaryPrimitive<>).MakeGenericType(t).GetField("Instance")!.GetValue(null)!;
        return new(t, op.Name, [op.Domain], op.AcceptsIntegers, op.ZeroDerivative, primitive,
            xs => Invoke<Tensor>(map, xs[0], []), (b, xs) => Invoke(kernel, b, [xs[0]]));
    }

    static OpEntry Binary(Type t)
    {
        var op = (IBinaryOp)Activator.CreateInstance(t)!;
        var zip = typeof(Tensor).GetMethod(nameof(Tensor.Zip))!.MakeGenericMethod(t);
        var kernel = typeof(IBackend).GetMethod(nameof(IBackend.Binary))!.MakeGenericMethod(t);
        var primitive = (Primitive)typeof(BinaryPrimitive<>).MakeGenericType(t).GetField("Instance")!.GetValue(null)!;
        return new(t, op.Name, [op.DomainA, op.DomainB], op.AcceptsIntegers, false, primitive,
            xs => Invoke<Tensor>(zip, null, [xs[0], xs[1]]), (b, xs) => Invoke(kernel, b, [xs[0], xs[1]]));
    }

    /// <summary>Invokes by reflection, rethrowing what the method threw (not a TargetInvocationException).</summary>
    static T Invoke<T>(MethodInfo m, object? target, object?[] args)
    {
        try { return (T)m.Invoke(target, args)!; }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    static RawTensor Invoke(MethodInfo m, IBackend b, object?[] args) => Invoke<RawTensor>(m, b, args);
}
