using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FunctionalAD.Backends;

public static partial class LinalgKernels
{
    /// <summary>Right-hand sides up to this many columns are solved in one pass over A, in registers (no GEMM): a
    /// solve's [n, 16] right-hand side took 135 us at n = 256 through row updates and GEMMs of width 16, 15 us so.</summary>
    const int FewColumns = 64;

    /// <summary>rows²·columns of a substitution at or above which its strips are split over threads.</summary>
    const long ParallelSolveWork = 1 << 22;

    /// <summary>Rows above which a solve with many right-hand sides recurses on halves (<see cref="TriangularInPlace{T}"/>).</summary>
    const int RecursionRows = 4 * Block;

    /// <summary>
    /// Solves A·X = B in place (X overwrites B, [n, k] row-major at x[xo..], row stride ldx) for the triangular n×n A whose element
    /// (i, j) is a[ao + i·rs + j·cs] (a transposed view needs no copy). Few columns (≤ <see cref="FewColumns"/>): one
    /// pass of SolveRows over all rows. Many, on more than <see cref="RecursionRows"/> rows: the first half of the rows
    /// to solve (the top for a lower A, the bottom for an upper one), then the other half loses its contribution in one
    /// GEMM as deep as the half, then the other half, each recursively (a 1024×1024 Float64 solve with 1024
    /// right-hand sides took 37 ms through sixteen 64-deep updates, ~29 GFLOP/s; 26 ms so). Up to
    /// <see cref="RecursionRows"/> rows, by blocks (<see cref="TriangularBlocked{T}"/>).
    /// </summary>
    static void TriangularInPlace<T>(T[] a, int ao, int rs, int cs, int n, T[] x, int xo, int k, int ldx, bool upper, bool unit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (k == 0 || n == 0) return;
        if (k <= FewColumns || n <= RecursionRows) { TriangularBlocked(a, ao, rs, cs, n, x, xo, k, ldx, upper, unit); return; }
        int h = (n / 2 + Block - 1) / Block * Block; // the first h rows and columns of A: whole blocks
        if (!upper)
        {
            // [A11 0; A21 A22]: X1 = A11⁻¹B1, then B2 - A21·X1 against A22
            TriangularInPlace(a, ao, rs, cs, h, x, xo, k, ldx, upper, unit);
            SubtractProduct(x, xo + h * ldx, ldx, n - h, k, h, new GemmOperand<T>(a, ao + h * rs, 0, rs, cs), new GemmOperand<T>(x, xo, 0, ldx, 1));
            TriangularInPlace(a, ao + h * rs + h * cs, rs, cs, n - h, x, xo + h * ldx, k, ldx, upper, unit);
        }
        else
        {
            // [A11 A12; 0 A22]: X2 = A22⁻¹B2, then B1 - A12·X2 against A11
            TriangularInPlace(a, ao + h * rs + h * cs, rs, cs, n - h, x, xo + h * ldx, k, ldx, upper, unit);
            SubtractProduct(x, xo, ldx, h, k, n - h, new GemmOperand<T>(a, ao + h * cs, 0, rs, cs), new GemmOperand<T>(x, xo + h * ldx, 0, ldx, 1));
            TriangularInPlace(a, ao, rs, cs, h, x, xo, k, ldx, upper, unit);
        }
    }

    /// <summary>The solve of <see cref="TriangularInPlace{T}"/> by blocks of <see cref="Block"/> rows (one block for
    /// few columns): a diagonal block with SolveRows, then the rows still to solve lose that block's contribution in
    /// one GEMM.</summary>
    static void TriangularBlocked<T>(T[] a, int ao, int rs, int cs, int n, T[] x, int xo, int k, int ldx, bool upper, bool unit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int block = k <= FewColumns ? n : Block;
        if (!upper)
            for (int i0 = 0; i0 < n; i0 += block)
            {
                int iEnd = Math.Min(i0 + block, n);
                SolveRows(a, ao, rs, cs, i0, iEnd, x, xo, k, ldx, upper, unit);
                if (iEnd < n)
                    SubtractProduct(x, xo + iEnd * ldx, ldx, n - iEnd, k, iEnd - i0,
                        new GemmOperand<T>(a, ao + iEnd * rs + i0 * cs, 0, rs, cs), new GemmOperand<T>(x, xo + i0 * ldx, 0, ldx, 1));
            }
        else
            for (int iEnd = n; iEnd > 0; iEnd -= block)
            {
                int i0 = Math.Max(0, iEnd - block);
                SolveRows(a, ao, rs, cs, i0, iEnd, x, xo, k, ldx, upper, unit);
                if (i0 > 0)
                    SubtractProduct(x, xo, ldx, i0, k, iEnd - i0,
                        new GemmOperand<T>(a, ao + i0 * cs, 0, rs, cs), new GemmOperand<T>(x, xo + i0 * ldx, 0, ldx, 1));
            }
    }

    /// <summary>Solves rows [r0, r1) of X against the diagonal block A[r0..r1, r0..r1] (contributions of rows outside
    /// it already subtracted), in strips of two vectors' width held in registers; a last narrow strip is padded
    /// through a scratch copy.</summary>
    static void SolveRows<T>(T[] a, int ao, int rs, int cs, int r0, int r1, T[] x, int xo, int k, int ldx, bool upper, bool unit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported) SolveStrips<T, Vector512<T>, Lanes512<T>>(a, ao, rs, cs, r0, r1, x, xo, k, ldx, upper, unit);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported) SolveStrips<T, Vector256<T>, Lanes256<T>>(a, ao, rs, cs, r0, r1, x, xo, k, ldx, upper, unit);
        else SolveStrips<T, Vector128<T>, Lanes128<T>>(a, ao, rs, cs, r0, r1, x, xo, k, ldx, upper, unit);
    }

    static void SolveStrips<T, V, L>(T[] a, int ao, int rs, int cs, int r0, int r1, T[] x, int xo, int k, int ldx, bool upper, bool unit)
        where T : unmanaged, IFloatingPointIeee754<T> where L : ILanes<T, V>
    {
        int w = 2 * L.Count, strips = (k + w - 1) / w, rows = r1 - r0;
        // strips are independent: split them over threads when each thread gets enough work
        int threads = Math.Min(strips, Parallelism.MaxThreads);
        if (threads > 1 && (long)rows * rows * k >= ParallelSolveWork)
        {
            var (ta, tx) = (a, x);
            Parallelism.Pieces(threads, t =>
            {
                for (int s = strips * t / threads; s < strips * (t + 1) / threads; s++) Strip(ta, ao, rs, cs, r0, r1, tx, xo, k, ldx, upper, unit, s * w);
            });
        }
        else
            for (int s = 0; s < strips; s++) Strip(a, ao, rs, cs, r0, r1, x, xo, k, ldx, upper, unit, s * w);

        // columns c.. up to two vectors: a strip of two, else one of one vector and whatever is left padded to one
        static void Strip(T[] a, int ao, int rs, int cs, int r0, int r1, T[] x, int xo, int k, int ldx, bool upper, bool unit, int c)
        {
            int v = L.Count;
            if (c + 2 * v <= k)
            {
                StripByColumns<T, V, L, TwoVectors>(a, ao, rs, cs, r0, r1, x, xo + c, ldx, upper, unit);
                return;
            }
            if (c + v <= k)
            {
                StripByColumns<T, V, L, OneVector>(a, ao, rs, cs, r0, r1, x, xo + c, ldx, upper, unit);
                c += v;
                if (c == k) return;
            }
            int cw = k - c, rows = r1 - r0;
            var pad = System.Buffers.ArrayPool<T>.Shared.Rent(rows * v);
            pad.AsSpan(0, rows * v).Clear();
            for (int i = 0; i < rows; i++) x.AsSpan(xo + (r0 + i) * ldx + c, cw).CopyTo(pad.AsSpan(i * v, cw));
            // the scratch holds rows r0.. at 0..: shift the row offset so that row r maps to pad[(r - r0)·v]
            StripByColumns<T, V, L, OneVector>(a, ao, rs, cs, r0, r1, pad, -r0 * v, v, upper, unit);
            for (int i = 0; i < rows; i++) pad.AsSpan(i * v, cw).CopyTo(x.AsSpan(xo + (r0 + i) * ldx + c, cw));
            System.Buffers.ArrayPool<T>.Shared.Return(pad);
        }
    }

    /// <summary>How many vectors wide a substitution strip is (the JIT specializes each kernel per width, so the
    /// second vector's code vanishes from the one-vector kernel).</summary>
    internal interface IStripWidth { static abstract bool Wide { get; } }
    readonly struct OneVector : IStripWidth { public static bool Wide => false; }
    readonly struct TwoVectors : IStripWidth { public static bool Wide => true; }

    /// <summary>Substitution by column updates, four rows at a time: the four rows l of a block are solved among
    /// themselves (each divided by A[l, l] and taken from the later rows of the block), then every row i still to
    /// solve loses Σ A[i, l]·X[l] over the block in one load and store of its strip (four multiply-adds per load and
    /// store; dot products along A's rows, one load per multiply-add, took 58 against 45 us for an LU solve at n = 256,
    /// k = 16, and 83 against 62 on the 256-bit path). A's four entries per row are adjacent when A is row-major, and
    /// its columns are read contiguously when it is a transposed view.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void StripByColumns<T, V, L, W>(T[] a, int ao, int rs, int cs, int r0, int r1, T[] x, int xo, int ld, bool upper, bool unit)
        where T : unmanaged, IFloatingPointIeee754<T> where L : ILanes<T, V> where W : IStripWidth
    {
        ref T ar = ref a[0];
        ref T xr = ref x[0];
        nuint vw = (nuint)L.Count;
        int rows = r1 - r0, dir = upper ? -1 : 1;
        for (int s = 0; s < rows; s += 4)
        {
            int bs = Math.Min(4, rows - s), first = upper ? r1 - 1 - s : r0 + s;
            // the block's rows first, l = first + u·dir in order
            for (int u = 0; u < bs; u++)
            {
                int l = first + u * dir;
                ref T xl = ref Unsafe.Add(ref xr, xo + l * ld);
                V p0 = L.Load(ref xl, 0), p1 = W.Wide ? L.Load(ref xl, vw) : L.Zero;
                if (!unit)
                {
                    V d = L.Splat(Unsafe.Add(ref ar, ao + l * (rs + cs)));
                    p0 = L.Divide(p0, d); L.Store(p0, ref xl, 0);
                    if (W.Wide) { p1 = L.Divide(p1, d); L.Store(p1, ref xl, vw); }
                }
                for (int u2 = u + 1; u2 < bs; u2++)
                {
                    int i = first + u2 * dir;
                    ref T xi = ref Unsafe.Add(ref xr, xo + i * ld);
                    V f = L.Splat(Unsafe.Add(ref ar, ao + i * rs + l * cs));
                    L.Store(L.MulSub(f, p0, L.Load(ref xi, 0)), ref xi, 0);
                    if (W.Wide) L.Store(L.MulSub(f, p1, L.Load(ref xi, vw)), ref xi, vw);
                }
            }
            int lo = upper ? r0 : first + bs, hi = upper ? first - bs + 1 : r1;
            if (bs < 4)
            {
                for (int u = 0; u < bs; u++)
                {
                    int l = first + u * dir;
                    ref T xl = ref Unsafe.Add(ref xr, xo + l * ld);
                    V p0 = L.Load(ref xl, 0), p1 = W.Wide ? L.Load(ref xl, vw) : L.Zero;
                    for (int i = lo; i < hi; i++)
                    {
                        ref T xi = ref Unsafe.Add(ref xr, xo + i * ld);
                        V f = L.Splat(Unsafe.Add(ref ar, ao + i * rs + l * cs));
                        L.Store(L.MulSub(f, p0, L.Load(ref xi, 0)), ref xi, 0);
                        if (W.Wide) L.Store(L.MulSub(f, p1, L.Load(ref xi, vw)), ref xi, vw);
                    }
                }
                continue;
            }
            ref T y0 = ref Unsafe.Add(ref xr, xo + first * ld);
            ref T y1 = ref Unsafe.Add(ref y0, dir * ld);
            ref T y2 = ref Unsafe.Add(ref y1, dir * ld);
            ref T y3 = ref Unsafe.Add(ref y2, dir * ld);
            V a0 = L.Load(ref y0, 0), b0 = L.Load(ref y1, 0), c0 = L.Load(ref y2, 0), d0 = L.Load(ref y3, 0);
            V a1 = W.Wide ? L.Load(ref y0, vw) : L.Zero, b1 = W.Wide ? L.Load(ref y1, vw) : L.Zero;
            V c1 = W.Wide ? L.Load(ref y2, vw) : L.Zero, d1 = W.Wide ? L.Load(ref y3, vw) : L.Zero;
            // A's column l for row i at ao + i·rs + l·cs: the four columns of the block side by side
            ref T col0 = ref Unsafe.Add(ref ar, ao + first * cs);
            ref T col1 = ref Unsafe.Add(ref col0, dir * cs);
            ref T col2 = ref Unsafe.Add(ref col1, dir * cs);
            ref T col3 = ref Unsafe.Add(ref col2, dir * cs);
            for (int i = lo; i < hi; i++)
            {
                ref T xi = ref Unsafe.Add(ref xr, xo + i * ld);
                int at = i * rs;
                V f0 = L.Splat(Unsafe.Add(ref col0, at)), f1 = L.Splat(Unsafe.Add(ref col1, at));
                V f2 = L.Splat(Unsafe.Add(ref col2, at)), f3 = L.Splat(Unsafe.Add(ref col3, at));
                L.Store(L.MulSub(f3, d0, L.MulSub(f2, c0, L.MulSub(f1, b0, L.MulSub(f0, a0, L.Load(ref xi, 0))))), ref xi, 0);
                if (W.Wide) L.Store(L.MulSub(f3, d1, L.MulSub(f2, c1, L.MulSub(f1, b1, L.MulSub(f0, a1, L.Load(ref xi, vw))))), ref xi, vw);
            }
        }
    }

    /// <summary>The few vector operations the substitution kernels need, for one vector width (the JIT specializes
    /// each kernel per width, as the GEMM's micro-kernels).</summary>
    internal interface ILanes<T, V> where T : unmanaged
    {
        static abstract int Count { get; }
        static abstract V Zero { get; }
        static abstract V Load(ref T p, nuint i);
        static abstract void Store(V v, ref T p, nuint i);
        static abstract V Splat(T s);
        /// <summary>c - a·b (fused where the hardware has it).</summary>
        static abstract V MulSub(V a, V b, V c);
        static abstract V Add(V a, V b);
        static abstract V Divide(V a, V b);
        static abstract V Multiply(V a, V b);
    }

    readonly struct Lanes512<T> : ILanes<T, Vector512<T>> where T : unmanaged
    {
        public static int Count => Vector512<T>.Count;
        public static Vector512<T> Zero => Vector512<T>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Load(ref T p, nuint i) => Vector512.LoadUnsafe(ref p, i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<T> v, ref T p, nuint i) => v.StoreUnsafe(ref p, i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Splat(T s) => Vector512.Create(s);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> MulSub(Vector512<T> a, Vector512<T> b, Vector512<T> c)
        {
            if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(-a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
            if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(-a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
            return c - a * b;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Divide(Vector512<T> a, Vector512<T> b) => a / b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Multiply(Vector512<T> a, Vector512<T> b) => a * b;
    }

    readonly struct Lanes256<T> : ILanes<T, Vector256<T>> where T : unmanaged
    {
        public static int Count => Vector256<T>.Count;
        public static Vector256<T> Zero => Vector256<T>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Load(ref T p, nuint i) => Vector256.LoadUnsafe(ref p, i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<T> v, ref T p, nuint i) => v.StoreUnsafe(ref p, i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Splat(T s) => Vector256.Create(s);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<T> MulSub(Vector256<T> a, Vector256<T> b, Vector256<T> c)
        {
            if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(-a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
            if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(-a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
            return c - a * b;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Divide(Vector256<T> a, Vector256<T> b) => a / b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Multiply(Vector256<T> a, Vector256<T> b) => a * b;
    }

    readonly struct Lanes128<T> : ILanes<T, Vector128<T>> where T : unmanaged
    {
        public static int Count => Vector128<T>.Count;
        public static Vector128<T> Zero => Vector128<T>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Load(ref T p, nuint i) => Vector128.LoadUnsafe(ref p, i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<T> v, ref T p, nuint i) => v.StoreUnsafe(ref p, i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Splat(T s) => Vector128.Create(s);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> MulSub(Vector128<T> a, Vector128<T> b, Vector128<T> c) => c - a * b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Add(Vector128<T> a, Vector128<T> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Divide(Vector128<T> a, Vector128<T> b) => a / b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Multiply(Vector128<T> a, Vector128<T> b) => a * b;
    }
}
