using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

public static partial class LinalgKernels
{
    /// <summary>Reduced QR decompositions of [B, m, n] matrices, m ≥ n, packed (see <see cref="IBackend.Qr"/>).</summary>
    /// <exception cref="DTypeMismatchException">the matrices are not floating point.</exception>
    public static RawTensor Qr(IBackend backend, RawTensor a) => DTypeDispatch.Floating<QrKernel, RawTensor>(a.DType, new(backend, a));

    /// <summary>Householder panels are this many columns wide; their reflectors reach the rest of the matrix as one
    /// compact-WY block (I - V·T·Vᵀ) on the GEMM.</summary>
    const int QrBlock = 32;

    readonly struct QrKernel(IBackend backend, RawTensor a) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            int batch = a.Shape[0], m = a.Shape[1], n = a.Shape[2];
            var d = backend.ToArray<T>(a);
            var r = new T[batch * (m + n) * n];
            for (int bi = 0; bi < batch; bi++) HouseholderQr(d, bi * m * n, m, n, r, bi * (m + n) * n);
            return backend.FromArray(r, [batch, m + n, n]);
        }
        public RawTensor NotFloating() => throw LinalgKernels.NotFloating("qr", a.DType);
    }

    /// <summary>
    /// Blocked Householder QR (LAPACK's geqrf + orgqr) of the m×n (m ≥ n) row-major matrix at d[o..], in place:
    /// per panel of <see cref="QrBlock"/> columns, reflectors Hⱼ = I - τⱼvⱼvⱼᵀ (LAPACK's larfg) are found and applied
    /// within the panel, their product is written I - V·T·Vᵀ (larft), and the trailing columns receive
    /// (I - V·Tᵀ·Vᵀ)·A₂ through two GEMMs. Q [m, n] is then accumulated from [I; 0] backwards by the same blocks.
    /// Finally each column of Q and row of R whose diagonal entry is negative are negated, so R's diagonal is
    /// non-negative (unique factors for full rank; LAPACK leaves negative entries). Writes Q then R, [m + n, n], at r[ro..].
    /// </summary>
    static void HouseholderQr<T>(T[] d, int o, int m, int n, T[] r, int ro) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n == 0) return;
        var tau = new T[n];
        var vs = new List<(int J0, int Nb, T[] V, T[] Tm)>();
        for (int j0 = 0; j0 < n; j0 += QrBlock)
        {
            int nb = Math.Min(QrBlock, n - j0), kEnd = j0 + nb, rows = m - j0;
            var w = new T[nb];
            for (int j = j0; j < kEnd; j++)
            {
                // the reflector of column j, rows j..m-1
                T alpha = d[o + j * n + j], xnorm2 = T.Zero;
                for (int i = j + 1; i < m; i++) { T x = d[o + i * n + j]; xnorm2 += x * x; }
                if (xnorm2 == T.Zero) { tau[j] = T.Zero; continue; }
                T beta = T.Sqrt(alpha * alpha + xnorm2);
                if (alpha >= T.Zero) beta = -beta;
                tau[j] = (beta - alpha) / beta;
                T scale = T.One / (alpha - beta);
                for (int i = j + 1; i < m; i++) d[o + i * n + j] *= scale;
                d[o + j * n + j] = beta;
                // apply Hⱼ to the panel's later columns: w = vᵀA[j:, j+1:kEnd], A -= τ·v·w
                int width = kEnd - j - 1;
                if (width == 0) continue;
                var ws = w.AsSpan(0, width);
                d.AsSpan(o + j * n + j + 1, width).CopyTo(ws);
                for (int i = j + 1; i < m; i++) TensorPrimitives.MultiplyAdd<T>(d.AsSpan(o + i * n + j + 1, width), d[o + i * n + j], ws, ws);
                TensorPrimitives.MultiplyAdd<T>(ws, -tau[j], d.AsSpan(o + j * n + j + 1, width), d.AsSpan(o + j * n + j + 1, width));
                for (int i = j + 1; i < m; i++)
                {
                    T c = -tau[j] * d[o + i * n + j];
                    if (c != T.Zero) TensorPrimitives.MultiplyAdd<T>(ws, c, d.AsSpan(o + i * n + j + 1, width), d.AsSpan(o + i * n + j + 1, width));
                }
            }
            // V [rows, nb] explicit (unit diagonal, zeros above) and T [nb, nb] upper triangular with H₁⋯H_nb = I - V·T·Vᵀ
            var v = new T[rows * nb];
            for (int i = 0; i < rows; i++)
                for (int c = 0; c < nb; c++)
                    v[i * nb + c] = i == c ? T.One : i > c ? d[o + (j0 + i) * n + j0 + c] : T.Zero;
            var tm = new T[nb * nb];
            var vtv = new T[nb];
            for (int c = 0; c < nb; c++)
            {
                tm[c * nb + c] = tau[j0 + c];
                if (c == 0) continue;
                // vtv[p] = V[:, p]·V[:, c] for p < c (rows ≥ c, where column c is nonzero)
                Array.Clear(vtv);
                for (int i = c; i < rows; i++)
                {
                    T vic = v[i * nb + c];
                    if (vic != T.Zero) TensorPrimitives.MultiplyAdd<T>(v.AsSpan(i * nb, c), vic, vtv.AsSpan(0, c), vtv.AsSpan(0, c));
                }
                // T[0:c, c] = -τ_c·T[0:c, 0:c]·vtv
                for (int p = 0; p < c; p++)
                    tm[p * nb + c] = -tau[j0 + c] * TensorPrimitives.Dot<T>(tm.AsSpan(p * nb + p, c - p), vtv.AsSpan(p, c - p));
            }
            vs.Add((j0, nb, v, tm));
            int rest = n - kEnd;
            if (rest > 0) ApplyBlock(d, o + j0 * n + kEnd, n, rows, rest, nb, v, tm, transposeT: true);
        }
        // Q = H₁⋯Hₙ·[I; 0], block by block from the last
        var q = new T[m * n];
        for (int i = 0; i < n; i++) q[i * n + i] = T.One;
        for (int b = vs.Count - 1; b >= 0; b--)
        {
            var (j0, nb, v, tm) = vs[b];
            ApplyBlock(q, j0 * n + j0, n, m - j0, n - j0, nb, v, tm, transposeT: false);
        }
        // R's diagonal non-negative: negate the rows of R and the columns of Q where it is not
        for (int i = 0; i < n; i++)
        {
            bool flip = d[o + i * n + i] < T.Zero;
            for (int c = 0; c < n; c++) r[ro + (m + i) * n + c] = c < i ? T.Zero : flip ? -d[o + i * n + c] : d[o + i * n + c];
            for (int k = 0; k < m; k++) r[ro + k * n + i] = flip ? -q[k * n + i] : q[k * n + i];
        }
    }

    /// <summary>C ← (I - V·T·Vᵀ)·C, or with Tᵀ, for the rows×cols block of c at offset co (row stride ld); V [rows, nb]
    /// and T [nb, nb] dense row-major. Two GEMMs (W = Vᵀ·C, then C -= V·(T·W)) and a small triangular product.</summary>
    static void ApplyBlock<T>(T[] c, int co, int ld, int rows, int cols, int nb, T[] v, T[] tm, bool transposeT) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = new T[nb * cols];
        Gemm.Multiply(1, nb, cols, rows, new GemmOperand<T>(v, 0, 0, 1, nb), new GemmOperand<T>(c, co, 0, ld, 1), w);
        var tw = new T[nb * cols];
        Gemm.Multiply(1, nb, cols, nb, transposeT ? new GemmOperand<T>(tm, 0, 0, 1, nb) : new GemmOperand<T>(tm, 0, 0, nb, 1),
            new GemmOperand<T>(w, 0, 0, cols, 1), tw);
        SubtractProduct(c, co, ld, rows, cols, nb, new GemmOperand<T>(v, 0, 0, nb, 1), new GemmOperand<T>(tw, 0, 0, cols, 1));
    }
}
