namespace FunctionalAD.Bench;

/// <summary>fad_matmul_*: C = A·B on square Float32/Float64 matrices (uniform [0,1)); GFLOP/s = 2n³/t.</summary>
static class MatMulCases
{
    public static void Run(Harness h, int threads)
    {
        int[] sizes = h.Quick ? [64, 128] : [256, 512, 1024, 2048];
        foreach (int n in sizes) One(h, threads, $"fad_matmul_f32_n{n}", n, DType.Float32);
        int n64 = h.Quick ? 128 : 1024;
        One(h, threads, $"fad_matmul_f64_n{n64}", n64, DType.Float64);
    }

    static void One(Harness h, int threads, string name, int n, DType dtype)
    {
        if (!h.Enabled(name)) return;
        var g = new Generator((ulong)n);
        var a = Tensor.Rand([n, n], g, dtype);
        var b = Tensor.Rand([n, n], g, dtype);
        var s = h.Measure(() => a.MatMul(b));
        double gf = 2.0 * n * n * n / s.Median / 1e9;
        h.Emit(name, threads, s, gf, "GFLOP/s", h.PctPeak(gf, threads, dtype == DType.Float64), "pct_peak");
    }
}
