using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

/// <summary>
/// The managed CPU backend: System.Numerics.Tensors <c>TensorPrimitives</c> for elementwise and reduction work,
/// split over threads above <see cref="Parallelism.Grain"/> elements.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    /// <summary>The one CPU backend.</summary>
    public static readonly CpuBackend Instance = new();
    CpuBackend() { }

    /// <inheritdoc/>
    public Device Device => Device.Cpu;

    internal static T[] Data<T>(RawTensor x) => ((CpuStorage<T>)x.Storage).Data;

    static RawTensor Wrap<T>(T[] data, int[] shape) => new(new CpuStorage<T>(data), shape);

    /// <summary>A result array the kernel overwrites completely: not zeroed first (one memory pass fewer on large
    /// results), and a recycled one when the backward pass has given one of this length back (<see cref="ResultPool"/>).</summary>
    static T[] Uninit<T>(int n) => ResultPool.Rent<T>(n);

    /// <summary>The elements of x row-major: the storage itself when x is contiguous, else a copy.</summary>
    internal static (T[] Array, int Offset) Read<T>(RawTensor x)
    {
        if (x.Numel == 0) return ([], 0); // an empty view's offset may lie past its storage
        if (x.IsContiguous) return (Data<T>(x), x.Offset);
        var dst = Uninit<T>(x.Numel);
        CopyStrided(x, dst, 0, Shape.ContiguousStrides(x.Shape));
        return (dst, 0);
    }

    /// <summary>Gives a copy that <see cref="Read{T}(RawTensor)"/> made of x back to the pool once the kernel is done
    /// with it (no-op when Read returned x's own storage). Only for copies that do not escape the kernel.</summary>
    static void Release<T>(RawTensor x, T[]? read)
    {
        if (read is not null && read.Length > 0 && !ReferenceEquals(read, ((CpuStorage<T>)x.Storage).Data)) ResultPool.Return(read);
    }

    /// <inheritdoc/>
    public RawTensor FromArray<T>(T[] data, int[] shape) => Wrap((T[])data.Clone(), shape);

    /// <inheritdoc/>
    public T[] ToArray<T>(RawTensor x)
    {
        var (a, off) = Read<T>(x);
        if (off == 0 && a.Length == x.Numel && !x.IsContiguous) return a;
        var r = Uninit<T>(x.Numel);
        Array.Copy(a, off, r, 0, x.Numel);
        return r;
    }

    /// <inheritdoc/>
    public RawTensor Full(int[] shape, DType dtype, double value) => DTypeDispatch.Numeric<FullKernel, RawTensor>(dtype, new(shape, value));

    readonly struct FullKernel(int[] shape, double value) : INumericKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T> => Wrap(Filled(Shape.Numel(shape), T.CreateTruncating(value)), shape);
        public RawTensor Bool() => Wrap(Filled(Shape.Numel(shape), value != 0), shape);
    }

    static T[] Filled<T>(int n, T value) where T : unmanaged
    {
        // compare bits, not values (-0.0 == 0.0 but must be written)
        if (!System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ContainsAnyExcept((byte)0)) return ResultPool.RentZeroed<T>(n);
        var a = Uninit<T>(n);
        Array.Fill(a, value);
        return a;
    }

    /// <inheritdoc/>
    public RawTensor Contiguous(RawTensor x) => x.IsContiguous ? x : DTypeDispatch.Any<ContiguousKernel, RawTensor>(x.DType, new(x));

    readonly struct ContiguousKernel(RawTensor x) : IElementKernel<RawTensor> { public RawTensor Run<T>() where T : unmanaged => ContiguousOf<T>(x); }

    static RawTensor ContiguousOf<T>(RawTensor x)
    {
        var dst = Uninit<T>(x.Numel);
        CopyStrided(x, dst, 0, Shape.ContiguousStrides(x.Shape));
        return Wrap(dst, x.Shape);
    }

    /// <summary>Copies every element of view <paramref name="src"/> into dst at dstOffset + sum(index[i] * dstStrides[i]).</summary>
    internal static void CopyStrided<T>(RawTensor src, T[] dst, int dstOffset, int[] dstStrides)
    {
        int n = src.Numel;
        if (n == 0) return;
        var s = Data<T>(src);
        // Size-1 dimensions do not move anything: drop them so the inner loop runs over a real dimension.
        int rank = 0;
        Span<int> shape = stackalloc int[src.Rank], sst = stackalloc int[src.Rank], dst_ = stackalloc int[src.Rank];
        for (int i = 0; i < src.Rank; i++)
            if (src.Shape[i] != 1) { shape[rank] = src.Shape[i]; sst[rank] = src.Strides[i]; dst_[rank] = dstStrides[i]; rank++; }
        if (rank == 0) { dst[dstOffset] = s[src.Offset]; return; }
        int inner = shape[rank - 1], sIn = sst[rank - 1], dIn = dst_[rank - 1];
        if (rank >= 2 && dIn == 1 && sst[rank - 2] == 1 && sIn != 1 && inner >= TransposeTile && shape[rank - 2] >= TransposeTile)
        {
            TransposeMatrices(s, src.Offset, dst, dstOffset, shape[..rank], sst[..rank], dst_[..rank]);
            return;
        }
        Span<int> idx = stackalloc int[rank];
        int si = src.Offset, di = dstOffset;
        for (int done = 0; done < n; done += inner)
        {
            if (sIn == 1 && dIn == 1) Array.Copy(s, si, dst, di, inner);
            else if (sIn == 0) { var v = s[si]; for (int j = 0, d = di; j < inner; j++, d += dIn) dst[d] = v; }
            else for (int j = 0, a = si, d = di; j < inner; j++, a += sIn, d += dIn) dst[d] = s[a];
            // advance the outer index (odometer over dims 0..rank-2)
            for (int k = rank - 2; k >= 0; k--)
            {
                idx[k]++; si += sst[k]; di += dst_[k];
                if (idx[k] < shape[k]) break;
                si -= sst[k] * idx[k]; di -= dst_[k] * idx[k]; idx[k] = 0;
            }
        }
    }

    /// <summary>Side of the square tiles <see cref="TransposeMatrices{T}"/> copies.</summary>
    const int TransposeTile = 16;

    /// <summary>The copy of a view whose last two dimensions are swapped (the source runs along the second-to-last,
    /// the destination along the last: a transposed matrix made contiguous) by square tiles, so both sides stay in
    /// cache.</summary>
    static void TransposeMatrices<T>(T[] s, int so, T[] dst, int dOffset, ReadOnlySpan<int> shape, ReadOnlySpan<int> sst, ReadOnlySpan<int> dst_)
    {
        int rank = shape.Length, rows = shape[rank - 2], cols = shape[rank - 1], sc = sst[rank - 1], dr = dst_[rank - 2];
        Span<int> idx = stackalloc int[rank - 2];
        idx.Clear();
        int si = so, di = dOffset, count = 1;
        for (int k = 0; k < rank - 2; k++) count *= shape[k];
        for (int m = 0; m < count; m++)
        {
            for (int r0 = 0; r0 < rows; r0 += TransposeTile)
                for (int c0 = 0; c0 < cols; c0 += TransposeTile)
                {
                    int r1 = Math.Min(r0 + TransposeTile, rows), c1 = Math.Min(c0 + TransposeTile, cols);
                    for (int r = r0; r < r1; r++)
                        for (int c = c0, a = si + r + c0 * sc, d = di + r * dr + c0; c < c1; c++, a += sc, d++) dst[d] = s[a];
                }
            for (int k = rank - 3; k >= 0; k--) // the next matrix (odometer over the leading dimensions)
            {
                idx[k]++; si += sst[k]; di += dst_[k];
                if (idx[k] < shape[k]) break;
                si -= sst[k] * idx[k]; di -= dst_[k] * idx[k]; idx[k] = 0;
            }
        }
    }

    /// <inheritdoc/>
    public RawTensor Cast(RawTensor x, DType dtype) => x.DType == dtype ? x : DTypeDispatch.Numeric<CastKernel, RawTensor>(x.DType, new(x, dtype));

    /// <summary>Casts from the dtype it runs for; Bool becomes 0 or 1.</summary>
    readonly struct CastKernel(RawTensor x, DType dtype) : INumericKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T> => CastFrom<T>(x, dtype);
        public RawTensor Bool() => CastFromBool(x, dtype);
    }

    static RawTensor CastFrom<TFrom>(RawTensor x, DType dtype) where TFrom : INumber<TFrom>
    {
        var (a, off) = Read<TFrom>(x);
        var r = DTypeDispatch.Numeric<CastToKernel<TFrom>, RawTensor>(dtype, new(a, off, x.Shape)); // always a new array
        Release(x, a);
        return r;
    }

    /// <summary>Converts elements a[off ..] to the dtype it runs for; to Bool means "is not zero".</summary>
    readonly struct CastToKernel<TFrom>(TFrom[] a, int off, int[] shape) : INumericKernel<RawTensor> where TFrom : INumber<TFrom>
    {
        public RawTensor Run<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T> => Wrap(Convert<TFrom, T>(a, off, Shape.Numel(shape)), shape);
        public RawTensor Bool() => Wrap(NonZero(a, off, Shape.Numel(shape)), shape);
    }

    static TTo[] Convert<TFrom, TTo>(TFrom[] a, int off, int n) where TFrom : INumber<TFrom> where TTo : INumber<TTo>
    {
        var r = Uninit<TTo>(n);
        for (int i = 0; i < n; i++) r[i] = TTo.CreateTruncating(a[off + i]);
        return r;
    }

    static bool[] NonZero<T>(T[] a, int off, int n) where T : INumber<T>
    {
        var r = Uninit<bool>(n);
        for (int i = 0; i < n; i++) r[i] = !T.IsZero(a[off + i]);
        return r;
    }

    static RawTensor CastFromBool(RawTensor x, DType dtype)
    {
        var (a, off) = Read<bool>(x);
        var r = DTypeDispatch.Numeric<FromBoolKernel, RawTensor>(dtype, new(a, off, x.Shape)); // a new array, written directly
        Release(x, a);
        return r;
    }

    /// <summary>Bool elements a[off ..] as 0 and 1 of the dtype it runs for (a Bool target is unreachable: Cast returns
    /// x itself for the same dtype).</summary>
    readonly struct FromBoolKernel(bool[] a, int off, int[] shape) : INumericKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T>
        {
            var r = Uninit<T>(Shape.Numel(shape));
            for (int i = 0; i < r.Length; i++) r[i] = a[off + i] ? T.One : T.Zero;
            return Wrap(r, shape);
        }
        public RawTensor Bool() => Wrap(a.AsSpan(off, Shape.Numel(shape)).ToArray(), shape);
    }
}
