namespace FunctionalAD.Bench;

/// <summary>fad_ew_sinmuladd_eager (y = sin(x)·x + 1, three kernels, fresh tensors) and fad_sum_f32_10M on 10M Float32.</summary>
static class ElementwiseCases
{
    public static void Run(Harness h, int threads)
    {
        int n = h.Quick ? 100_000 : 10_000_000;
        if (!h.Enabled("fad_ew_sinmuladd_eager") && !h.Enabled("fad_sum")) return;
        var x = Tensor.Rand([n], new Generator(42)) * 8.0 - 4.0; // U(-4, 4)
        if (h.Enabled("fad_ew_sinmuladd_eager"))
        {
            // GB/s counts only the compulsory traffic: read x (4 B) + write y (4 B) per element, like the anchor
            var s = h.Measure(() => _ = x.Sin() * x + 1.0);
            h.Emit("fad_ew_sinmuladd_eager_f32_10M", threads, s, 8.0 * n / s.Median / 1e9, "GB/s", s.Median / n * 1e9, "ns/elem");
        }
        if (h.Enabled("fad_sum"))
        {
            var s = h.Measure(() => _ = x.Sum());
            h.Emit("fad_sum_f32_10M", threads, s, 4.0 * n / s.Median / 1e9, "GB/s", s.Median / n * 1e9, "ns/elem");
        }
    }
}
