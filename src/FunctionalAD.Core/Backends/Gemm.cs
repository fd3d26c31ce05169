using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FunctionalAD.Backends;

/// <summary>
/// One operand of a batched matrix product, read in place from a strided view: element (batch, i, j) is
/// Data[Offset + batch·BatchStride + i·RowStride + j·ColStride]. Transposed and broadcast views need no copy.
/// </summary>
internal readonly record struct GemmOperand<T>(T[] Data, int Offset, int BatchStride, int RowStride, int ColStride);

/// <summary>The micro-kernels, widest first.</summary>
internal enum GemmKernelKind { Vector512, Vector256, Vector128 }

/// <summary>
/// Blocked, packed matrix multiplication (the GotoBLAS/BLIS loop nest) for Float32 and Float64:
/// C[b] = A[b]·B[b] with A [m,k], B [k,n] strided and C contiguous [batch, m, n].
/// Loops, from outside in: NC columns of B (packed once per KC-deep slice into NR-wide panels that stay in L2/L3),
/// MC rows of A (packed into MR-tall panels), then MR×NR register tiles computed by an
/// <see cref="IGemmKernel{T}"/>. Threads split C into strips, each with its own packing buffers.
/// </summary>
internal static class Gemm
{
    /// <summary>m·n·k at or below which the product is a plain loop: packing would cost more than it saves.</summary>
    internal const long TinyWork = 4096;

    /// <summary>m·n·k·batch below which the product stays on one thread.</summary>
    const long ParallelWork = 1 << 18;

    /// <summary>Depth of a packed slice. One NR-wide B panel is 16 KB (256-bit kernels) or 32 KB (512-bit) and stays
    /// in Zen 5's 48 KB L1; measured there, a 128-deep slice for the 512-bit kernel was 3x slower at n = 256.</summary>
    const int KC = 256;

    /// <summary>The widest micro-kernel this machine runs in hardware.</summary>
    internal static readonly GemmKernelKind Best =
        Vector512Kernel<float>.IsSupported ? GemmKernelKind.Vector512
        : Vector256Kernel<float>.IsSupported ? GemmKernelKind.Vector256 : GemmKernelKind.Vector128;

    /// <summary>
    /// c (zeroed, length batch·m·n) receives A·B for each batch index, computed by the micro-kernel
    /// <paramref name="kernel"/> (default <see cref="Best"/>; tests pick each one the machine supports). With
    /// <paramref name="overwrite"/>, c's contents are undefined on entry and every element is written: each register
    /// tile's first slice is stored instead of added (a fresh result needs no zeroing pass over memory first).
    /// </summary>
    public static void Multiply<T>(int batch, int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c, GemmKernelKind? kernel = null, bool overwrite = false)
        where T : unmanaged, INumber<T>
    {
        if (batch == 0 || m == 0 || n == 0) return;
        if (overwrite && ((long)m * n * k <= TinyWork || k == 0)) Array.Clear(c, 0, batch * m * n);
        if (k == 0) return;
        if ((long)m * n * k <= TinyWork)
        {
            for (int bi = 0; bi < batch; bi++) Naive(bi, m, n, k, a, b, c);
            return;
        }
        switch (kernel ?? Best)
        {
            case GemmKernelKind.Vector512: Split<T, Vector512Kernel<T>>(batch, m, n, k, a, b, c, overwrite); break;
            case GemmKernelKind.Vector256: Split<T, Vector256Kernel<T>>(batch, m, n, k, a, b, c, overwrite); break;
            default: Split<T, Vector128Kernel<T>>(batch, m, n, k, a, b, c, overwrite); break;
        }
    }

    /// <summary>
    /// Products too small to pack (m·n·k ≤ <see cref="TinyWork"/>), as dot products, column or row updates over
    /// contiguous runs (TensorPrimitives) where the strides allow: the shapes of a linear model ([1000,1]·[1,1] and
    /// its [1,1000]·[1000,1] gradient) took ~2 us each through an element-at-a-time loop.
    /// </summary>
    internal static void Naive<T>(int bi, int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c)
        where T : unmanaged, INumber<T>
    {
        T[] ad = a.Data, bd = b.Data;
        int ab = a.Offset + bi * a.BatchStride, bb = b.Offset + bi * b.BatchStride, cb = bi * m * n;
        int ars = a.RowStride, acs = a.ColStride, brs = b.RowStride, bcs = b.ColStride;
        if (m == 1 && n == 1 && (acs == 1 || k == 1) && (brs == 1 || k == 1))
        {
            c[cb] += SumKernel.Dot<T>(ad.AsSpan(ab, k), bd.AsSpan(bb, k));
            return;
        }
        if (n == 1 && (ars == 1 || m == 1))
        {
            // C's one column += A's column p times B[p, 0], for each p
            var col = c.AsSpan(cb, m);
            for (int p = 0; p < k; p++)
                TensorPrimitives.MultiplyAdd<T>(ad.AsSpan(ab + p * acs, m), bd[bb + p * brs], col, col);
            return;
        }
        for (int i = 0; i < m; i++)
        {
            var row = c.AsSpan(cb + i * n, n);
            for (int p = 0; p < k; p++)
            {
                T s = ad[ab + i * ars + p * acs];
                int start = bb + p * brs;
                if (bcs == 1 || n == 1) TensorPrimitives.MultiplyAdd<T>(bd.AsSpan(start, n), s, row, row);
                else for (int j = 0; j < n; j++) row[j] += s * bd[start + j * bcs];
            }
        }
    }

    /// <summary>Spreads the batch, or strips of each product, over the threads the current scope allows.</summary>
    static void Split<T, TKernel>(int batch, int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c, bool overwrite)
        where T : unmanaged, INumber<T> where TKernel : struct, IGemmKernel<T>
    {
        int threads = Parallelism.MaxThreads;
        if (threads == 1 || (long)m * n * k * batch < ParallelWork)
        {
            for (int bi = 0; bi < batch; bi++) Block<T, TKernel>(bi, 0, m, 0, n, m, n, k, a, b, c, bi * m * n, overwrite);
            return;
        }
        if (batch >= threads) SplitBatch<T, TKernel>(batch, m, n, k, a, b, c, overwrite);
        else SplitStrips<T, TKernel>(threads, batch, m, n, k, a, b, c, overwrite);
    }

    // The two splits are kept apart from Split so their closures are only allocated when the work is split.
    static void SplitBatch<T, TKernel>(int batch, int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c, bool overwrite)
        where T : unmanaged, INumber<T> where TKernel : struct, IGemmKernel<T> =>
        Parallelism.For(batch, 1, (b0, count) =>
        {
            for (int bi = b0; bi < b0 + count; bi++) Block<T, TKernel>(bi, 0, m, 0, n, m, n, k, a, b, c, bi * m * n, overwrite);
        });

    /// <summary>Fewer products than threads: each product cut into strips of whole register tiles, along the longer side.</summary>
    static void SplitStrips<T, TKernel>(int threads, int batch, int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c, bool overwrite)
        where T : unmanaged, INumber<T> where TKernel : struct, IGemmKernel<T>
    {
        int strips = (threads + batch - 1) / batch;
        bool byRows = (m + TKernel.MR - 1) / TKernel.MR >= (n + TKernel.NR - 1) / TKernel.NR;
        int unit = byRows ? TKernel.MR : TKernel.NR, extent = byRows ? m : n;
        int tiles = (extent + unit - 1) / unit;
        strips = Math.Min(strips, tiles);
        Parallelism.For(batch * strips, 1, (t0, count) =>
        {
            for (int t = t0; t < t0 + count; t++)
            {
                int bi = t / strips, s = t % strips;
                int lo = Math.Min(extent, (int)((long)tiles * s / strips) * unit);
                int hi = Math.Min(extent, (int)((long)tiles * (s + 1) / strips) * unit);
                if (byRows) Block<T, TKernel>(bi, lo, hi, 0, n, m, n, k, a, b, c, bi * m * n, overwrite);
                else Block<T, TKernel>(bi, 0, m, lo, hi, m, n, k, a, b, c, bi * m * n, overwrite);
            }
        });
    }

    /// <summary>Rows of A packed per block: one MC×KC block stays in L2.</summary>
    static int BlockRows<T, TKernel>() where T : unmanaged where TKernel : struct, IGemmKernel<T> =>
        Math.Max(1, (256 * 1024 / Unsafe.SizeOf<T>() / KC) / TKernel.MR) * TKernel.MR;

    /// <summary>Columns of B packed per slice (a KC×NC slice stays in L3).</summary>
    static int SliceColumns<T, TKernel>() where T : unmanaged where TKernel : struct, IGemmKernel<T> =>
        (2 * 1024 * 1024 / Unsafe.SizeOf<T>() / KC) / TKernel.NR * TKernel.NR;

    /// <summary>
    /// C += A·B for one product on the calling thread (no split, for kernels that already run one piece per thread):
    /// A and B are batch 0 of their operands, C is [m, n] row-major at <paramref name="cOffset"/> in c.
    /// </summary>
    internal static void MultiplyHere<T>(int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c, int cOffset)
        where T : unmanaged, INumber<T> => MultiplyBlockHere(0, m, 0, n, m, n, k, a, b, c, cOffset);

    /// <summary>
    /// C[i0..i1, j0..j1] += A[i0..i1, :]·B[:, j0..j1] on the calling thread, the rest of C untouched: A and B are
    /// batch 0 of their operands, C is [m, n] row-major at <paramref name="cOffset"/> in c.
    /// </summary>
    internal static void MultiplyBlockHere<T>(int i0, int i1, int j0, int j1, int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c, int cOffset)
        where T : unmanaged, INumber<T>
    {
        if (i1 <= i0 || j1 <= j0 || k <= 0) return;
        switch (Best)
        {
            case GemmKernelKind.Vector512: Block<T, Vector512Kernel<T>>(0, i0, i1, j0, j1, m, n, k, a, b, c, cOffset, false); break;
            case GemmKernelKind.Vector256: Block<T, Vector256Kernel<T>>(0, i0, i1, j0, j1, m, n, k, a, b, c, cOffset, false); break;
            default: Block<T, Vector128Kernel<T>>(0, i0, i1, j0, j1, m, n, k, a, b, c, cOffset, false); break;
        }
    }

    /// <summary>C[i0..i1, j0..j1] += A[bi][i0..i1, :]·B[bi][:, j0..j1] on the calling thread, C [m, n] at cBatch in c
    /// (= with <paramref name="overwrite"/>: each tile's first KC slice is stored, not added).</summary>
    static void Block<T, TKernel>(int bi, int i0, int i1, int j0, int j1, int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c, int cBatch, bool overwrite)
        where T : unmanaged, INumber<T> where TKernel : struct, IGemmKernel<T>
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int mcMax = Math.Min(BlockRows<T, TKernel>(), RoundUp(i1 - i0, mr));
        int ncMax = Math.Min(SliceColumns<T, TKernel>(), RoundUp(j1 - j0, nr));
        int kcMax = Math.Min(KC, k);
        var aPack = ArrayPool<T>.Shared.Rent(mcMax * kcMax);
        var bPack = ArrayPool<T>.Shared.Rent(ncMax * kcMax);
        Span<T> edge = stackalloc T[mr * nr];
        ref T c0 = ref MemoryMarshal.GetArrayDataReference(c);
        for (int jc = j0; jc < j1; jc += ncMax)
        {
            int nc = Math.Min(ncMax, j1 - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                GemmPacking.PackB(b, bi, pc, kc, jc, nc, nr, bPack);
                for (int ic = i0; ic < i1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, i1 - ic);
                    GemmPacking.PackA(a, bi, ic, mc, pc, kc, mr, aPack);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        ref T bPanel = ref bPack[jr * kc];
                        int cols = Math.Min(nr, nc - jr);
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            ref T aPanel = ref aPack[ir * kc];
                            int rows = Math.Min(mr, mc - ir);
                            ref T tile = ref Unsafe.Add(ref c0, cBatch + (ic + ir) * n + jc + jr);
                            bool store = overwrite && pc == 0; // a fresh result's first slice: stored, not added
                            if (rows == mr && cols == nr) TKernel.Run(kc, ref aPanel, ref bPanel, ref tile, n, store);
                            else AddEdge<T, TKernel>(kc, ref aPanel, ref bPanel, ref tile, n, rows, cols, edge, store);
                        }
                    }
                }
            }
        }
        ArrayPool<T>.Shared.Return(aPack);
        ArrayPool<T>.Shared.Return(bPack);
    }

    /// <summary>A tile cut by C's edge: the kernel writes a full MR×NR scratch tile, of which rows×cols is added to C
    /// (stored, with <paramref name="store"/>).</summary>
    static void AddEdge<T, TKernel>(int kc, ref T aPanel, ref T bPanel, ref T tile, int ldc, int rows, int cols, Span<T> edge, bool store)
        where T : unmanaged, INumber<T> where TKernel : struct, IGemmKernel<T>
    {
        TKernel.Run(kc, ref aPanel, ref bPanel, ref MemoryMarshal.GetReference(edge), TKernel.NR, store: true);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                ref T cij = ref Unsafe.Add(ref tile, i * ldc + j);
                cij = store ? edge[i * TKernel.NR + j] : cij + edge[i * TKernel.NR + j];
            }
    }

    static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
