using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

// The SVD of LinalgKernels for all but small matrices: Householder bidiagonalization and the implicit-shift QR
// iteration on the bidiagonal (Golub-Kahan-Reinsch; LAPACK's gebrd + orgbr + bdsqr, EISPACK's svd).
public static partial class LinalgKernels
{
    /// <summary>min(m, n) from which <see cref="GolubKahan{T}"/> replaces one-sided Jacobi: Jacobi's sweeps cost
    /// O(k²·l) each and it needs several (52 ms at 256×256 against about 10 for Golub-Kahan); below, it is cheap and
    /// keeps its high relative accuracy for tiny singular values of graded matrices, which Golub-Kahan (like LAPACK's
    /// gesdd) resolves only to ε·σ₁.</summary>
    internal const int GolubKahanFrom = 24;

    /// <summary>
    /// Golub-Kahan SVD of the m×n row-major matrix at d[io..], in double, same output as
    /// <see cref="OneSidedJacobi{T}"/>. X (A, or Aᵀ when m &lt; n, so X is l×k with l ≥ k) is scaled by a power of two
    /// so its largest entry is near 1 (exact; tiny and huge matrices neither under- nor overflow), reduced to upper
    /// bidiagonal B = U₀ᵀ·X·V₀ by alternating left and right Householder reflectors, U₀ᵀ and V₀ᵀ accumulated row-wise
    /// (their rows are the singular vectors, so every later rotation runs along two contiguous rows), then B is
    /// diagonalized by implicit-shift QR sweeps (the shift from the trailing 2×2 of BᵀB; splitting where a
    /// superdiagonal entry falls below ε·‖B‖, and a zero diagonal entry's row chased out by rotations). σ are |diagonal|
    /// (a negative one flips its right vector), sorted descending. Returns false (writing nothing) if some singular
    /// value did not converge in 75 sweeps.
    /// </summary>
    static bool GolubKahan<T>(T[] d, int io, int m, int n, bool vectors, T[] r, int o) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = Math.Min(m, n), l = Math.Max(m, n);
        if (k == 0) return true;
        // the l×k working matrix and the vectors' matrices are scratch from the shared pool: at 256×256 each is 512 KB,
        // a large-object allocation per call otherwise (under .NET's default GC, gen-2 collections and page faults)
        var x = ArrayPool<double>.Shared.Rent(l * k);
        double[]? ut = null, vt = null;  // rows: the left (length l) and right (length k) singular vectors
        try
        {
            return GolubKahanWith(d, io, m, n, vectors, r, o, x, ref ut, ref vt);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(x);
            if (ut is not null) ArrayPool<double>.Shared.Return(ut);
            if (vt is not null) ArrayPool<double>.Shared.Return(vt);
        }
    }

    /// <summary><see cref="GolubKahan{T}(T[], int, int, int, bool, T[], int)"/> with its scratch: x (l·k, any contents),
    /// and ut, vt rented here from the shared pool (for the caller to return).</summary>
    static bool GolubKahanWith<T>(T[] d, int io, int m, int n, bool vectors, T[] r, int o, double[] x, ref double[]? ut, ref double[]? vt)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = Math.Min(m, n), l = Math.Max(m, n);
        bool wide = m < n;
        double big = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double v = double.CreateTruncating(d[io + i * n + j]);
                x[wide ? j * k + i : i * k + j] = v;
                big = Math.Max(big, Math.Abs(v));
            }
        double scale = big > 0 ? Math.ScaleB(1.0, -Math.ILogB(big)) : 1;
        if (scale != 1) Scale(x.AsSpan(0, l * k), scale);

        var diag = new double[k];
        var sup = new double[k];     // sup[j] = B[j, j+1]; sup[k-1] = 0
        var tauL = new double[k];
        var tauR = new double[k];
        var w = new double[k];
        for (int j = 0; j < k; j++)
        {
            // left reflector: column j, rows j..l-1 (v below the diagonal, stored in place)
            double alpha = x[j * k + j], norm2 = 0;
            for (int i = j + 1; i < l; i++) norm2 += x[i * k + j] * x[i * k + j];
            diag[j] = Reflector(ref alpha, norm2, out tauL[j], out double vs);
            for (int i = j + 1; i < l; i++) x[i * k + j] *= vs;
            int cols = k - j - 1;
            if (cols == 0) break;
            // w = vᵀ·X[j.., j+1..]; row j takes its part of the left update first: the right reflector is made from it
            var wj = w.AsSpan(0, cols);
            double tl = tauL[j];
            if (tl != 0)
            {
                x.AsSpan(j * k + j + 1, cols).CopyTo(wj);
                for (int i = j + 1; i < l; i++) TensorPrimitives.MultiplyAdd(x.AsSpan(i * k + j + 1, cols), x[i * k + j], wj, wj);
                TensorPrimitives.MultiplyAdd(wj, -tl, x.AsSpan(j * k + j + 1, cols), x.AsSpan(j * k + j + 1, cols));
            }
            // right reflector: row j, columns j+1..k-1 (v right of the superdiagonal, stored in place)
            alpha = x[j * k + j + 1];
            var tail = x.AsSpan(j * k + j + 2, cols - 1);
            sup[j] = Reflector(ref alpha, TensorPrimitives.Dot<double>(tail, tail), out tauR[j], out vs);
            Scale(tail, vs);
            double tr = tauR[j];
            // the other rows in one pass: X[i, j+1..] -= τ_L·vᵢ·w, then -= τ_R·(row·v_R)·v_Rᵀ
            for (int i = j + 1; i < l; i++)
            {
                var row = x.AsSpan(i * k + j + 1, cols);
                if (tl != 0) TensorPrimitives.MultiplyAdd(wj, -tl * x[i * k + j], row, row);
                if (tr == 0) continue;
                double sr = row[0] + TensorPrimitives.Dot<double>(row[1..], tail);
                row[0] -= tr * sr;
                TensorPrimitives.MultiplyAdd(tail, -tr * sr, row[1..], row[1..]);
            }
        }

        if (vectors)
        {
            // U₀ = H₀⋯H_{k-1}·[I; 0] and V₀ = G₀⋯G_{k-2} (G acting on coordinates 1..k-1) by compact-WY blocks on the
            // GEMM, then transposed: the QR sweeps rotate rows
            var u = ArrayPool<double>.Shared.Rent(l * k);
            var v = ArrayPool<double>.Shared.Rent(k * k);
            try
            {
                u.AsSpan(0, l * k).Clear();
                for (int j = 0; j < k; j++) u[j * k + j] = 1;
                FormFromReflectors(u, l, k, k, tauL, (i, j) => x[i * k + j]);
                ut = Transposed(u, l, k);
                v.AsSpan(0, k * k).Clear();
                v[0] = 1;
                if (k > 1)
                {
                    // V₀'s trailing (k-1)×(k-1) block, built in u (no longer needed)
                    var vs = u;
                    vs.AsSpan(0, (k - 1) * (k - 1)).Clear();
                    for (int j = 0; j < k - 1; j++) vs[j * (k - 1) + j] = 1;
                    FormFromReflectors(vs, k - 1, k - 1, k - 1, tauR, (i, j) => x[j * k + i + 1]);
                    for (int i = 0; i < k - 1; i++) vs.AsSpan(i * (k - 1), k - 1).CopyTo(v.AsSpan((i + 1) * k + 1, k - 1));
                }
                vt = Transposed(v, k, k);
            }
            finally
            {
                ArrayPool<double>.Shared.Return(u);
                ArrayPool<double>.Shared.Return(v);
            }
        }

        if (!BidiagonalQr(diag, sup, k, ut, l, vt)) return false;

        var order = new int[k];
        for (int j = 0; j < k; j++) order[j] = j;
        Array.Sort(order, (p, q) => diag[q].CompareTo(diag[p]));
        double unscale = 1 / scale;
        if (!vectors)
        {
            for (int jj = 0; jj < k; jj++) r[o + jj] = T.CreateTruncating(diag[order[jj]] * unscale);
            return true;
        }
        int vo = o + (m + 1) * k;
        for (int jj = 0; jj < k; jj++)
        {
            int j = order[jj];
            var lj = ut!.AsSpan(j * l, l);
            var rj = vt!.AsSpan(j * k, k);
            var uj = wide ? rj : lj;
            int bigAt = 0;
            for (int i = 1; i < m; i++) if (Math.Abs(uj[i]) > Math.Abs(uj[bigAt])) bigAt = i;
            double sign = uj[bigAt] < 0 ? -1 : 1;
            var vj = wide ? lj : rj;
            for (int i = 0; i < m; i++) r[o + i * k + jj] = T.CreateTruncating(sign * uj[i]);
            r[o + m * k + jj] = T.CreateTruncating(diag[j] * unscale);
            for (int i = 0; i < n; i++) r[vo + i * k + jj] = T.CreateTruncating(sign * vj[i]);
        }
        return true;
    }

    /// <summary>q (rows×cols row-major, holding [I; 0]) ← H₀⋯H_{count-1}·q for reflectors Hⱼ = I - τⱼ·vⱼ·vⱼᵀ with vⱼ
    /// zero above row j, 1 at row j and vAt(i, j) below; by blocks of <see cref="QrBlock"/> from the last, each as
    /// I - V·T·Vᵀ (LAPACK's larft) applied with two GEMMs (<see cref="ApplyBlock{T}"/>), to columns j0.. only (the
    /// earlier ones are still unit vectors there).</summary>
    static void FormFromReflectors(double[] q, int rows, int cols, int count, double[] tau, Func<int, int, double> vAt)
    {
        for (int j0 = (count - 1) / QrBlock * QrBlock; j0 >= 0; j0 -= QrBlock)
        {
            int nb = Math.Min(QrBlock, count - j0), h = rows - j0;
            var v = new double[h * nb];
            for (int c = 0; c < nb; c++)
            {
                v[c * nb + c] = 1;
                for (int i = c + 1; i < h; i++) v[i * nb + c] = vAt(j0 + i, j0 + c);
            }
            var tm = new double[nb * nb];
            var vtv = new double[nb];
            for (int c = 0; c < nb; c++)
            {
                tm[c * nb + c] = tau[j0 + c];
                if (c == 0) continue;
                Array.Clear(vtv);
                for (int i = c; i < h; i++)
                    if (v[i * nb + c] != 0) TensorPrimitives.MultiplyAdd(v.AsSpan(i * nb, c), v[i * nb + c], vtv.AsSpan(0, c), vtv.AsSpan(0, c));
                for (int p = 0; p < c; p++)
                    tm[p * nb + c] = -tau[j0 + c] * TensorPrimitives.Dot<double>(tm.AsSpan(p * nb + p, c - p), vtv.AsSpan(p, c - p));
            }
            ApplyBlock(q, j0 * cols + j0, cols, h, cols - j0, nb, v, tm, transposeT: false);
        }
    }

    /// <summary>The transpose of the rows×cols matrix a, in an array from the shared pool (for the caller to return).</summary>
    static double[] Transposed(double[] a, int rows, int cols)
    {
        var t = ArrayPool<double>.Shared.Rent(rows * cols);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    /// <summary>A Householder reflector H = I - τ·[1; v]·[1; v]ᵀ with H·[α; t] = [β; 0] (LAPACK's larfg), for ‖t‖² =
    /// <paramref name="tailNorm2"/>: returns β; v = t·<paramref name="vScale"/>. τ = 0 (H = I) when t is zero.</summary>
    static double Reflector(ref double alpha, double tailNorm2, out double tau, out double vScale)
    {
        if (tailNorm2 == 0) { tau = 0; vScale = 0; return alpha; }
        double beta = Math.Sqrt(alpha * alpha + tailNorm2);
        if (alpha >= 0) beta = -beta;
        tau = (beta - alpha) / beta;
        vScale = 1 / (alpha - beta);
        return beta;
    }

    /// <summary>
    /// Diagonalizes the upper bidiagonal (diag, sup) by implicit-shift QR (EISPACK svd / Golub-Reinsch, as in
    /// Numerical Recipes' svdcmp, with its indexing: e[i] couples i-1 and i), rotating the rows of Uᵀ (k rows of
    /// length l) and Vᵀ (k×k) along. On return diag holds σ ≥ 0, unsorted. False if a value needs over 75 sweeps.
    /// </summary>
    /// <summary>Rotations × columns of a sweep (Vᵀ's and Uᵀ's together) from which the two run on two threads.</summary>
    const long RotationSplitWork = 8192;

    static bool BidiagonalQr(double[] w, double[] sup, int n, double[]? ut, int l, double[]? vt)
    {
        var e = new double[n];
        for (int i = 1; i < n; i++) e[i] = sup[i - 1];
        var rotations = new[] { new double[n], new double[n], new double[n], new double[n] };
        double anorm = 0;
        for (int i = 0; i < n; i++) anorm = Math.Max(anorm, Math.Abs(w[i]) + Math.Abs(e[i]));
        double tol = 2.220446049250313e-16 * anorm;
        // with both vector sets, each sweep's rotations of Vᵀ and of Uᵀ run on two threads; the workers spin through
        // the sweeps (a few microseconds of scalar work apart)
        bool split = ut is not null && vt is not null && Parallelism.MaxThreads > 1 && (long)n * (n + l) >= RotationSplitWork;
        using var burst = split ? Parallelism.Burst() : null;
        for (int k = n - 1; k >= 0; k--)
        {
            for (int its = 0; ; its++)
            {
                bool cancel = true;
                int lo, nm = 0;
                for (lo = k; lo >= 0; lo--)
                {
                    nm = lo - 1;
                    if (lo == 0 || Math.Abs(e[lo]) <= tol) { cancel = false; break; }
                    if (Math.Abs(w[nm]) <= tol) break;
                }
                if (cancel)
                {
                    // w[nm] ≈ 0: chase e[lo] out along row nm with left rotations
                    double c = 0, s = 1;
                    for (int i = lo; i <= k; i++)
                    {
                        double f = s * e[i];
                        e[i] = c * e[i];
                        if (Math.Abs(f) <= tol) break;
                        double g = w[i], h = Hypot(f, g);
                        w[i] = h; c = g / h; s = -f / h;
                        if (ut is not null) Rotate(ut.AsSpan(nm * l, l), ut.AsSpan(i * l, l), c, -s);
                    }
                }
                double z = w[k];
                if (lo == k)
                {
                    if (z < 0)
                    {
                        w[k] = -z;
                        if (vt is not null) Scale(vt.AsSpan(k * n, n), -1);
                    }
                    break;
                }
                if (its == 75) return false;
                double x = w[lo], y = w[k - 1], gg = e[k - 1], hh = e[k];
                double ff = ((y - z) * (y + z) + (gg - hh) * (gg + hh)) / (2 * hh * y);
                gg = Hypot(ff, 1);
                ff = ((x - z) * (x + z) + hh * (y / (ff + (ff >= 0 ? Math.Abs(gg) : -Math.Abs(gg))) - hh)) / x;
                double cc = 1, ss = 1;
                var (rc, rs, lc, ls) = (rotations[0], rotations[1], rotations[2], rotations[3]);
                for (int j = lo; j <= k - 1; j++)
                {
                    int i = j + 1;
                    double g = e[i]; y = w[i];
                    double h = ss * g; g = cc * g;
                    z = Hypot(ff, h);
                    e[j] = z; cc = ff / z; ss = h / z;
                    ff = x * cc + g * ss; g = g * cc - x * ss;
                    h = y * ss; y *= cc;
                    rc[j] = cc; rs[j] = -ss;
                    z = Hypot(ff, h);
                    w[j] = z;
                    if (z != 0) { cc = ff / z; ss = h / z; }
                    ff = cc * g + ss * y; x = cc * y - ss * g;
                    lc[j] = cc; ls[j] = -ss;
                }
                // the sweep's rotations reach the vectors in one pass over each matrix (LAPACK's lasr)
                if (split && (long)(k - lo) * (n + l) >= RotationSplitWork)
                {
                    var (v, u, first, last) = (vt!, ut!, lo, k);
                    Parallelism.Pieces(2, piece =>
                    {
                        if (piece == 0) RotateRows(v, n, first, last, rc, rs);
                        else RotateRows(u, l, first, last, lc, ls);
                    });
                }
                else
                {
                    if (vt is not null) RotateRows(vt, n, lo, k, rc, rs);
                    if (ut is not null) RotateRows(ut, l, lo, k, lc, ls);
                }
                e[lo] = 0; e[k] = ff; w[k] = x;
            }
        }
        return true;
    }

    static double Hypot(double a, double b)
    {
        double s2 = a * a + b * b;
        if (s2 > 1e-290 && s2 < 1e290) return Math.Sqrt(s2); // no under- or overflow to guard against

        a = Math.Abs(a); b = Math.Abs(b);
        if (a < b) (a, b) = (b, a);
        if (a == 0) return 0;
        double t = b / a;
        return a * Math.Sqrt(1 + t * t);
    }
}
