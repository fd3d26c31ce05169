using FunctionalAD.Backends;
using FunctionalAD.Ops;

namespace FunctionalAD.Autodiff;

/// <summary>The primitive of one elementwise op of one input, created once per op type.</summary>
internal static class UnaryPrimitive<TOp> where TOp : struct, IUnaryOp
{
    public static readonly Primitive Instance = Primitive.Unary<TOp>();
}

/// <summary>The primitive of one elementwise op of two inputs, created once per op type.</summary>
internal static class BinaryPrimitive<TOp> where TOp : struct, IBinaryOp
{
    public static readonly Primitive Instance = Primitive.Binary<TOp>();
}

/// <summary>
/// The primitive table, elementwise part. The elementwise ops themselves are defined in <c>Ops/</c> (one struct per op,
/// its value and derivative together) and become primitives through <see cref="UnaryPrimitive{TOp}"/> and
/// <see cref="BinaryPrimitive{TOp}"/>; what stays here is the selection <c>where</c>, whose condition has no derivative.
/// </summary>
internal static partial class Primitives
{
    // where(cond, a, b) with the Bool condition as an attribute. The unselected side's derivative is a broadcast
    // zero scalar: a view, not a tensor of zeros.
    public static readonly Primitive Where = Primitive.Diagonal("where", (b, xs, attr) => b.Where((RawTensor)attr!, xs[0], xs[1]),
        [(d, _, _, c) => Select(c, d, Tensor.ZerosView(d)), (d, _, _, c) => Select(c, Tensor.ZerosView(d), d)]);

    // Comparisons: Bool results, so no derivative; a primitive all the same, so that tensors reach kernels only
    // through the table.
    public static readonly Primitive Compare = new("compare", (b, xs, op) => b.Compare((CompareOp)op!, xs[0], xs[1]), [null, null], [null, null], zeroDerivative: true, PrimitiveFamily.Elementwise);

    static Tensor Select(object? cond, Tensor a, Tensor b) => Dispatch.Apply(Where, [a, b], cond);

}
