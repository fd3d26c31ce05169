using System.Numerics;

namespace FunctionalAD.Backends;

/// <summary>
/// What a CPU kernel does for each kind of dtype, given the element type it stores. <see cref="DTypeDispatch"/>
/// picks the method for a dtype: the one place that maps a dtype to its .NET element type.
/// </summary>
/// <remarks>A kernel is a small struct carrying its arguments, so a dispatch allocates nothing and boxes nothing.
/// Most kernels take one of the shapes below (<see cref="IElementKernel{TResult}"/>, <see cref="INumericKernel{TResult}"/>,
/// <see cref="IFloatingKernel{TResult}"/>); a kernel that does something different for each kind implements this.</remarks>
internal interface IDTypeVisitor<TResult>
{
    /// <summary>Float32 (float) and Float64 (double).</summary>
    TResult Floating<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>;
    /// <summary>Int32 (int) and Int64 (long).</summary>
    TResult Integer<T>() where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T>;
    /// <summary>Bool (bool).</summary>
    TResult Bool();
}

/// <summary>A kernel generic in its element type, for every dtype (Bool as bool).</summary>
internal interface IElementKernel<TResult>
{
    TResult Run<T>() where T : unmanaged;
}

/// <summary>A kernel generic in a numeric element type; what it does for Bool (a conversion or a refusal) it states.</summary>
internal interface INumericKernel<TResult>
{
    TResult Run<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T>;
    TResult Bool();
}

/// <summary>A kernel generic in a floating-point element type; what it does for Int32, Int64 and Bool it states.</summary>
internal interface IFloatingKernel<TResult>
{
    TResult Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>;
    TResult NotFloating();
}

/// <summary>Runs a kernel for a dtype. Call with the kernel's type and result spelled out:
/// <c>DTypeDispatch.Any&lt;ConcatKernel, RawTensor&gt;(x.DType, new(xs, axis))</c>.</summary>
internal static class DTypeDispatch
{
    public static TResult Visit<TVisitor, TResult>(DType dtype, TVisitor visitor) where TVisitor : struct, IDTypeVisitor<TResult> => dtype switch
    {
        DType.Float32 => visitor.Floating<float>(),
        DType.Float64 => visitor.Floating<double>(),
        DType.Int32 => visitor.Integer<int>(),
        DType.Int64 => visitor.Integer<long>(),
        _ => visitor.Bool(),
    };

    public static TResult Any<TKernel, TResult>(DType dtype, TKernel kernel) where TKernel : struct, IElementKernel<TResult> =>
        Visit<AnyElement<TKernel, TResult>, TResult>(dtype, new(kernel));

    public static TResult Numeric<TKernel, TResult>(DType dtype, TKernel kernel) where TKernel : struct, INumericKernel<TResult> =>
        Visit<NumericElement<TKernel, TResult>, TResult>(dtype, new(kernel));

    public static TResult Floating<TKernel, TResult>(DType dtype, TKernel kernel) where TKernel : struct, IFloatingKernel<TResult> =>
        Visit<FloatingElement<TKernel, TResult>, TResult>(dtype, new(kernel));

    readonly struct AnyElement<TKernel, TResult>(TKernel kernel) : IDTypeVisitor<TResult> where TKernel : struct, IElementKernel<TResult>
    {
        public TResult Floating<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => kernel.Run<T>();
        public TResult Integer<T>() where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> => kernel.Run<T>();
        public TResult Bool() => kernel.Run<bool>();
    }

    readonly struct NumericElement<TKernel, TResult>(TKernel kernel) : IDTypeVisitor<TResult> where TKernel : struct, INumericKernel<TResult>
    {
        public TResult Floating<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => kernel.Run<T>();
        public TResult Integer<T>() where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> => kernel.Run<T>();
        public TResult Bool() => kernel.Bool();
    }

    readonly struct FloatingElement<TKernel, TResult>(TKernel kernel) : IDTypeVisitor<TResult> where TKernel : struct, IFloatingKernel<TResult>
    {
        public TResult Floating<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => kernel.Run<T>();
        public TResult Integer<T>() where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> => kernel.NotFloating();
        public TResult Bool() => kernel.NotFloating();
    }
}
