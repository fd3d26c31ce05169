namespace FunctionalAD.Backends;

/// <summary>
/// Copies blocks of strided GEMM operands into the panel layout the micro-kernels read sequentially, padding the
/// last panel with zeros. Reading through the operand's strides is what lets transposed views skip a copy.
/// </summary>
internal static class GemmPacking
{
    /// <summary>
    /// A[bi][i0..i0+mc, p0..p0+kc] into MR-row panels: dst[ir·kc + p·MR + i] = A[i0 + ir + i, p0 + p].
    /// </summary>
    public static void PackA<T>(GemmOperand<T> a, int bi, int i0, int mc, int p0, int kc, int mr, T[] dst) where T : unmanaged
    {
        var src = a.Data;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir), d = ir * kc;
            int start = a.Offset + bi * a.BatchStride + (i0 + ir) * a.RowStride + p0 * a.ColStride;
            if (a.ColStride == 1)
                // row-major A: walk each row contiguously, scatter into the panel
                for (int i = 0; i < rows; i++)
                {
                    var row = src.AsSpan(start + i * a.RowStride, kc);
                    for (int p = 0; p < kc; p++) dst[d + p * mr + i] = row[p];
                }
            else
                for (int p = 0; p < kc; p++)
                {
                    int s = start + p * a.ColStride;
                    for (int i = 0; i < rows; i++) dst[d + p * mr + i] = src[s + i * a.RowStride];
                }
            if (rows < mr)
                for (int p = 0; p < kc; p++) dst.AsSpan(d + p * mr + rows, mr - rows).Clear();
        }
    }

    /// <summary>
    /// B[bi][p0..p0+kc, j0..j0+nc] into NR-column panels: dst[jr·kc + p·NR + j] = B[p0 + p, j0 + jr + j].
    /// </summary>
    public static void PackB<T>(GemmOperand<T> b, int bi, int p0, int kc, int j0, int nc, int nr, T[] dst) where T : unmanaged
    {
        var src = b.Data;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr), d = jr * kc;
            int start = b.Offset + bi * b.BatchStride + p0 * b.RowStride + (j0 + jr) * b.ColStride;
            if (b.ColStride == 1)
                // row-major B: each panel row is a contiguous run of the source row
                for (int p = 0; p < kc; p++)
                    src.AsSpan(start + p * b.RowStride, cols).CopyTo(dst.AsSpan(d + p * nr, cols));
            else
                for (int j = 0; j < cols; j++)
                {
                    int s = start + j * b.ColStride;
                    for (int p = 0; p < kc; p++) dst[d + p * nr + j] = src[s + p * b.RowStride];
                }
            if (cols < nr)
                for (int p = 0; p < kc; p++) dst.AsSpan(d + p * nr + cols, nr - cols).Clear();
        }
    }
}
