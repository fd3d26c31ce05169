namespace FunctionalAD;

/// <summary>The element type of a tensor.</summary>
/// <remarks>
/// Promotion (binary ops): Bool &lt; Int32 &lt; Int64 &lt; Float32 &lt; Float64; the result has the larger dtype.
/// So Float32 op Float64 is Float64 and Int64 op Float32 is Float32. A .NET scalar operand (<c>x * 2.0</c>)
/// does not promote a floating-point tensor: it takes the tensor's dtype, as in PyTorch.
/// </remarks>
public enum DType
{
    /// <summary>Booleans (masks; results of comparisons).</summary>
    Bool = 0,
    /// <summary>32-bit signed integers (indices).</summary>
    Int32 = 1,
    /// <summary>64-bit signed integers (indices; results of argmax/argmin).</summary>
    Int64 = 2,
    /// <summary>IEEE 754 single precision. The default for constructors without data.</summary>
    Float32 = 3,
    /// <summary>IEEE 754 double precision.</summary>
    Float64 = 4,
}

/// <summary>Helpers over <see cref="DType"/>.</summary>
public static class DTypes
{
    /// <summary>True for Float32 and Float64, the dtypes that carry derivatives.</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>The dtype of a binary op's result: the larger of the two in Bool &lt; Int32 &lt; Int64 &lt; Float32 &lt; Float64.</summary>
    public static DType Promote(DType a, DType b) => (DType)Math.Max((int)a, (int)b);

    /// <summary>Size of one element in bytes.</summary>
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.Bool => 1,
        DType.Int32 or DType.Float32 => 4,
        _ => 8,
    };

    /// <summary>The dtype that stores .NET type <typeparamref name="T"/>.</summary>
    /// <exception cref="ArgumentException">T is not float, double, int, long or bool.</exception>
    public static DType Of<T>() =>
        typeof(T) == typeof(float) ? DType.Float32 :
        typeof(T) == typeof(double) ? DType.Float64 :
        typeof(T) == typeof(int) ? DType.Int32 :
        typeof(T) == typeof(long) ? DType.Int64 :
        typeof(T) == typeof(bool) ? DType.Bool :
        throw new ArgumentException($"tensor: element type {typeof(T).Name} is not supported; expected float, double, int, long or bool");

    /// <summary>The .NET element type stored for a dtype.</summary>
    public static Type ClrType(this DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float),
        DType.Float64 => typeof(double),
        DType.Int32 => typeof(int),
        DType.Int64 => typeof(long),
        _ => typeof(bool),
    };
}
