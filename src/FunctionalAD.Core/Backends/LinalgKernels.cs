using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FunctionalAD.Backends;

/// <summary>
/// The default factorization and triangular-solve kernels of <see cref="IBackend"/> (LU with partial pivoting,
/// Cholesky, triangular solves). They run on the host: on the CPU backend they read the storage in place and keep
/// their result arrays (no copies); elsewhere the matrices are read out with <see cref="IBackend.ToArray{T}"/> and the
/// results created with <see cref="IBackend.FromArray{T}"/>, two transfers (a GPU backend inherits them until it
/// overrides them). The O(n³) work runs on the packed GEMM, so large factorizations go at the GEMM's speed: LU is
/// recursive, Cholesky blocked by panels of <see cref="Block"/> columns, triangular solves blocked by rows when they
/// have many right-hand sides.
/// </summary>
public static partial class LinalgKernels
{
    /// <summary>Width of a Cholesky panel and of a triangular solve's row block; the update after each is one GEMM.</summary>
    public const int Block = 64;

    /// <summary>LU with partial pivoting of [B, n, n] matrices (see <see cref="IBackend.LuFactor"/>).</summary>
    /// <exception cref="DTypeMismatchException">the matrices are not floating point.</exception>
    public static LuFactors LuFactor(IBackend backend, RawTensor a) => DTypeDispatch.Floating<LuKernel, LuFactors>(a.DType, new(backend, a));

    /// <summary>A⁻¹·B from LU factors (see <see cref="IBackend.LuSolve"/>).</summary>
    /// <exception cref="DTypeMismatchException">the operands are not floating point.</exception>
    public static RawTensor LuSolve(IBackend backend, RawTensor lu, RawTensor pivots, RawTensor b) =>
        DTypeDispatch.Floating<LuSolveKernel, RawTensor>(lu.DType, new(backend, lu, pivots, b, false));

    /// <summary>A⁻ᵀ·G from LU factors (see <see cref="IBackend.LuSolveAdjoint"/>).</summary>
    /// <exception cref="DTypeMismatchException">the operands are not floating point.</exception>
    public static RawTensor LuSolveAdjoint(IBackend backend, RawTensor lu, RawTensor pivots, RawTensor g) =>
        DTypeDispatch.Floating<LuSolveKernel, RawTensor>(lu.DType, new(backend, lu, pivots, g, true));

    /// <summary>A⁻¹·B for triangular A (see <see cref="IBackend.TriangularSolve"/>).</summary>
    /// <exception cref="DTypeMismatchException">the operands are not floating point.</exception>
    public static RawTensor TriangularSolve(IBackend backend, RawTensor a, RawTensor b, bool upper, bool unitDiagonal) =>
        DTypeDispatch.Floating<TriangularKernel, RawTensor>(a.DType, new(backend, a, b, upper, unitDiagonal));

    /// <summary>Cholesky factors of [B, n, n] matrices (see <see cref="IBackend.Cholesky"/>).</summary>
    /// <exception cref="DTypeMismatchException">the matrices are not floating point.</exception>
    public static CholeskyFactors Cholesky(IBackend backend, RawTensor a) => DTypeDispatch.Floating<CholeskyKernel, CholeskyFactors>(a.DType, new(backend, a));

    /// <summary>From LU factors, per matrix: the sign of the determinant (+1, -1, or 0 for a zero pivot), log|det|
    /// (-inf for a zero pivot) and det itself (the signed product of U's diagonal), as three [B] tensors of the
    /// factors' dtype on the backend. Summing logarithms keeps log|det| finite where det under- or overflows.</summary>
    internal static (RawTensor Sign, RawTensor LogAbs, RawTensor Det) Determinants(IBackend backend, LuFactors f) =>
        DTypeDispatch.Floating<DetKernel, (RawTensor, RawTensor, RawTensor)>(f.Lu.DType, new(backend, f));

    /// <summary>The first matrix with a zero pivot and that pivot's index, or null when every U is nonsingular.</summary>
    internal static (int Batch, int Pivot)? FirstZeroPivot(IBackend backend, RawTensor lu) =>
        DTypeDispatch.Floating<ZeroPivotKernel, (int, int)?>(lu.DType, new(backend, lu));

    /// <summary>The permutation matrices P [B, n, n] (of <paramref name="dtype"/>) with P·A = L·U, from LAPACK-style
    /// pivots [B, n]: row i of P·A is row perm[i] of A, where perm applies the swaps in order.</summary>
    internal static RawTensor PermutationMatrix(IBackend backend, RawTensor pivots, DType dtype)
    {
        int batch = pivots.Shape[0], n = pivots.Shape[1];
        var piv = backend.ToArray<int>(pivots);
        var p = new double[batch * n * n];
        var perm = new int[n];
        for (int bi = 0; bi < batch; bi++)
        {
            for (int i = 0; i < n; i++) perm[i] = i;
            for (int k = 0; k < n; k++) (perm[k], perm[piv[bi * n + k]]) = (perm[piv[bi * n + k]], perm[k]);
            for (int i = 0; i < n; i++) p[bi * n * n + i * n + perm[i]] = 1;
        }
        return backend.Cast(backend.FromArray(p, [batch, n, n]), dtype);
    }

    static Exception NotFloating(string op, DType dtype) => new DTypeMismatchException(op, $"expected Float32 or Float64 matrices, got {dtype}");

    readonly struct LuKernel(IBackend backend, RawTensor a) : IFloatingKernel<LuFactors>
    {
        public LuFactors Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = a.Shape[0], n = a.Shape[1];
            var d = backend.ToArray<T>(a);
            var piv = new int[batch * n];
            using var burst = (long)n * n * n >= ParallelLuWork ? Parallelism.Burst() : null;
            for (int bi = 0; bi < batch; bi++) LuInPlace(d, bi * n * n, n, piv, bi * n);
            return new(Adopt(backend, d, [batch, n, n]), Adopt(backend, piv, [batch, n]));
        }
        public LuFactors NotFloating() => throw LinalgKernels.NotFloating("lu", a.DType);
    }

    /// <summary>
    /// X = A⁻¹·B (or, <paramref name="adjoint"/>, A⁻ᵀ·B) from PA = LU, each column of B on its own: the row swaps, then
    /// L·Y = P·B and U·X = Y (adjoint: Uᵀ·Y = B and Lᵀ·W = Y on the transposed view of the factors, then X = Pᵀ·W,
    /// the swaps in reverse order). The columns are independent, so the threads take column ranges of whole vectors,
    /// each doing all three steps on its range (one split per solve).
    /// </summary>
    readonly struct LuSolveKernel(IBackend backend, RawTensor lu, RawTensor pivots, RawTensor b, bool adjoint) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = lu.Shape[0], n = lu.Shape[1], k = b.Shape[2];
            // ranges of whole vectors per matrix, and (matrix, range) tasks spread evenly over the threads
            int vectors = (k + Lanes<T>() - 1) / Lanes<T>(), threads = Parallelism.MaxThreads;
            int ranges = batch == 0 || batch >= threads ? 1 : Math.Min(vectors, (threads + batch - 1) / batch), tasks = batch * ranges;
            bool split = threads > 1 && tasks > 1 && (long)batch * n * n * k >= ParallelLuSolveWork;
            using var burst = split ? Parallelism.Burst() : null; // the workers wake while this thread reads the operands
            var f = HostMatrices<T>(backend, lu);
            var piv = backend.ToArray<int>(pivots);
            var x = backend.ToArray<T>(b);
            bool adj = adjoint, readTransposed = adjoint;
            // the adjoint reads the factors transposed; many right-hand sides take the blocked path, which reads a
            // row-major matrix about twice as fast (see TriangularKernel): then a transposed copy is cheaper
            if (adj && k > FewColumns) (f, readTransposed) = (Transposed(f, batch, n), false);
            if (split)
            {
                int pieces = Math.Min(threads, tasks);
                Parallelism.Pieces(pieces, t =>
                {
                    using (Parallelism.Limit(1))
                        for (int task = tasks * t / pieces; task < tasks * (t + 1) / pieces; task++)
                        {
                            int bi = task / ranges, r = task % ranges;
                            int c0 = Math.Min(k, vectors * r / ranges * Lanes<T>()), c1 = Math.Min(k, vectors * (r + 1) / ranges * Lanes<T>());
                            SolveColumns(f, piv, x, bi, n, k, c0, c1, adj, readTransposed);
                        }
                });
            }
            else
                for (int bi = 0; bi < batch; bi++) SolveColumns(f, piv, x, bi, n, k, 0, k, adj, readTransposed);
            return Adopt(backend, x, [batch, n, k]);
        }
        public RawTensor NotFloating() => throw LinalgKernels.NotFloating(adjoint ? "luSolveAdjoint" : "luSolve", lu.DType);
    }

    /// <summary>b·n²·k of an LU solve at or above which its columns are split over threads.</summary>
    const long ParallelLuSolveWork = 1 << 18;

    /// <summary>Elements of T in the widest vector the substitution kernels use on this machine.</summary>
    static int Lanes<T>() where T : unmanaged =>
        Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported ? Vector512<T>.Count
        : Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported ? Vector256<T>.Count : Vector128<T>.Count;

    /// <summary>The [B, n, n] matrices of f transposed, row-major and contiguous.</summary>
    static (T[] Data, int Offset, int BatchStride, int RowStride, int ColStride) Transposed<T>((T[] Data, int Offset, int BatchStride, int RowStride, int ColStride) f, int batch, int n)
    {
        var t = new T[batch * n * n];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) t[bi * n * n + j * n + i] = f.Data[f.Offset + bi * f.BatchStride + i * f.RowStride + j * f.ColStride];
        return (t, 0, n * n, n, 1);
    }

    /// <summary>Columns [c0, c1) of matrix bi of <see cref="LuSolveKernel"/>'s right-hand side x ([B, n, k]), solved
    /// in place; for the adjoint, f holds the factors themselves (<paramref name="readTransposed"/>, read with their
    /// strides exchanged) or a transposed copy of them. A range narrower than the rows is solved in a contiguous copy
    /// of its own: threads solving neighbouring ranges in place wrote into the same cache lines on every row (the
    /// 2-thread solve at n = 256, k = 16 took 130 us more than one thread).</summary>
    static void SolveColumns<T>((T[] Data, int Offset, int BatchStride, int RowStride, int ColStride) f, int[] piv, T[] x, int bi, int n, int k, int c0, int c1, bool adjoint, bool readTransposed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (c1 <= c0) return;
        int xo = bi * n * k, fo = f.Offset + bi * f.BatchStride, w = c1 - c0;
        if (w == k)
        {
            SolveBlock(f, fo, piv, bi * n, x, xo, k, n, w, adjoint, readTransposed);
            return;
        }
        var own = System.Buffers.ArrayPool<T>.Shared.Rent(n * w);
        for (int r = 0; r < n; r++) x.AsSpan(xo + r * k + c0, w).CopyTo(own.AsSpan(r * w, w));
        SolveBlock(f, fo, piv, bi * n, own, 0, w, n, w, adjoint, readTransposed);
        for (int r = 0; r < n; r++) own.AsSpan(r * w, w).CopyTo(x.AsSpan(xo + r * k + c0, w));
        System.Buffers.ArrayPool<T>.Shared.Return(own);
    }

    /// <summary>The n×w block at x[xo..] (row stride ldx) solved in place against the factors at f.Data[fo..] with
    /// pivots piv[po..]: see <see cref="SolveColumns{T}"/>.</summary>
    static void SolveBlock<T>((T[] Data, int Offset, int BatchStride, int RowStride, int ColStride) f, int fo, int[] piv, int po, T[] x, int xo, int ldx, int n, int w, bool adjoint, bool readTransposed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!adjoint)
        {
            for (int r = 0; r < n; r++)
            {
                int p = piv[po + r];
                if (p != r) SwapRows(x.AsSpan(xo + r * ldx, w), x.AsSpan(xo + p * ldx, w));
            }
            TriangularInPlace(f.Data, fo, f.RowStride, f.ColStride, n, x, xo, w, ldx, upper: false, unit: true);
            TriangularInPlace(f.Data, fo, f.RowStride, f.ColStride, n, x, xo, w, ldx, upper: true, unit: false);
            return;
        }
        // Aᵀ = Uᵀ·Lᵀ·P: Uᵀ is the lower triangle of the transposed factors, Lᵀ (unit) their upper one
        int rs = readTransposed ? f.ColStride : f.RowStride, cs = readTransposed ? f.RowStride : f.ColStride;
        TriangularInPlace(f.Data, fo, rs, cs, n, x, xo, w, ldx, upper: false, unit: false);
        TriangularInPlace(f.Data, fo, rs, cs, n, x, xo, w, ldx, upper: true, unit: true);
        for (int r = n - 1; r >= 0; r--)
        {
            int p = piv[po + r];
            if (p != r) SwapRows(x.AsSpan(xo + r * ldx, w), x.AsSpan(xo + p * ldx, w));
        }
    }

    readonly struct TriangularKernel(IBackend backend, RawTensor a, RawTensor b, bool upper, bool unit) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = a.Shape[0], n = a.Shape[1], k = b.Shape[2];
            var m = HostMatrices<T>(backend, a);
            // Many right-hand sides take the blocked path (diagonal blocks, then GEMM updates), which reads a row-major
            // A about twice as fast as a transposed view (n = k = 1024, f64, 1 thread: 33 against 61 ms, which made
            // cholesky's backward 93 -> 156 ms); the copy costs O(n²) against the solve's O(n²k).
            bool copied = k > FewColumns && m.ColStride != 1;
            if (copied) m = (backend.ToArray<T>(a), 0, n * n, n, 1);
            var x = backend.ToArray<T>(b);
            for (int bi = 0; bi < batch; bi++)
                TriangularInPlace(m.Data, m.Offset + bi * m.BatchStride, m.RowStride, m.ColStride, n, x, bi * n * k, k, k, upper, unit);
            if (copied && backend is CpuBackend) ResultPool.Return(m.Data); // the row-major copy never escapes
            return Adopt(backend, x, [batch, n, k]);
        }
        public RawTensor NotFloating() => throw LinalgKernels.NotFloating("solveTriangular", a.DType);
    }

    /// <summary>Exchanges the contents of two equally long rows, a vector copy at a time.</summary>
    static void SwapRows<T>(Span<T> x, Span<T> y) where T : unmanaged
    {
        Span<T> t = stackalloc T[64];
        for (int i = 0; i < x.Length; i += t.Length)
        {
            int c = Math.Min(t.Length, x.Length - i);
            x.Slice(i, c).CopyTo(t); y.Slice(i, c).CopyTo(x.Slice(i, c)); t[..c].CopyTo(y.Slice(i, c));
        }
    }

    /// <summary>The [B, r, c] matrices of <paramref name="a"/> as host memory: on the CPU backend its storage itself
    /// with its strides (a transposed or broadcast view costs no copy), elsewhere a contiguous download.</summary>
    static (T[] Data, int Offset, int BatchStride, int RowStride, int ColStride) HostMatrices<T>(IBackend backend, RawTensor a)
    {
        if (backend is CpuBackend && a.Storage is CpuStorage<T> s) return (s.Data, a.Offset, a.Strides[0], a.Strides[1], a.Strides[2]);
        return (backend.ToArray<T>(a), 0, a.Shape[1] * a.Shape[2], a.Shape[2], 1);
    }

    /// <summary>A tensor of <paramref name="shape"/> over <paramref name="data"/>, which the caller gives up: the
    /// CPU backend keeps the array itself (no copy), others upload it.</summary>
    static RawTensor Adopt<T>(IBackend backend, T[] data, int[] shape) where T : unmanaged =>
        backend is CpuBackend ? new RawTensor(new CpuStorage<T>(data), shape) : backend.FromArray(data, shape);

    readonly struct CholeskyKernel(IBackend backend, RawTensor a) : IFloatingKernel<CholeskyFactors>
    {
        public CholeskyFactors Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = a.Shape[0], n = a.Shape[1];
            var d = backend.ToArray<T>(a);
            var failed = new int[batch];
            for (int bi = 0; bi < batch; bi++) failed[bi] = CholeskyInPlace(d, bi * n * n, n);
            return new(Adopt(backend, d, [batch, n, n]), failed);
        }
        public CholeskyFactors NotFloating() => throw LinalgKernels.NotFloating("cholesky", a.DType);
    }

    readonly struct DetKernel(IBackend backend, LuFactors f) : IFloatingKernel<(RawTensor, RawTensor, RawTensor)>
    {
        public (RawTensor, RawTensor, RawTensor) Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = f.Lu.Shape[0], n = f.Lu.Shape[1];
            var (d, o0, bs, rs, cs) = HostMatrices<T>(backend, f.Lu);
            var piv = backend.ToArray<int>(f.Pivots);
            var sign = new T[batch]; var logAbs = new T[batch]; var det = new T[batch];
            for (int bi = 0; bi < batch; bi++)
            {
                T s = T.One, l = T.Zero, p = T.One;
                for (int i = 0; i < n; i++)
                {
                    T u = d[o0 + bi * bs + i * (rs + cs)];
                    if (piv[bi * n + i] != i) s = -s;
                    if (u < T.Zero) s = -s;
                    l += T.Log(T.Abs(u));
                    p *= u;
                }
                if (T.IsNegativeInfinity(l)) s = T.Zero;
                sign[bi] = s; logAbs[bi] = l;
                det[bi] = (n - CountFixed(piv, bi * n, n)) % 2 == 0 ? p : -p;
            }
            return (backend.FromArray(sign, [batch]), backend.FromArray(logAbs, [batch]), backend.FromArray(det, [batch]));
        }

        static int CountFixed(int[] piv, int o, int n)
        {
            int c = 0;
            for (int i = 0; i < n; i++) if (piv[o + i] == i) c++;
            return c;
        }
        public (RawTensor, RawTensor, RawTensor) NotFloating() => throw LinalgKernels.NotFloating("slogdet", f.Lu.DType);
    }

    readonly struct ZeroPivotKernel(IBackend backend, RawTensor lu) : IFloatingKernel<(int, int)?>
    {
        public (int, int)? Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = lu.Shape[0], n = lu.Shape[1];
            var (d, o0, bs, rs, cs) = HostMatrices<T>(backend, lu);
            for (int bi = 0; bi < batch; bi++)
                for (int i = 0; i < n; i++)
                    if (d[o0 + bi * bs + i * (rs + cs)] == T.Zero) return (bi, i);
            return null;
        }
        public (int, int)? NotFloating() => throw LinalgKernels.NotFloating("solve", lu.DType);
    }

    /// <summary>
    /// Right-looking blocked Cholesky of the n×n row-major matrix at d[o..] (lower triangle read, L written there,
    /// upper triangle zeroed). Per panel of <see cref="Block"/> columns: the diagonal block L11 with dot products,
    /// L21 = A21·L11⁻ᵀ as one GEMM against the small triangular inverse, then the trailing lower triangle loses
    /// L21·L21ᵀ, one GEMM per block column (the upper triangle is never computed). Returns 0, or the order of the
    /// first leading minor that is not positive.
    /// </summary>
    static int CholeskyInPlace<T>(T[] d, int o, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inv = new T[Block * Block];
        for (int k0 = 0; k0 < n; k0 += Block)
        {
            int kEnd = Math.Min(k0 + Block, n), nb = kEnd - k0;
            for (int j = k0; j < kEnd; j++)
            {
                int rj = o + j * n;
                T s = d[rj + j] - TensorPrimitives.Dot<T>(d.AsSpan(rj + k0, j - k0), d.AsSpan(rj + k0, j - k0));
                if (!(s > T.Zero)) return j + 1;
                T djj = T.Sqrt(s);
                d[rj + j] = djj;
                for (int i = j + 1; i < kEnd; i++)
                {
                    int ri = o + i * n;
                    d[ri + j] = (d[ri + j] - TensorPrimitives.Dot<T>(d.AsSpan(ri + k0, j - k0), d.AsSpan(rj + k0, j - k0))) / djj;
                }
            }
            int rest = n - kEnd;
            if (rest == 0) break;
            // inv = L11⁻¹ (lower triangular), column by column by forward substitution
            Array.Clear(inv);
            for (int j = 0; j < nb; j++)
            {
                inv[j * nb + j] = T.One / d[o + (k0 + j) * n + k0 + j];
                for (int i = j + 1; i < nb; i++)
                {
                    T s = T.Zero;
                    int ri = o + (k0 + i) * n + k0;
                    for (int l = j; l < i; l++) s += d[ri + l] * inv[l * nb + j];
                    inv[i * nb + j] = -s / d[ri + i];
                }
            }
            // L21 into pooled scratch (the GEMM adds into it): up to 480 KB per panel at n = 1024, a large-object
            // allocation per panel otherwise
            var l21 = System.Buffers.ArrayPool<T>.Shared.Rent(rest * nb);
            l21.AsSpan(0, rest * nb).Clear();
            Gemm.Multiply(1, rest, nb, nb, new GemmOperand<T>(d, o + kEnd * n + k0, 0, n, 1), new GemmOperand<T>(inv, 0, 0, 1, nb), l21);
            for (int i = 0; i < rest; i++) l21.AsSpan(i * nb, nb).CopyTo(d.AsSpan(o + (kEnd + i) * n + k0, nb));
            System.Buffers.ArrayPool<T>.Shared.Return(l21);
            for (int c0 = kEnd; c0 < n; c0 += Block)
            {
                int width = Math.Min(Block, n - c0);
                SubtractProduct(d, o + c0 * n + c0, n, n - c0, width, nb,
                    new GemmOperand<T>(d, o + c0 * n + k0, 0, n, 1), new GemmOperand<T>(d, o + c0 * n + k0, 0, 1, n));
            }
        }
        for (int i = 0; i < n; i++) d.AsSpan(o + i * n + i + 1, n - i - 1).Clear();
        return 0;
    }

    /// <summary>C -= A·B for the rows×cols block of d at offset c with row stride ld, A rows×depth and B depth×cols
    /// (the product on the packed GEMM, into a pooled scratch block: fresh blocks of this size would live on the
    /// large-object heap and cost a gen-2 collection every few panels).</summary>
    static void SubtractProduct<T>(T[] d, int c, int ld, int rows, int cols, int depth, GemmOperand<T> a, GemmOperand<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = rows * cols;
        var product = System.Buffers.ArrayPool<T>.Shared.Rent(size);
        Gemm.Multiply(1, rows, cols, depth, a, b, product, overwrite: true); // every element of the product written
        for (int i = 0; i < rows; i++)
        {
            var row = d.AsSpan(c + i * ld, cols);
            TensorPrimitives.Subtract<T>(row, product.AsSpan(i * cols, cols), row);
        }
        System.Buffers.ArrayPool<T>.Shared.Return(product);
    }
}
