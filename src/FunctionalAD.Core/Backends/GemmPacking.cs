using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FunctionalAD.Backends;

/// <summary>
/// Copies blocks of strided GEMM operands into the panel layout the micro-kernels read sequentially, padding the
/// last panel with zeros. Reading through the operand's strides is what lets transposed views skip a copy.
/// </summary>
internal static class GemmPacking
{
    /// <summary>
    /// A[bi][i0..i0+mc, p0..p0+kc] into MR-row panels: dst[ir·kc + p·MR + i] = A[i0 + ir + i, p0 + p].
    /// </summary>
    public static void PackA<T>(GemmOperand<T> a, int bi, int i0, int mc, int p0, int kc, int mr, T[] dst) where T : unmanaged
    {
        var src = a.Data;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir), d = ir * kc;
            int start = a.Offset + bi * a.BatchStride + (i0 + ir) * a.RowStride + p0 * a.ColStride;
            if (a.ColStride == 1)
                // row-major A: the panel is the transpose of `rows` contiguous rows
                Transpose(ref src[start], a.RowStride, rows, kc, ref dst[d], mr);
            else if (a.RowStride == 1)
                // column-major A (a transposed view): each panel row is a contiguous run of a source column
                for (int p = 0; p < kc; p++)
                    src.AsSpan(start + p * a.ColStride, rows).CopyTo(dst.AsSpan(d + p * mr, rows));
            else
                for (int p = 0; p < kc; p++)
                {
                    int s = start + p * a.ColStride;
                    for (int i = 0; i < rows; i++) dst[d + p * mr + i] = src[s + i * a.RowStride];
                }
            if (rows < mr)
                for (int p = 0; p < kc; p++) dst.AsSpan(d + p * mr + rows, mr - rows).Clear();
        }
    }

    /// <summary>
    /// B[bi][p0..p0+kc, j0..j0+nc] into NR-column panels: dst[jr·kc + p·NR + j] = B[p0 + p, j0 + jr + j].
    /// </summary>
    public static void PackB<T>(GemmOperand<T> b, int bi, int p0, int kc, int j0, int nc, int nr, T[] dst) where T : unmanaged
    {
        var src = b.Data;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr), d = jr * kc;
            int start = b.Offset + bi * b.BatchStride + p0 * b.RowStride + (j0 + jr) * b.ColStride;
            if (b.ColStride == 1)
                // row-major B: each panel row is a contiguous run of the source row
                for (int p = 0; p < kc; p++)
                    src.AsSpan(start + p * b.RowStride, cols).CopyTo(dst.AsSpan(d + p * nr, cols));
            else if (b.RowStride == 1)
                // column-major B (a transposed view, e.g. x·Wᵀ): the panel is the transpose of `cols` contiguous columns
                Transpose(ref src[start], b.ColStride, cols, kc, ref dst[d], nr);
            else
                for (int j = 0; j < cols; j++)
                {
                    int s = start + j * b.ColStride;
                    for (int p = 0; p < kc; p++) dst[d + p * nr + j] = src[s + p * b.RowStride];
                }
            if (cols < nr)
                for (int p = 0; p < kc; p++) dst.AsSpan(d + p * nr + cols, nr - cols).Clear();
        }
    }

    /// <summary>
    /// dst[p·dstStride + l] = src[l·srcStride + p] for l &lt; lines, p &lt; len: `lines` contiguous runs written as
    /// columns. 8×8 (float) and 4×4 (double) register transposes where AVX is available: the scalar loop's strided
    /// stores made packing a transposed operand cost as much as the multiplication itself at k = 64.
    /// </summary>
    internal static void Transpose<T>(ref T src, int srcStride, int lines, int len, ref T dst, int dstStride) where T : unmanaged
    {
        int l = 0;
        if (typeof(T) == typeof(float) && Avx.IsSupported)
            for (; l + 8 <= lines; l += 8)
                Transpose8(ref Unsafe.As<T, float>(ref Unsafe.Add(ref src, l * srcStride)), srcStride, len,
                           ref Unsafe.As<T, float>(ref Unsafe.Add(ref dst, l)), dstStride);
        else if (typeof(T) == typeof(double) && Avx.IsSupported)
            for (; l + 4 <= lines; l += 4)
                Transpose4(ref Unsafe.As<T, double>(ref Unsafe.Add(ref src, l * srcStride)), srcStride, len,
                           ref Unsafe.As<T, double>(ref Unsafe.Add(ref dst, l)), dstStride);
        for (; l < lines; l++)
        {
            ref T line = ref Unsafe.Add(ref src, l * srcStride);
            for (int p = 0; p < len; p++) Unsafe.Add(ref dst, p * dstStride + l) = Unsafe.Add(ref line, p);
        }
    }

    static void Transpose8(ref float s, int ss, int len, ref float d, int ds)
    {
        int p = 0;
        for (; p + 8 <= len; p += 8)
        {
            var r0 = Vector256.LoadUnsafe(ref s, (nuint)p); var r1 = Vector256.LoadUnsafe(ref s, (nuint)(ss + p));
            var r2 = Vector256.LoadUnsafe(ref s, (nuint)(2 * ss + p)); var r3 = Vector256.LoadUnsafe(ref s, (nuint)(3 * ss + p));
            var r4 = Vector256.LoadUnsafe(ref s, (nuint)(4 * ss + p)); var r5 = Vector256.LoadUnsafe(ref s, (nuint)(5 * ss + p));
            var r6 = Vector256.LoadUnsafe(ref s, (nuint)(6 * ss + p)); var r7 = Vector256.LoadUnsafe(ref s, (nuint)(7 * ss + p));
            var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
            var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
            var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
            Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref d, (nuint)(p * ds));
            Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref d, (nuint)((p + 1) * ds));
            Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref d, (nuint)((p + 2) * ds));
            Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref d, (nuint)((p + 3) * ds));
            Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref d, (nuint)((p + 4) * ds));
            Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref d, (nuint)((p + 5) * ds));
            Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref d, (nuint)((p + 6) * ds));
            Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref d, (nuint)((p + 7) * ds));
        }
        for (; p < len; p++)
            for (int k = 0; k < 8; k++) Unsafe.Add(ref d, p * ds + k) = Unsafe.Add(ref s, k * ss + p);
    }

    static void Transpose4(ref double s, int ss, int len, ref double d, int ds)
    {
        int p = 0;
        for (; p + 4 <= len; p += 4)
        {
            var r0 = Vector256.LoadUnsafe(ref s, (nuint)p); var r1 = Vector256.LoadUnsafe(ref s, (nuint)(ss + p));
            var r2 = Vector256.LoadUnsafe(ref s, (nuint)(2 * ss + p)); var r3 = Vector256.LoadUnsafe(ref s, (nuint)(3 * ss + p));
            var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
            Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref d, (nuint)(p * ds));
            Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref d, (nuint)((p + 1) * ds));
            Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref d, (nuint)((p + 2) * ds));
            Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref d, (nuint)((p + 3) * ds));
        }
        for (; p < len; p++)
            for (int k = 0; k < 4; k++) Unsafe.Add(ref d, p * ds + k) = Unsafe.Add(ref s, k * ss + p);
    }
}
