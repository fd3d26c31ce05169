using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

/// <summary>
/// The default factorization and triangular-solve kernels of <see cref="IBackend"/> (LU with partial pivoting,
/// Cholesky, triangular solves). They run on the host: the matrices are read out with the backend's
/// <see cref="IBackend.ToArray{T}"/> and the results created with <see cref="IBackend.FromArray{T}"/>, which costs
/// nothing extra on the CPU and two transfers on a device (a GPU backend inherits them until it overrides them).
/// The algorithms are blocked (block size <see cref="Block"/>): a panel is factored with plain loops and the O(n³)
/// trailing updates run on the packed GEMM, so large factorizations go at the GEMM's speed.
/// </summary>
public static partial class LinalgKernels
{
    /// <summary>Width of a panel; the trailing update of each panel is one GEMM.</summary>
    public const int Block = 64;

    /// <summary>LU with partial pivoting of [B, n, n] matrices (see <see cref="IBackend.LuFactor"/>).</summary>
    /// <exception cref="DTypeMismatchException">the matrices are not floating point.</exception>
    public static LuFactors LuFactor(IBackend backend, RawTensor a) => DTypeDispatch.Floating<LuKernel, LuFactors>(a.DType, new(backend, a));

    /// <summary>A⁻¹·B from LU factors (see <see cref="IBackend.LuSolve"/>).</summary>
    /// <exception cref="DTypeMismatchException">the operands are not floating point.</exception>
    public static RawTensor LuSolve(IBackend backend, RawTensor lu, RawTensor pivots, RawTensor b) =>
        DTypeDispatch.Floating<LuSolveKernel, RawTensor>(lu.DType, new(backend, lu, pivots, b));

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
            for (int bi = 0; bi < batch; bi++) LuInPlace(d, bi * n * n, n, piv, bi * n);
            return new(backend.FromArray(d, [batch, n, n]), backend.FromArray(piv, [batch, n]));
        }
        public LuFactors NotFloating() => throw LinalgKernels.NotFloating("lu", a.DType);
    }

    readonly struct LuSolveKernel(IBackend backend, RawTensor lu, RawTensor pivots, RawTensor b) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = lu.Shape[0], n = lu.Shape[1], k = b.Shape[2];
            var f = backend.ToArray<T>(lu);
            var piv = backend.ToArray<int>(pivots);
            var x = backend.ToArray<T>(b);
            for (int bi = 0; bi < batch; bi++)
            {
                int xo = bi * n * k;
                for (int r = 0; r < n; r++)
                {
                    int p = piv[bi * n + r];
                    if (p != r)
                        for (int j = 0; j < k; j++) (x[xo + r * k + j], x[xo + p * k + j]) = (x[xo + p * k + j], x[xo + r * k + j]);
                }
                TriangularInPlace(f, bi * n * n, n, x, xo, k, upper: false, unit: true);
                TriangularInPlace(f, bi * n * n, n, x, xo, k, upper: true, unit: false);
            }
            return backend.FromArray(x, [batch, n, k]);
        }
        public RawTensor NotFloating() => throw LinalgKernels.NotFloating("luSolve", lu.DType);

    }

    readonly struct TriangularKernel(IBackend backend, RawTensor a, RawTensor b, bool upper, bool unit) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = a.Shape[0], n = a.Shape[1], k = b.Shape[2];
            var m = backend.ToArray<T>(a);
            var x = backend.ToArray<T>(b);
            for (int bi = 0; bi < batch; bi++) TriangularInPlace(m, bi * n * n, n, x, bi * n * k, k, upper, unit);
            return backend.FromArray(x, [batch, n, k]);
        }
        public RawTensor NotFloating() => throw LinalgKernels.NotFloating("solveTriangular", a.DType);
    }

    readonly struct CholeskyKernel(IBackend backend, RawTensor a) : IFloatingKernel<CholeskyFactors>
    {
        public CholeskyFactors Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = a.Shape[0], n = a.Shape[1];
            var d = backend.ToArray<T>(a);
            var failed = new int[batch];
            for (int bi = 0; bi < batch; bi++) failed[bi] = CholeskyInPlace(d, bi * n * n, n);
            return new(backend.FromArray(d, [batch, n, n]), failed);
        }
        public CholeskyFactors NotFloating() => throw LinalgKernels.NotFloating("cholesky", a.DType);
    }

    readonly struct DetKernel(IBackend backend, LuFactors f) : IFloatingKernel<(RawTensor, RawTensor, RawTensor)>
    {
        public (RawTensor, RawTensor, RawTensor) Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = f.Lu.Shape[0], n = f.Lu.Shape[1];
            var d = backend.ToArray<T>(f.Lu);
            var piv = backend.ToArray<int>(f.Pivots);
            var sign = new T[batch]; var logAbs = new T[batch]; var det = new T[batch];
            for (int bi = 0; bi < batch; bi++)
            {
                T s = T.One, l = T.Zero, p = T.One;
                for (int i = 0; i < n; i++)
                {
                    T u = d[bi * n * n + i * n + i];
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
            var d = backend.ToArray<T>(lu);
            for (int bi = 0; bi < batch; bi++)
                for (int i = 0; i < n; i++)
                    if (d[bi * n * n + i * n + i] == T.Zero) return (bi, i);
            return null;
        }
        public (int, int)? NotFloating() => throw LinalgKernels.NotFloating("solve", lu.DType);
    }

    /// <summary>
    /// Right-looking blocked LU with partial pivoting of the n×n row-major matrix at d[o..]: per panel of
    /// <see cref="Block"/> columns, pivot and eliminate within the panel (whole rows are swapped), solve for the
    /// panel's block row of U, then subtract L21·U12 from the trailing matrix with one GEMM.
    /// </summary>
    static void LuInPlace<T>(T[] d, int o, int n, int[] piv, int po) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int k0 = 0; k0 < n; k0 += Block)
        {
            int kEnd = Math.Min(k0 + Block, n);
            for (int k = k0; k < kEnd; k++)
            {
                int p = k;
                T best = T.Abs(d[o + k * n + k]);
                for (int i = k + 1; i < n; i++)
                {
                    T v = T.Abs(d[o + i * n + k]);
                    if (v > best) { best = v; p = i; }
                }
                piv[po + k] = p;
                if (p != k)
                    for (int j = 0; j < n; j++) (d[o + k * n + j], d[o + p * n + j]) = (d[o + p * n + j], d[o + k * n + j]);
                T pivot = d[o + k * n + k];
                if (pivot == T.Zero) continue; // the column is zero from here down: nothing to eliminate (LAPACK goes on too)
                int w = kEnd - k - 1;
                for (int i = k + 1; i < n; i++)
                {
                    int r = o + i * n;
                    T l = d[r + k] / pivot;
                    d[r + k] = l;
                    if (l != T.Zero && w > 0)
                        TensorPrimitives.MultiplyAdd<T>(d.AsSpan(o + k * n + k + 1, w), -l, d.AsSpan(r + k + 1, w), d.AsSpan(r + k + 1, w));
                }
            }
            int rest = n - kEnd;
            if (rest == 0) continue;
            for (int i = k0 + 1; i < kEnd; i++)
            {
                var row = d.AsSpan(o + i * n + kEnd, rest);
                for (int l = k0; l < i; l++)
                {
                    T c = d[o + i * n + l];
                    if (c != T.Zero) TensorPrimitives.MultiplyAdd<T>(d.AsSpan(o + l * n + kEnd, rest), -c, row, row);
                }
            }
            SubtractProduct(d, o + kEnd * n + kEnd, n, rest, rest, kEnd - k0,
                new GemmOperand<T>(d, o + kEnd * n + k0, 0, n, 1), new GemmOperand<T>(d, o + k0 * n + kEnd, 0, n, 1));
        }
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
            var l21 = new T[rest * nb];
            Gemm.Multiply(1, rest, nb, nb, new GemmOperand<T>(d, o + kEnd * n + k0, 0, n, 1), new GemmOperand<T>(inv, 0, 0, 1, nb), l21);
            for (int i = 0; i < rest; i++) l21.AsSpan(i * nb, nb).CopyTo(d.AsSpan(o + (kEnd + i) * n + k0, nb));
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

    /// <summary>
    /// Solves A·X = B in place (X overwrites B, [n, k] row-major at x[xo..]) for the triangular n×n row-major A at
    /// a[ao..], by blocks of rows: a diagonal block with loops, then the rows still to solve lose that block's
    /// contribution in one GEMM.
    /// </summary>
    static void TriangularInPlace<T>(T[] a, int ao, int n, T[] x, int xo, int k, bool upper, bool unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (k == 0) return;
        if (!upper)
        {
            for (int i0 = 0; i0 < n; i0 += Block)
            {
                int iEnd = Math.Min(i0 + Block, n);
                for (int i = i0; i < iEnd; i++) SolveRow(a, ao, n, x, xo, k, i, i0, i, unit);
                int rest = n - iEnd;
                if (rest > 0)
                    SubtractProduct(x, xo + iEnd * k, k, rest, k, iEnd - i0,
                        new GemmOperand<T>(a, ao + iEnd * n + i0, 0, n, 1), new GemmOperand<T>(x, xo + i0 * k, 0, k, 1));
            }
        }
        else
        {
            for (int iEnd = n; iEnd > 0; iEnd -= Block)
            {
                int i0 = Math.Max(0, iEnd - Block);
                for (int i = iEnd - 1; i >= i0; i--) SolveRow(a, ao, n, x, xo, k, i, i + 1, iEnd, unit);
                if (i0 > 0)
                    SubtractProduct(x, xo, k, i0, k, iEnd - i0,
                        new GemmOperand<T>(a, ao + i0, 0, n, 1), new GemmOperand<T>(x, xo + i0 * k, 0, k, 1));
            }
        }
    }

    /// <summary>Row i of X: subtract A[i, l]·X[l] for l in [from, to), then divide by A[i, i] unless unit.</summary>
    static void SolveRow<T>(T[] a, int ao, int n, T[] x, int xo, int k, int i, int from, int to, bool unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var row = x.AsSpan(xo + i * k, k);
        for (int l = from; l < to; l++)
        {
            T c = a[ao + i * n + l];
            if (c != T.Zero) TensorPrimitives.MultiplyAdd<T>(x.AsSpan(xo + l * k, k), -c, row, row);
        }
        if (!unit) TensorPrimitives.Divide<T>(row, a[ao + i * n + i], row);
    }

    /// <summary>C -= A·B for the rows×cols block of d at offset c with row stride ld, A rows×depth and B depth×cols
    /// (the product on the packed GEMM, into a pooled scratch block: fresh blocks of this size would live on the
    /// large-object heap and cost a gen-2 collection every few panels).</summary>
    static void SubtractProduct<T>(T[] d, int c, int ld, int rows, int cols, int depth, GemmOperand<T> a, GemmOperand<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = rows * cols;
        var product = System.Buffers.ArrayPool<T>.Shared.Rent(size);
        product.AsSpan(0, size).Clear();
        Gemm.Multiply(1, rows, cols, depth, a, b, product);
        for (int i = 0; i < rows; i++)
        {
            var row = d.AsSpan(c + i * ld, cols);
            TensorPrimitives.Subtract<T>(row, product.AsSpan(i * cols, cols), row);
        }
        System.Buffers.ArrayPool<T>.Shared.Return(product);
    }
}
