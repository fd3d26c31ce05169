using FunctionalAD.Ops;

namespace FunctionalAD.Gpu;

/// <summary>
/// What a GPU kernel does for each kind of dtype, given its element type and the <see cref="IElementOps{T}"/> struct
/// the device code computes with. <see cref="GpuDTypeDispatch"/> picks the method for a dtype: the one place on the
/// GPU that maps a dtype to (element type, ops). Integers evaluate op formulas in <see cref="GpuIntegerMath{T, TOps}"/>.
/// </summary>
/// <remarks>Most kernels run the same generic method for every dtype (<see cref="IGpuElementKernel{TResult}"/>); one
/// that refuses or converts some dtypes, or that evaluates op formulas, implements this.</remarks>
internal interface IGpuDTypeVisitor<TResult>
{
    /// <summary>Float32 and Float64, whose ops struct is also their <see cref="IElementMath{T}"/>.</summary>
    TResult Floating<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>, IElementMath<T>;
    /// <summary>Int32 and Int64.</summary>
    TResult Integer<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>;
    /// <summary>Bool, stored as a byte with <see cref="BoolOps"/>.</summary>
    TResult Bool();
}

/// <summary>A kernel generic in its element type and ops, for every dtype (Bool as byte, <see cref="BoolOps"/>).</summary>
internal interface IGpuElementKernel<TResult>
{
    TResult Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>;
}

/// <summary>Runs a kernel for a dtype, e.g. <c>GpuDTypeDispatch.Any&lt;ConcatKernel, RawTensor&gt;(xs[0].DType, new(this, xs, axis))</c>.</summary>
internal static class GpuDTypeDispatch
{
    public static TResult Visit<TVisitor, TResult>(DType dtype, TVisitor visitor) where TVisitor : struct, IGpuDTypeVisitor<TResult> => dtype switch
    {
        DType.Float32 => visitor.Floating<float, Float32Ops>(),
        DType.Float64 => visitor.Floating<double, Float64Ops>(),
        DType.Int32 => visitor.Integer<int, Int32Ops>(),
        DType.Int64 => visitor.Integer<long, Int64Ops>(),
        _ => visitor.Bool(),
    };

    public static TResult Any<TKernel, TResult>(DType dtype, TKernel kernel) where TKernel : struct, IGpuElementKernel<TResult> =>
        Visit<AnyElement<TKernel, TResult>, TResult>(dtype, new(kernel));

    readonly struct AnyElement<TKernel, TResult>(TKernel kernel) : IGpuDTypeVisitor<TResult> where TKernel : struct, IGpuElementKernel<TResult>
    {
        public TResult Floating<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>, IElementMath<T> => kernel.Run<T, TOps>();
        public TResult Integer<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => kernel.Run<T, TOps>();
        public TResult Bool() => kernel.Run<byte, BoolOps>();
    }
}
