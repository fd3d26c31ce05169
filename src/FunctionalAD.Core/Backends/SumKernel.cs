using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FunctionalAD.Backends;

/// <summary>
/// Deterministic float sums (and the dot products and products that reductions use): the grouping of the additions
/// depends only on the element indices, never on where the array lies in memory, so the same values give the same
/// bits on every call. (TensorPrimitives and a scalar head up to the alignment group elements by address, and the GC
/// places each new array differently: one sum of the same 1M floats gave four different results in 200 calls.)
/// </summary>
/// <remarks>
/// The grouping: eight vector accumulators take index-vectors 0..7, 8..15, ... (vector k holds elements kW..kW+W-1),
/// leftover whole index-vectors go to the first accumulators, the accumulators are added pairwise, their lanes in a
/// fixed order, then the scalar tail in order. Long runs read memory with aligned loads and rebuild each index-vector
/// from two aligned blocks with one permute (AVX-512: vpermt2d; AVX2: two vpermd and a blend), which gives exactly the
/// vectors unaligned loads would (the same bits) at the speed of aligned streaming: unaligned 64-byte loads straddle
/// cache lines and ran at 36 GB/s against 60 here. Integer types are exact in any order and use TensorPrimitives.
/// </remarks>
internal static class SumKernel
{
    /// <summary>Runs at least this long use the aligned-load path (below it everything is in cache anyway).</summary>
    internal const int AlignedFrom = 4096;

    /// <summary>Which vector path a sum takes (tests force each to prove they agree bit for bit).</summary>
    internal enum Path { Auto, Unaligned, Aligned512, Aligned256 }

    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, INumber<T> => Sum(x, Path.Auto);

    internal static unsafe T Sum<T>(ReadOnlySpan<T> x, Path path) where T : unmanaged, INumber<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double)) return System.Numerics.Tensors.TensorPrimitives.Sum(x);
        if (path == Path.Auto)
            path = x.Length < AlignedFrom ? Path.Unaligned
                : Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? Path.Aligned512
                : Vector256.IsHardwareAccelerated && Avx2.IsSupported ? Path.Aligned256 : Path.Unaligned;
        fixed (T* p = x)
        {
            if (Vector512.IsHardwareAccelerated && path != Path.Aligned256) return Sum512(p, x.Length, path == Path.Aligned512);
            if (Vector256.IsHardwareAccelerated) return Sum256(p, x.Length, path == Path.Aligned256);
            T total = T.Zero;
            for (int i = 0; i < x.Length; i++) total += p[i];
            return total;
        }
    }

    static unsafe T Sum512<T>(T* p, int n, bool aligned) where T : unmanaged, INumber<T>
    {
        int w = Vector512<T>.Count, i = 0;
        Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        int shift = (int)((nint)p & 63) / 4; // in 32-bit lanes
        if (aligned && shift == 0)
            for (; i <= n - 8 * w; i += 8 * w)
            {
                T* q = p + i;
                a0 += Vector512.LoadAligned(q); a1 += Vector512.LoadAligned(q + w); a2 += Vector512.LoadAligned(q + 2 * w); a3 += Vector512.LoadAligned(q + 3 * w);
                a4 += Vector512.LoadAligned(q + 4 * w); a5 += Vector512.LoadAligned(q + 5 * w); a6 += Vector512.LoadAligned(q + 6 * w); a7 += Vector512.LoadAligned(q + 7 * w);
            }
        else if (aligned)
        {
            // Index-vector k = lanes shift.. of aligned block k and lanes ..shift of block k+1. Block k+1 of the last
            // index-vector starts inside the run, so it lies in a cache line (and page) the run occupies.
            var index = Vector512<int>.Indices + Vector512.Create(shift);
            int* block = (int*)((byte*)p - shift * 4);
            var b0 = Vector512.LoadAligned(block);
            for (; i <= n - 8 * w; i += 8 * w, block += 128)
            {
                Vector512<int> b1 = Vector512.LoadAligned(block + 16), b2 = Vector512.LoadAligned(block + 32), b3 = Vector512.LoadAligned(block + 48),
                    b4 = Vector512.LoadAligned(block + 64), b5 = Vector512.LoadAligned(block + 80), b6 = Vector512.LoadAligned(block + 96),
                    b7 = Vector512.LoadAligned(block + 112), b8 = Vector512.LoadAligned(block + 128);
                a0 += Avx512F.PermuteVar16x32x2(b0, index, b1).As<int, T>(); a1 += Avx512F.PermuteVar16x32x2(b1, index, b2).As<int, T>();
                a2 += Avx512F.PermuteVar16x32x2(b2, index, b3).As<int, T>(); a3 += Avx512F.PermuteVar16x32x2(b3, index, b4).As<int, T>();
                a4 += Avx512F.PermuteVar16x32x2(b4, index, b5).As<int, T>(); a5 += Avx512F.PermuteVar16x32x2(b5, index, b6).As<int, T>();
                a6 += Avx512F.PermuteVar16x32x2(b6, index, b7).As<int, T>(); a7 += Avx512F.PermuteVar16x32x2(b7, index, b8).As<int, T>();
                b0 = b8;
            }
        }
        else
            for (; i <= n - 8 * w; i += 8 * w)
            {
                T* q = p + i;
                a0 += Vector512.Load(q); a1 += Vector512.Load(q + w); a2 += Vector512.Load(q + 2 * w); a3 += Vector512.Load(q + 3 * w);
                a4 += Vector512.Load(q + 4 * w); a5 += Vector512.Load(q + 5 * w); a6 += Vector512.Load(q + 6 * w); a7 += Vector512.Load(q + 7 * w);
            }
        // Leftover whole index-vectors, to the first accumulators in turn.
        if (i <= n - w) { a0 += Vector512.Load(p + i); i += w; }
        if (i <= n - w) { a1 += Vector512.Load(p + i); i += w; }
        if (i <= n - w) { a2 += Vector512.Load(p + i); i += w; }
        if (i <= n - w) { a3 += Vector512.Load(p + i); i += w; }
        if (i <= n - w) { a4 += Vector512.Load(p + i); i += w; }
        if (i <= n - w) { a5 += Vector512.Load(p + i); i += w; }
        if (i <= n - w) { a6 += Vector512.Load(p + i); i += w; }
        T total = Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
        for (; i < n; i++) total += p[i];
        return total;
    }

    static unsafe T Sum256<T>(T* p, int n, bool aligned) where T : unmanaged, INumber<T>
    {
        int w = Vector256<T>.Count, i = 0;
        Vector256<T> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        int shift = (int)((nint)p & 31) / 4; // in 32-bit lanes
        if (aligned && shift == 0)
            for (; i <= n - 8 * w; i += 8 * w)
            {
                T* q = p + i;
                a0 += Vector256.LoadAligned(q); a1 += Vector256.LoadAligned(q + w); a2 += Vector256.LoadAligned(q + 2 * w); a3 += Vector256.LoadAligned(q + 3 * w);
                a4 += Vector256.LoadAligned(q + 4 * w); a5 += Vector256.LoadAligned(q + 5 * w); a6 += Vector256.LoadAligned(q + 6 * w); a7 += Vector256.LoadAligned(q + 7 * w);
            }
        else if (aligned)
        {
            // vpermd rotates each block by shift lanes (once per block); the blend takes lanes 8 - shift.. from the next one.
            var index = Vector256<int>.Indices + Vector256.Create(shift) & Vector256.Create(7);
            var fromNext = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(8 - shift)).AsByte();
            int* block = (int*)((byte*)p - shift * 4);
            var r0 = Avx2.PermuteVar8x32(Vector256.LoadAligned(block), index).AsByte();
            for (; i <= n - 8 * w; i += 8 * w, block += 64)
            {
                Vector256<byte> r1 = Rotate(block + 8, index), r2 = Rotate(block + 16, index), r3 = Rotate(block + 24, index), r4 = Rotate(block + 32, index),
                    r5 = Rotate(block + 40, index), r6 = Rotate(block + 48, index), r7 = Rotate(block + 56, index), r8 = Rotate(block + 64, index);
                a0 += Avx2.BlendVariable(r0, r1, fromNext).As<byte, T>(); a1 += Avx2.BlendVariable(r1, r2, fromNext).As<byte, T>();
                a2 += Avx2.BlendVariable(r2, r3, fromNext).As<byte, T>(); a3 += Avx2.BlendVariable(r3, r4, fromNext).As<byte, T>();
                a4 += Avx2.BlendVariable(r4, r5, fromNext).As<byte, T>(); a5 += Avx2.BlendVariable(r5, r6, fromNext).As<byte, T>();
                a6 += Avx2.BlendVariable(r6, r7, fromNext).As<byte, T>(); a7 += Avx2.BlendVariable(r7, r8, fromNext).As<byte, T>();
                r0 = r8;
            }
        }
        else
            for (; i <= n - 8 * w; i += 8 * w)
            {
                T* q = p + i;
                a0 += Vector256.Load(q); a1 += Vector256.Load(q + w); a2 += Vector256.Load(q + 2 * w); a3 += Vector256.Load(q + 3 * w);
                a4 += Vector256.Load(q + 4 * w); a5 += Vector256.Load(q + 5 * w); a6 += Vector256.Load(q + 6 * w); a7 += Vector256.Load(q + 7 * w);
            }
        if (i <= n - w) { a0 += Vector256.Load(p + i); i += w; }
        if (i <= n - w) { a1 += Vector256.Load(p + i); i += w; }
        if (i <= n - w) { a2 += Vector256.Load(p + i); i += w; }
        if (i <= n - w) { a3 += Vector256.Load(p + i); i += w; }
        if (i <= n - w) { a4 += Vector256.Load(p + i); i += w; }
        if (i <= n - w) { a5 += Vector256.Load(p + i); i += w; }
        if (i <= n - w) { a6 += Vector256.Load(p + i); i += w; }
        T total = Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
        for (; i < n; i++) total += p[i];
        return total;
    }

    /// <summary>An aligned 32-byte block rotated by the shift (vpermd), ready to be blended with its neighbour.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe Vector256<byte> Rotate(int* block, Vector256<int> index) => Avx2.PermuteVar8x32(Vector256.LoadAligned(block), index).AsByte();

    /// <summary>Σ a[i]·b[i] with index-based grouping (four vector accumulators, then the tail in order).</summary>
    public static T Dot<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, INumber<T>
    {
        int n = a.Length, i = 0;
        T total = T.Zero;
        if (Vector.IsHardwareAccelerated && n >= 4 * Vector<T>.Count)
        {
            int w = Vector<T>.Count;
            Vector<T> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                s0 += new Vector<T>(a[i..]) * new Vector<T>(b[i..]);
                s1 += new Vector<T>(a[(i + w)..]) * new Vector<T>(b[(i + w)..]);
                s2 += new Vector<T>(a[(i + 2 * w)..]) * new Vector<T>(b[(i + 2 * w)..]);
                s3 += new Vector<T>(a[(i + 3 * w)..]) * new Vector<T>(b[(i + 3 * w)..]);
            }
            total = Vector.Sum((s0 + s1) + (s2 + s3));
        }
        for (; i < n; i++) total += a[i] * b[i];
        return total;
    }

    /// <summary>Π x[i] with index-based grouping (one vector accumulator per lane position, then the tail in order).</summary>
    public static T Product<T>(ReadOnlySpan<T> x) where T : unmanaged, INumber<T>
    {
        int n = x.Length, i = 0;
        T total = T.One;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            var acc = Vector<T>.One;
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count) acc *= new Vector<T>(x[i..]);
            for (int l = 0; l < Vector<T>.Count; l++) total *= acc[l];
        }
        for (; i < n; i++) total *= x[i];
        return total;
    }
}
