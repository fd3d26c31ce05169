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
/// fixed order, then the scalar tail in order. Long runs stream with aligned loads: since rebuilding an index-vector
/// from two aligned blocks is linear (a permute), the loop adds whole aligned blocks and the eight accumulators are
/// rebuilt once at the end (AVX-512: vpermt2d; AVX2: two vpermd and a blend), which gives exactly the bits unaligned
/// loads would. 10M floats, one thread: 80 GB/s, against 46 for unaligned loads (they straddle cache lines), 48 for a
/// permute per vector and 40 for TensorPrimitives.Sum. Integer types are exact in any order and use TensorPrimitives.
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
            // Index-vector k = lanes shift.. of aligned block k and lanes ..shift of block k+1. The rebuild is linear,
            // so the loop adds whole aligned blocks (block k into accumulator k mod 8, in order) and the eight sums are
            // rebuilt once at the end: a_j = rebuild(A_j, A_j+1). Block 0's lanes before the run and the last block's
            // lanes past this loop's index-vectors are masked to 0, and adding a leading 0 changes no bits. Every block
            // read starts inside the run, so it lies in a cache line (and page) the run occupies.
            var index = Vector512<int>.Indices + Vector512.Create(shift);
            var inRun = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(shift)).As<int, T>();
            T* block = (T*)((byte*)p - shift * 4);
            int blocks = (n / (8 * w)) * 8; // the index-vectors of the loop below
            Vector512<T> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
            if (blocks > 0)
            {
                b0 = Vector512.LoadAligned(block) & inRun;
                b1 = Vector512.LoadAligned(block + w); b2 = Vector512.LoadAligned(block + 2 * w); b3 = Vector512.LoadAligned(block + 3 * w);
                b4 = Vector512.LoadAligned(block + 4 * w); b5 = Vector512.LoadAligned(block + 5 * w); b6 = Vector512.LoadAligned(block + 6 * w);
                b7 = Vector512.LoadAligned(block + 7 * w);
                for (int k = 8; k < blocks; k += 8)
                {
                    T* q = block + k * w;
                    b0 += Vector512.LoadAligned(q); b1 += Vector512.LoadAligned(q + w); b2 += Vector512.LoadAligned(q + 2 * w); b3 += Vector512.LoadAligned(q + 3 * w);
                    b4 += Vector512.LoadAligned(q + 4 * w); b5 += Vector512.LoadAligned(q + 5 * w); b6 += Vector512.LoadAligned(q + 6 * w); b7 += Vector512.LoadAligned(q + 7 * w);
                }
                b0 += Vector512.LoadAligned(block + blocks * w) & ~inRun; // blocks is a multiple of 8: accumulator 0
                a0 = Rebuild(b0, b1, index); a1 = Rebuild(b1, b2, index); a2 = Rebuild(b2, b3, index); a3 = Rebuild(b3, b4, index);
                a4 = Rebuild(b4, b5, index); a5 = Rebuild(b5, b6, index); a6 = Rebuild(b6, b7, index); a7 = Rebuild(b7, b0, index);
                i = blocks * w;
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> Rebuild<T>(Vector512<T> low, Vector512<T> high, Vector512<int> index) =>
        Avx512F.PermuteVar16x32x2(low.As<T, int>(), index, high.As<T, int>()).As<int, T>();

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
            // As in Sum512: whole aligned blocks into the accumulators, rebuilt once at the end (vpermd rotates both
            // neighbours by the shift, the blend takes lanes 8 - shift.. from the next one).
            var index = Vector256<int>.Indices + Vector256.Create(shift) & Vector256.Create(7);
            var fromNext = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(8 - shift)).AsByte();
            var inRun = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(shift)).As<int, T>();
            T* block = (T*)((byte*)p - shift * 4);
            int blocks = (n / (8 * w)) * 8;
            Vector256<T> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
            if (blocks > 0)
            {
                b0 = Vector256.LoadAligned(block) & inRun;
                b1 = Vector256.LoadAligned(block + w); b2 = Vector256.LoadAligned(block + 2 * w); b3 = Vector256.LoadAligned(block + 3 * w);
                b4 = Vector256.LoadAligned(block + 4 * w); b5 = Vector256.LoadAligned(block + 5 * w); b6 = Vector256.LoadAligned(block + 6 * w);
                b7 = Vector256.LoadAligned(block + 7 * w);
                for (int k = 8; k < blocks; k += 8)
                {
                    T* q = block + k * w;
                    b0 += Vector256.LoadAligned(q); b1 += Vector256.LoadAligned(q + w); b2 += Vector256.LoadAligned(q + 2 * w); b3 += Vector256.LoadAligned(q + 3 * w);
                    b4 += Vector256.LoadAligned(q + 4 * w); b5 += Vector256.LoadAligned(q + 5 * w); b6 += Vector256.LoadAligned(q + 6 * w); b7 += Vector256.LoadAligned(q + 7 * w);
                }
                b0 += Vector256.LoadAligned(block + blocks * w) & ~inRun;
                a0 = Rebuild(b0, b1, index, fromNext); a1 = Rebuild(b1, b2, index, fromNext); a2 = Rebuild(b2, b3, index, fromNext); a3 = Rebuild(b3, b4, index, fromNext);
                a4 = Rebuild(b4, b5, index, fromNext); a5 = Rebuild(b5, b6, index, fromNext); a6 = Rebuild(b6, b7, index, fromNext); a7 = Rebuild(b7, b0, index, fromNext);
                i = blocks * w;
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<T> Rebuild<T>(Vector256<T> low, Vector256<T> high, Vector256<int> index, Vector256<byte> fromNext) =>
        Avx2.BlendVariable(Avx2.PermuteVar8x32(low.As<T, int>(), index).AsByte(), Avx2.PermuteVar8x32(high.As<T, int>(), index).AsByte(), fromNext).As<byte, T>();

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
