using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

// The symmetric eigensolver of LinalgKernels: Householder tridiagonalization and implicit QL (EISPACK tred2/tql2).
public static partial class LinalgKernels
{
    /// <summary>Eigen-decompositions of symmetric matrices, packed (see <see cref="IBackend.SymmetricEigen"/>).</summary>
    /// <exception cref="DTypeMismatchException">the matrices are not floating point.</exception>
    public static RawTensor SymmetricEigen(IBackend backend, RawTensor a) => DTypeDispatch.Floating<EigenKernel, RawTensor>(a.DType, new(backend, a));

    readonly struct EigenKernel(IBackend backend, RawTensor a) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = a.Shape[0], n = a.Shape[1];
            var d = backend.ToArray<T>(a);
            var r = new T[batch * (n + 1) * n];
            for (int bi = 0; bi < batch; bi++) TridiagonalQl(d, bi * n * n, n, r, bi * (n + 1) * n);
            return backend.FromArray(r, [batch, n + 1, n]);
        }
        public RawTensor NotFloating() => throw LinalgKernels.NotFloating("eigh", a.DType);
    }

    /// <summary>
    /// Householder tridiagonalization followed by the implicit QL algorithm with Wilkinson-type shifts (EISPACK's
    /// tred2 and tql2, as in JAMA), in double: O(n³) with a small constant, the eigenvectors accumulated from the
    /// reflections and rotations (the rotations on contiguous rows, vectorized). Reads the lower triangle. Writes the
    /// ascending eigenvalues to r[o], then V row by row, each column signed so its largest-magnitude entry is positive.
    /// </summary>
    static void TridiagonalQl<T>(T[] src, int io, int n, T[] r, int o) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n == 0) return;
        var v = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) v[i * n + j] = v[j * n + i] = double.CreateTruncating(src[io + i * n + j]);
        var d = new double[n];
        var e = new double[n];
        Tred2(v, d, e, n);
        // v holds Vᵀ: row j is eigenvector column j, so QL's rotations combine contiguous rows
        var vt = v;
        Tql2(vt, d, e, n);
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (x, y) => d[x].CompareTo(d[y]));
        for (int jj = 0; jj < n; jj++)
        {
            int j = order[jj];
            r[o + jj] = T.CreateTruncating(d[j]);
            var col = vt.AsSpan(j * n, n);
            int big = 0;
            for (int k = 1; k < n; k++) if (Math.Abs(col[k]) > Math.Abs(col[big])) big = k;
            double sign = col[big] < 0 ? -1 : 1;
            for (int k = 0; k < n; k++) r[o + (k + 1) * n + jj] = T.CreateTruncating(sign * col[k]);
        }
    }

    /// <summary>EISPACK tred2: the symmetric v (row-major, lower triangle used) becomes Qᵀ, for the orthogonal Q with
    /// QᵀAQ tridiagonal, d its diagonal and e its subdiagonal (e[0] = 0). JAMA's loops run down Q's columns; here they
    /// index the transpose (v[j, k] for Q[k, j]), so they run along contiguous rows, vectorized (with the QL
    /// rotations batched per sweep, eigh at n = 256 went from 66 to 14 ms).</summary>
    static void Tred2(double[] v, double[] d, double[] e, int n)
    {
        for (int j = 0; j < n; j++) d[j] = v[j * n + (n - 1)];
        for (int i = n - 1; i > 0; i--)
        {
            double scale = 0, h = 0;
            for (int k = 0; k < i; k++) scale += Math.Abs(d[k]);
            if (scale == 0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++) { d[j] = v[j * n + (i - 1)]; v[j * n + i] = 0; v[i * n + j] = 0; }
            }
            else
            {
                for (int k = 0; k < i; k++) { d[k] /= scale; h += d[k] * d[k]; }
                double f = d[i - 1], g = Math.Sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                for (int j = 0; j < i; j++) e[j] = 0;
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    v[i * n + j] = f;
                    g = e[j] + v[j * n + j] * f;
                    int len = i - 1 - j;
                    if (len > 0)
                    {
                        var row = v.AsSpan(j * n + j + 1, len);
                        g += TensorPrimitives.Dot<double>(row, d.AsSpan(j + 1, len));
                        TensorPrimitives.MultiplyAdd(row, f, e.AsSpan(j + 1, len), e.AsSpan(j + 1, len));
                    }
                    e[j] = g;
                }
                f = 0;
                for (int j = 0; j < i; j++) { e[j] /= h; f += e[j] * d[j]; }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) e[j] -= hh * d[j];
                for (int j = 0; j < i; j++)
                {
                    f = d[j]; g = e[j];
                    var vj = v.AsSpan(j * n + j, i - j);
                    TensorPrimitives.MultiplyAdd(e.AsSpan(j, i - j), -f, vj, vj);
                    TensorPrimitives.MultiplyAdd(d.AsSpan(j, i - j), -g, vj, vj);
                    d[j] = v[j * n + (i - 1)];
                    v[j * n + i] = 0;
                }
            }
            d[i] = h;
        }
        for (int i = 0; i < n - 1; i++)
        {
            v[i * n + (n - 1)] = v[i * n + i];
            v[i * n + i] = 1;
            double h = d[i + 1];
            if (h != 0)
            {
                for (int k = 0; k <= i; k++) d[k] = v[(i + 1) * n + k] / h;
                for (int j = 0; j <= i; j++)
                {
                    var vj = v.AsSpan(j * n, i + 1);
                    double g = TensorPrimitives.Dot<double>(v.AsSpan((i + 1) * n, i + 1), vj);
                    TensorPrimitives.MultiplyAdd(d.AsSpan(0, i + 1), -g, vj, vj);
                }
            }
            for (int k = 0; k <= i; k++) v[(i + 1) * n + k] = 0;
        }
        for (int j = 0; j < n; j++) { d[j] = v[j * n + (n - 1)]; v[j * n + (n - 1)] = 0; }
        v[(n - 1) * n + (n - 1)] = 1;
        e[0] = 0;
    }

    /// <summary>EISPACK tql2: implicit QL on the tridiagonal (d, e) from <see cref="Tred2"/>; d becomes the
    /// eigenvalues (unsorted) and the rows of vt (Q transposed on entry) the eigenvectors.</summary>
    static void Tql2(double[] vt, double[] d, double[] e, int n)
    {
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0;
        double f = 0, tst1 = 0, eps = Math.Pow(2, -52);
        double[] rc = new double[n], rs = new double[n];
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n && !(Math.Abs(e[m]) <= eps * tst1)) m++;
            if (m == n) m = n - 1; // e[n-1] = 0 ends the search; NaN input lands here
            if (m > l)
            {
                for (int iter = 0; iter < 60; iter++)
                {
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = double.Hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1], h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;
                    p = d[m];
                    double c = 1, c2 = 1, c3 = 1, el1 = e[l + 1], s = 0, s2 = 0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2; c2 = c; s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = double.Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        rc[i] = c; rs[i] = s;
                    }
                    RotateRows(vt, n, l, m, rc, rs, down: true); // the sweep's rotations in one pass over the rows
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                    if (!(Math.Abs(e[l]) > eps * tst1)) break;
                }
            }
            d[l] += f;
            e[l] = 0;
        }
    }
}
