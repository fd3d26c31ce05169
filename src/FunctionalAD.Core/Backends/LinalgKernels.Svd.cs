using System.Numerics;

namespace FunctionalAD.Backends;

public static partial class LinalgKernels
{
    /// <summary>Singular value decompositions of [B, m, n] matrices (see <see cref="IBackend.Svd"/>).</summary>
    /// <exception cref="DTypeMismatchException">the matrices are not floating point.</exception>
    public static RawTensor Svd(IBackend backend, RawTensor a, bool vectors) => DTypeDispatch.Floating<SvdKernel, RawTensor>(a.DType, new(backend, a, vectors, false));

    /// <summary><see cref="Svd"/> by one-sided Jacobi at every size (the reference the tests hold Golub-Kahan to).</summary>
    internal static RawTensor SvdByJacobi(IBackend backend, RawTensor a, bool vectors) => DTypeDispatch.Floating<SvdKernel, RawTensor>(a.DType, new(backend, a, vectors, true));

    readonly struct SvdKernel(IBackend backend, RawTensor a, bool vectors, bool jacobi) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = a.Shape[0], m = a.Shape[1], n = a.Shape[2], k = Math.Min(m, n);
            var d = backend.ToArray<T>(a); // a fresh copy (only read)
            int size = vectors ? (m + 1 + n) * k : k;
            var r = ResultPool.Rent<T>(batch * size); // every element written below
            bool elongated = Math.Max(m, n) >= 2 * k && k > 0;
            for (int bi = 0; bi < batch; bi++)
                if (!AllFinite(d.AsSpan(bi * m * n, m * n))) r.AsSpan(bi * size, size).Fill(T.NaN); // as LAPACK, no partial answer
                else if (elongated) QrThenSvd(d, bi * m * n, m, n, vectors, r, bi * size, jacobi);
                else SvdOf(d, bi * m * n, m, n, vectors, r, bi * size, jacobi);
            if (backend is CpuBackend) ResultPool.Return(d);
            return Adopt(backend, r, vectors ? [batch, m + 1 + n, k] : [batch, k]);
        }
        public RawTensor NotFloating() => throw LinalgKernels.NotFloating(vectors ? "svd" : "svdvals", a.DType);
    }

    /// <summary>The SVD of one m×n matrix at d[io..] into r[o..] (layout of <see cref="OneSidedJacobi{T}"/>):
    /// Golub-Kahan from min(m, n) = <see cref="GolubKahanFrom"/> on (one-sided Jacobi should it not converge),
    /// one-sided Jacobi below.</summary>
    static void SvdOf<T>(T[] d, int io, int m, int n, bool vectors, T[] r, int o, bool jacobi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!jacobi && Math.Min(m, n) >= GolubKahanFrom && GolubKahan(d, io, m, n, vectors, r, o)) return;
        OneSidedJacobi(d, io, m, n, vectors, r, o);
    }

    /// <summary>
    /// One-sided (Hestenes) Jacobi SVD of the m×n row-major matrix at d[io..], in double. With k = min(m, n) and
    /// l = max(m, n), the k columns of A (rows of A when m &lt; n, i.e. the columns of Aᵀ) are held as contiguous
    /// vectors of length l and rotated in pairs until every pair is orthogonal to within √l·ε relative to the
    /// pair's norms (cyclic sweeps, quadratic convergence); the rotations accumulate in a k×k orthogonal matrix.
    /// Then σⱼ is the norm of vector j and the vector over σⱼ is a singular vector, accurate to high relative
    /// precision even for tiny σ. Exactly zero σ get unit vectors completing an orthonormal basis (Gram-Schmidt on
    /// the unit vectors eᵢ). Output at r[o..]: σ descending (only that when !vectors), else packed [m + 1 + n, k]
    /// rows: U, then σ, then V; each pair (uⱼ, vⱼ) signed so uⱼ's largest-magnitude entry is positive.
    /// </summary>
    static void OneSidedJacobi<T>(T[] d, int io, int m, int n, bool vectors, T[] r, int o) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = Math.Min(m, n), l = Math.Max(m, n);
        if (k == 0) return;
        bool wide = m < n;
        var w = new double[k * l];   // vector j at w[j·l ..]
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                w[wide ? i * l + j : j * l + i] = double.CreateTruncating(d[io + i * n + j]);
        double[]? v = null;          // accumulated rotations, column j at v[j·k ..]
        if (vectors) { v = new double[k * k]; for (int j = 0; j < k; j++) v[j * k + j] = 1; }
        var norm2 = new double[k];
        double tol = Math.Sqrt(l) * 2.220446049250313e-16;
        for (int sweep = 0; sweep < 80; sweep++)
        {
            bool rotated = false;
            for (int j = 0; j < k; j++) norm2[j] = Dot(w.AsSpan(j * l, l), w.AsSpan(j * l, l));
            for (int p = 0; p < k - 1; p++)
                for (int q = p + 1; q < k; q++)
                {
                    double alpha = norm2[p], beta = norm2[q];
                    if (alpha == 0 || beta == 0) continue;
                    double gamma = Dot(w.AsSpan(p * l, l), w.AsSpan(q * l, l));
                    if (!(Math.Abs(gamma) > tol * Math.Sqrt(alpha) * Math.Sqrt(beta))) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = (zeta >= 0 ? 1 : -1) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    if (double.IsInfinity(zeta)) t = 0.5 / zeta;
                    double c = 1 / Math.Sqrt(1 + t * t), s = c * t;
                    Rotate(w.AsSpan(p * l, l), w.AsSpan(q * l, l), c, s);
                    if (v is not null) Rotate(v.AsSpan(p * k, k), v.AsSpan(q * k, k), c, s);
                    norm2[p] = alpha - t * gamma;
                    norm2[q] = beta + t * gamma;
                }
            if (!rotated) break;
        }
        var sigma = new double[k];
        for (int j = 0; j < k; j++) sigma[j] = Math.Sqrt(Dot(w.AsSpan(j * l, l), w.AsSpan(j * l, l)));
        var order = new int[k];
        for (int j = 0; j < k; j++) order[j] = j;
        Array.Sort(order, (x, y) => sigma[y].CompareTo(sigma[x]));
        if (!vectors)
        {
            for (int jj = 0; jj < k; jj++) r[o + jj] = T.CreateTruncating(sigma[order[jj]]);
            return;
        }
        // the left vectors, normalized in σ's order; zero ones completed to an orthonormal set
        var left = new double[k * l];
        for (int jj = 0; jj < k; jj++)
        {
            int j = order[jj];
            var dst = left.AsSpan(jj * l, l);
            if (sigma[j] > 0) { w.AsSpan(j * l, l).CopyTo(dst); Scale(dst, 1 / sigma[j]); }
        }
        for (int jj = 0, e = 0; jj < k; jj++)
        {
            if (sigma[order[jj]] > 0) continue;
            var dst = left.AsSpan(jj * l, l);
            for (; e < l; e++)
            {
                dst.Clear(); dst[e] = 1;
                for (int pass = 0; pass < 2; pass++)
                    for (int other = 0; other < k; other++)
                        if (other != jj && (sigma[order[other]] > 0 || other < jj))
                        {
                            var u = left.AsSpan(other * l, l);
                            double proj = Dot(u, dst);
                            for (int i = 0; i < l; i++) dst[i] -= proj * u[i];
                        }
                double len = Math.Sqrt(Dot(dst, dst));
                if (len > 0.5) { Scale(dst, 1 / len); e++; break; }
            }
        }
        // U [m, k] and V [n, k]: tall, U = left and V = the rotations; wide (Aᵀ was decomposed), the other way round
        int vo = o + (m + 1) * k;
        for (int jj = 0; jj < k; jj++)
        {
            int j = order[jj];
            var lj = left.AsSpan(jj * l, l);
            var rj = v!.AsSpan(j * k, k);
            var uj = wide ? rj : lj;
            int big = 0;
            for (int i = 1; i < m; i++) if (Math.Abs(uj[i]) > Math.Abs(uj[big])) big = i;
            double sign = uj[big] < 0 ? -1 : 1;
            var vj = wide ? lj : rj;
            for (int i = 0; i < m; i++) r[o + i * k + jj] = T.CreateTruncating(sign * uj[i]);
            r[o + m * k + jj] = T.CreateTruncating(sigma[j]);
            for (int i = 0; i < n; i++) r[vo + i * k + jj] = T.CreateTruncating(sign * vj[i]);
        }
    }

    /// <summary>
    /// The SVD of a clearly tall or wide matrix (l = max(m, n) ≥ 2k): Householder QR of the tall one of A and Aᵀ in
    /// double, X = Q·R, then <see cref="SvdOf"/> on the small k×k R = U_R·Σ·V_Rᵀ, whose vectors are k long
    /// instead of l; X's left vectors are Q·U_R (one GEMM). Same output layout and sign rule as OneSidedJacobi.
    /// </summary>
    static void QrThenSvd<T>(T[] d, int io, int m, int n, bool vectors, T[] r, int o, bool jacobi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = Math.Min(m, n), l = Math.Max(m, n);
        bool wide = m < n;
        var x = new double[l * k];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                x[wide ? j * k + i : i * k + j] = double.CreateTruncating(d[io + i * n + j]);
        var qr = new double[(l + k) * k];
        HouseholderQr(x, 0, l, k, qr, 0);
        var small = new double[vectors ? (2 * k + 1) * k : k];
        SvdOf(qr, l * k, k, k, vectors, small, 0, jacobi);
        if (!vectors)
        {
            for (int j = 0; j < k; j++) r[o + j] = T.CreateTruncating(small[j]);
            return;
        }
        var left = new double[l * k];
        Gemm.Multiply(1, l, k, k, new GemmOperand<double>(qr, 0, 0, k, 1), new GemmOperand<double>(small, 0, 0, k, 1), left);
        // tall: U = Q·U_R [m, k], V = V_R; wide (Aᵀ = Q·R): U = V_R, V = Q·U_R [n, k]
        int vo = o + (m + 1) * k;
        for (int j = 0; j < k; j++)
        {
            double Left(int i) => left[i * k + j];
            double Right(int i) => small[(k + 1 + i) * k + j];
            int big = 0;
            for (int i = 1; i < m; i++) if (Math.Abs(wide ? Right(i) : Left(i)) > Math.Abs(wide ? Right(big) : Left(big))) big = i;
            double sign = (wide ? Right(big) : Left(big)) < 0 ? -1 : 1;
            for (int i = 0; i < m; i++) r[o + i * k + j] = T.CreateTruncating(sign * (wide ? Right(i) : Left(i)));
            r[o + m * k + j] = T.CreateTruncating(small[k * k + j]);
            for (int i = 0; i < n; i++) r[vo + i * k + j] = T.CreateTruncating(sign * (wide ? Left(i) : Right(i)));
        }
    }

    static bool AllFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var v in x) if (!T.IsFinite(v)) return false;
        return true;
    }

    static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => System.Numerics.Tensors.TensorPrimitives.Dot(x, y);

    static void Scale(Span<double> x, double c) => System.Numerics.Tensors.TensorPrimitives.Multiply(x, c, x);

    /// <summary>(x, y) ← (c·x - s·y, s·x + c·y), vectorized.</summary>
    static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<double>.Count)
        {
            var vc = new Vector<double>(c); var vs = new Vector<double>(s);
            for (; i <= x.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var a = new Vector<double>(x[i..]); var b = new Vector<double>(y[i..]);
                (vc * a - vs * b).CopyTo(x[i..]);
                (vs * a + vc * b).CopyTo(y[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            double a = x[i], b = y[i];
            x[i] = c * a - s * b; y[i] = s * a + c * b;
        }
    }
}
