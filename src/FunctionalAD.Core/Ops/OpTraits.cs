namespace FunctionalAD.Ops;

/// <summary>An op struct's properties, read once per op type (default interface members on a struct box when
/// called, so hot paths read these fields instead).</summary>
internal static class OpTraits<TOp> where TOp : struct
{
    public static readonly string Name = default(TOp) switch
    {
        IUnaryOp u => u.Name,
        IBinaryOp b => b.Name,
        _ => typeof(TOp).Name,
    };
    public static readonly bool AcceptsIntegers = default(TOp) switch
    {
        IUnaryOp u => u.AcceptsIntegers,
        IBinaryOp b => b.AcceptsIntegers,
        _ => false,
    };
    public static readonly bool ZeroDerivative = default(TOp) is IUnaryOp { ZeroDerivative: true };
}

/// <summary>Errors shared by every backend's elementwise dispatch.</summary>
internal static class OpTraits
{
    /// <summary>The error for an op given a dtype it does not compute on.</summary>
    public static DTypeMismatchException Refused(string op, DType dtype, bool acceptsIntegers) => dtype == DType.Bool
        ? new(op, "Bool tensors have no arithmetic; cast with To(DType.Int32) or To(DType.Float32)")
        : new(op, $"expected {(acceptsIntegers ? "a numeric" : "a floating-point")} tensor, got {dtype}");
}
