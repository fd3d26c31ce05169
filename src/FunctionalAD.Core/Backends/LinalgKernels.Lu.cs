using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FunctionalAD.Backends;

/// <summary>LU with partial pivoting on the host, recursive (LAPACK's getrf2): halves of the columns down to narrow
/// leaves factored on a column-major copy, the updates between them on the packed GEMM.</summary>
public static partial class LinalgKernels
{
    /// <summary>Columns at or below which <see cref="LuColumns{T}"/> eliminates column by column.</summary>
    const int LuLeaf = 16;

    /// <summary>LU with partial pivoting of the n×n row-major matrix at d[o..], in place (L below the diagonal, U on
    /// and above), pivots at piv[po..]: see <see cref="LuColumns{T}"/>.</summary>
    static void LuInPlace<T>(T[] d, int o, int n, int[] piv, int po) where T : unmanaged, IFloatingPointIeee754<T> =>
        LuColumns(d, o, n, 0, n, piv, po);

    /// <summary>
    /// The unblocked LU (LAPACK's getf2) of columns [c0, c1) of the n×n row-major matrix at d[o..], rows c0 and
    /// below, on a column-major copy so that the pivot search and every elimination run down contiguous columns:
    /// per column, the largest magnitude is the pivot, the rows are swapped (whole rows of d outside the copy), the
    /// column below is scaled by the pivot's reciprocal (a division where that would overflow) and each later column
    /// loses its multiple of it. A zero pivot leaves its column as it is.
    /// </summary>
    static void LuLeafColumns<T>(T[] d, int o, int n, int c0, int c1, int[] piv, int po) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = n - c0, w = c1 - c0;
        var p = System.Buffers.ArrayPool<T>.Shared.Rent(m * w);
        for (int i = 0; i < m; i++)
        {
            int r = o + (c0 + i) * n + c0;
            for (int j = 0; j < w; j++) p[j * m + i] = d[r + j];
        }
        for (int kk = 0; kk < w; kk++)
        {
            var col = p.AsSpan(kk * m, m);
            int q = kk + System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude<T>(col[kk..]);
            if (T.IsNaN(col[q])) q = kk; // NaN columns: no pivoting, NaN spreads as in LAPACK
            piv[po + c0 + kk] = c0 + q;
            if (q != kk)
            {
                for (int j = 0; j < w; j++) (p[j * m + kk], p[j * m + q]) = (p[j * m + q], p[j * m + kk]);
                int rk = o + (c0 + kk) * n, rq = o + (c0 + q) * n;
                SwapRows(d.AsSpan(rk, c0), d.AsSpan(rq, c0));
                SwapRows(d.AsSpan(rk + c1, n - c1), d.AsSpan(rq + c1, n - c1));
            }
            T pivot = col[kk];
            if (pivot == T.Zero) continue;
            EliminateBelow(p, m, w, kk, pivot);
        }
        for (int i = 0; i < m; i++)
        {
            int r = o + (c0 + i) * n + c0;
            for (int j = 0; j < w; j++) d[r + j] = p[j * m + i];
        }
        System.Buffers.ArrayPool<T>.Shared.Return(p);
    }

    /// <summary>One elimination step of <see cref="LuLeafColumns{T}"/> on the column-major m×w block p: rows below kk
    /// of column kk become the multipliers lᵢ (times the pivot's reciprocal, or divided where that overflows) and
    /// every later column j loses lᵢ·p[kk, j], in one pass over the rows, a vector of rows at a time.</summary>
    static void EliminateBelow<T>(T[] p, int m, int w, int kk, T pivot) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported) EliminateBelow<T, Vector512<T>, Lanes512<T>>(p, m, w, kk, pivot);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported) EliminateBelow<T, Vector256<T>, Lanes256<T>>(p, m, w, kk, pivot);
        else EliminateBelow<T, Vector128<T>, Lanes128<T>>(p, m, w, kk, pivot);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void EliminateBelow<T, V, L>(T[] p, int m, int w, int kk, T pivot) where T : unmanaged, IFloatingPointIeee754<T> where L : ILanes<T, V>
    {
        T inv = T.One / pivot;
        bool byReciprocal = T.IsFinite(inv);
        V vinv = L.Splat(inv), vpivot = L.Splat(pivot);
        ref T pr = ref p[0];
        int i = kk + 1, vc = L.Count;
        for (; i + vc <= m; i += vc)
        {
            V l = L.Load(ref pr, (nuint)(kk * m + i));
            l = byReciprocal ? L.Multiply(l, vinv) : L.Divide(l, vpivot);
            L.Store(l, ref pr, (nuint)(kk * m + i));
            for (int j = kk + 1; j < w; j++)
            {
                nuint at = (nuint)(j * m + i);
                L.Store(L.MulSub(l, L.Splat(Unsafe.Add(ref pr, j * m + kk)), L.Load(ref pr, at)), ref pr, at);
            }
        }
        for (; i < m; i++)
        {
            T l = byReciprocal ? p[kk * m + i] * inv : p[kk * m + i] / pivot;
            p[kk * m + i] = l;
            for (int j = kk + 1; j < w; j++) p[j * m + i] -= l * p[j * m + kk];
        }
    }

    /// <summary>
    /// Recursive LU with partial pivoting (Toledo 1997; LAPACK's getrf2) of columns [c0, c1) of the n×n row-major
    /// matrix at d[o..], rows c0 and below, whose earlier columns are factored and applied already: the left half
    /// recursively, its block row of U by a triangular solve with the unit-lower L11, the rest of the right half
    /// loses L21·U12 in one GEMM, then the right half recursively. Nearly all the work lands in the GEMM, in products
    /// as large as the matrix allows (a fixed 64-wide panel factored by row updates spent 450 of 530 us at n = 256).
    /// A pivot swaps whole rows, so the columns outside [c0, c1) follow. Narrow ranges (≤ <see cref="LuLeaf"/>)
    /// eliminate column by column; a zero pivot is left in U and its column skipped, as LAPACK's getrf does.
    /// </summary>
    static void LuColumns<T>(T[] d, int o, int n, int c0, int c1, int[] piv, int po) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = c1 - c0;
        if (w <= LuLeaf)
        {
            LuLeafColumns(d, o, n, c0, c1, piv, po);
            return;
        }
        int h = w / 2 >= LuLeaf ? w / 2 / LuLeaf * LuLeaf : w / 2, cm = c0 + h;
        LuColumns(d, o, n, c0, cm, piv, po);
        // U12 = L11⁻¹·A12 (rows c0..cm, columns cm..c1), then A22 -= L21·U12: independent per column, so threads
        // take column ranges, each on one thread (the GEMM's own split of the products of a 256×256 LU cost more
        // than it gave)
        int cols = c1 - cm, threads = Math.Min(Parallelism.MaxThreads, cols / LuLeaf);
        if (threads > 1 && (long)(n - c0) * h * cols >= ParallelLuWork)
        {
            int shift = LineShift(d, o, n);
            Parallelism.Pieces(threads, t =>
            {
                int q0 = Boundary(cm, cols, t, threads, shift), q1 = Boundary(cm, cols, t + 1, threads, shift);
                if (q1 > q0) // boundaries moved to line starts may meet when ranges are narrower than a line
                    using (Parallelism.Limit(1)) UpdateColumns(d, o, n, c0, cm, q0, q1);
            });
        }
        else if (Parallelism.MaxThreads > 1)
            using (Parallelism.Limit(1)) UpdateColumns(d, o, n, c0, cm, cm, c1);
        else UpdateColumns(d, o, n, c0, cm, cm, c1);
        LuColumns(d, o, n, cm, c1, piv, po);
    }

    /// <summary>The t-th of <paramref name="threads"/> column boundaries of the update of columns [cm, cm + cols),
    /// moved to the nearest column that starts a cache line in every row (see <see cref="LineShift{T}"/>; -1: rows do
    /// not all start at the same place in a line, boundaries as they fall).</summary>
    static int Boundary(int cm, int cols, int t, int threads, int shift)
    {
        int q = cm + cols * t / threads;
        if (t == 0 || t == threads || shift < 0) return q;
        int line = shift >> 8, first = shift & 0xff; // elements per line, and the first column that starts a line
        int aligned = q - ((q - first) % line + line) % line;
        if (q - aligned > line / 2) aligned += line;
        return Math.Clamp(aligned, cm, cm + cols);
    }

    /// <summary>Where the cache lines (64 bytes) fall in the rows of the n×n matrix at d[o..] right now: (elements per
    /// line) · 256 + the first column that starts one, or -1 where a row is not a whole number of lines. Threads that
    /// update neighbouring column ranges in place then never write the same line (at n = 256 the 2-thread LU took 390-420
    /// us or 260-270 us from process to process, as the pooled working copy happened to lie).</summary>
    static unsafe int LineShift<T>(T[] d, int o, int n) where T : unmanaged
    {
        int size = sizeof(T), line = 64 / size;
        if (n * size % 64 != 0) return -1;
        long address = (long)System.Runtime.CompilerServices.Unsafe.AsPointer(ref d[o]); // a heuristic: the array may move later
        int misaligned = (int)(address & 63) / size; // elements past a line start
        return line << 8 | (line - misaligned) % line;
    }

    /// <summary>rows·depth·columns of an LU update at or above which its columns are split over threads (each range on
    /// one thread; below, the whole update on one): at n = 256 on 2 threads the split saved 10-15% when the other core
    /// was free, where the GEMM's own split of these small products was slower than one thread.</summary>
    const long ParallelLuWork = 1 << 18;

    /// <summary>Columns [q0, q1) of <see cref="LuColumns{T}"/>'s update after factoring columns [c0, cm): the block row
    /// of U by a triangular solve with the unit-lower L11, then the rows below lose L21·U12 (one GEMM). The block row
    /// is solved in a contiguous copy: the substitution stores each row many times, and threads updating neighbouring
    /// column ranges in place shared a cache line on every row (at n = 256 the 2-thread updates took as long as one
    /// thread's); each row of the matrix is then written once.</summary>
    static void UpdateColumns<T>(T[] d, int o, int n, int c0, int cm, int q0, int q1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = cm - c0, w = q1 - q0;
        var u = System.Buffers.ArrayPool<T>.Shared.Rent(h * w);
        for (int r = 0; r < h; r++) d.AsSpan(o + (c0 + r) * n + q0, w).CopyTo(u.AsSpan(r * w, w));
        TriangularInPlace(d, o + c0 * n + c0, n, 1, h, u, 0, w, w, upper: false, unit: true);
        for (int r = 0; r < h; r++) u.AsSpan(r * w, w).CopyTo(d.AsSpan(o + (c0 + r) * n + q0, w));
        if (n > cm)
            SubtractProduct(d, o + cm * n + q0, n, n - cm, w, h,
                new GemmOperand<T>(d, o + cm * n + c0, 0, n, 1), new GemmOperand<T>(u, 0, 0, w, 1));
        System.Buffers.ArrayPool<T>.Shared.Return(u);
    }
}
