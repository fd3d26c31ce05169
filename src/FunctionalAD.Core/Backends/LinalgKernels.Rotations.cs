using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FunctionalAD.Backends;

// Givens rotations of matrix rows, for the implicit-shift QR iteration of the Golub-Kahan SVD
// (LinalgKernels.GolubKahan.cs): the singular vectors accumulate every sweep's rotations.
public static partial class LinalgKernels
{
    /// <summary>For j = lo .. hi-1 in turn (hi-1 down to lo when <paramref name="down"/>), rows j and j+1 of the
    /// row-major matrix m (rows of length len) rotate: (x, y) ← (cⱼ·x - sⱼ·y, sⱼ·x + cⱼ·y). A vector of columns at a
    /// time goes through the whole chain, the row passed between two rotations staying in a register: each row is
    /// read and written once.</summary>
    static void RotateRows(double[] m, int len, int lo, int hi, double[] c, double[] s, bool down = false)
    {
        if (Vector512.IsHardwareAccelerated) RotateRows<Vector512<double>, Lanes512<double>>(m, len, lo, hi, c, s, down);
        else if (Vector256.IsHardwareAccelerated) RotateRows<Vector256<double>, Lanes256<double>>(m, len, lo, hi, c, s, down);
        else RotateRows<Vector128<double>, Lanes128<double>>(m, len, lo, hi, c, s, down);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RotateRows<V, L>(double[] m, int len, int lo, int hi, double[] c, double[] s, bool down) where L : ILanes<double, V>
    {
        if (down) { RotateRowsDown<V, L>(m, len, lo, hi, c, s); return; }
        ref double mr = ref m[0];
        int col = 0, vc = L.Count;
        // four vectors of columns at once: the chain through a column is one FMA per rotation, latency-bound alone
        for (; col + 4 * vc <= len; col += 4 * vc)
        {
            nuint c0 = (nuint)(lo * len + col), v1 = (nuint)vc, v2 = (nuint)(2 * vc), v3 = (nuint)(3 * vc);
            V x0 = L.Load(ref mr, c0), x1 = L.Load(ref mr, c0 + v1), x2 = L.Load(ref mr, c0 + v2), x3 = L.Load(ref mr, c0 + v3);
            for (int j = lo; j < hi; j++)
            {
                nuint at = (nuint)(j * len + col), below = at + (nuint)len;
                V cj = L.Splat(c[j]), sj = L.Splat(s[j]), nsj = L.Splat(-s[j]);
                V y0 = L.Load(ref mr, below), y1 = L.Load(ref mr, below + v1), y2 = L.Load(ref mr, below + v2), y3 = L.Load(ref mr, below + v3);
                L.Store(L.MulSub(sj, y0, L.Multiply(cj, x0)), ref mr, at);
                L.Store(L.MulSub(sj, y1, L.Multiply(cj, x1)), ref mr, at + v1);
                L.Store(L.MulSub(sj, y2, L.Multiply(cj, x2)), ref mr, at + v2);
                L.Store(L.MulSub(sj, y3, L.Multiply(cj, x3)), ref mr, at + v3);
                x0 = L.MulSub(nsj, x0, L.Multiply(cj, y0));
                x1 = L.MulSub(nsj, x1, L.Multiply(cj, y1));
                x2 = L.MulSub(nsj, x2, L.Multiply(cj, y2));
                x3 = L.MulSub(nsj, x3, L.Multiply(cj, y3));
            }
            nuint end = (nuint)(hi * len + col);
            L.Store(x0, ref mr, end); L.Store(x1, ref mr, end + v1); L.Store(x2, ref mr, end + v2); L.Store(x3, ref mr, end + v3);
        }
        for (; col + vc <= len; col += vc)
        {
            V x = L.Load(ref mr, (nuint)(lo * len + col));
            for (int j = lo; j < hi; j++)
            {
                nuint below = (nuint)((j + 1) * len + col);
                V y = L.Load(ref mr, below);
                V cj = L.Splat(c[j]);
                V top = L.MulSub(L.Splat(s[j]), y, L.Multiply(cj, x));
                x = L.MulSub(L.Splat(-s[j]), x, L.Multiply(cj, y));
                L.Store(top, ref mr, (nuint)(j * len + col));
            }
            L.Store(x, ref mr, (nuint)(hi * len + col));
        }
        for (; col < len; col++)
        {
            double x = m[lo * len + col];
            for (int j = lo; j < hi; j++)
            {
                double y = m[(j + 1) * len + col];
                m[j * len + col] = c[j] * x - s[j] * y;
                x = s[j] * x + c[j] * y;
            }
            m[hi * len + col] = x;
        }
    }

    /// <summary><see cref="RotateRows"/> from the bottom: rotation hi-1 first, the upper row of each pair carried up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RotateRowsDown<V, L>(double[] m, int len, int lo, int hi, double[] c, double[] s) where L : ILanes<double, V>
    {
        ref double mr = ref m[0];
        int col = 0, vc = L.Count;
        for (; col + 2 * vc <= len; col += 2 * vc)
        {
            nuint v1 = (nuint)vc, c0 = (nuint)(hi * len + col);
            V y0 = L.Load(ref mr, c0), y1 = L.Load(ref mr, c0 + v1);
            for (int j = hi - 1; j >= lo; j--)
            {
                nuint at = (nuint)(j * len + col), below = at + (nuint)len;
                V cj = L.Splat(c[j]), sj = L.Splat(s[j]), nsj = L.Splat(-s[j]);
                V x0 = L.Load(ref mr, at), x1 = L.Load(ref mr, at + v1);
                L.Store(L.MulSub(nsj, x0, L.Multiply(cj, y0)), ref mr, below);
                L.Store(L.MulSub(nsj, x1, L.Multiply(cj, y1)), ref mr, below + v1);
                y0 = L.MulSub(sj, y0, L.Multiply(cj, x0));
                y1 = L.MulSub(sj, y1, L.Multiply(cj, x1));
            }
            nuint top = (nuint)(lo * len + col);
            L.Store(y0, ref mr, top); L.Store(y1, ref mr, top + v1);
        }
        for (; col < len; col++)
        {
            double y = m[hi * len + col];
            for (int j = hi - 1; j >= lo; j--)
            {
                double x = m[j * len + col];
                m[(j + 1) * len + col] = s[j] * x + c[j] * y;
                y = c[j] * x - s[j] * y;
            }
            m[lo * len + col] = y;
        }
    }
}
