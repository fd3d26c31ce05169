using System.Diagnostics;

namespace FunctionalAD.Bench;

/// <summary>
/// fad_memory_mlp_10000steps: whether memory stays flat over a long training loop. The MLP step of
/// fad_mlp_784_256_10_b64_sgd_step run 10,000 times; metric: resident memory (VmRSS) after the last step, metric2:
/// after step 200, both in MiB (the goal: the same within noise). No torch row pairs with it; the peak against
/// libtorch's comes from bench/run-side-by-side.sh --memory.
/// </summary>
static class MemoryCases
{
    public static void Run(Harness h, int threads)
    {
        const string name = "fad_memory_mlp_10000steps";
        if (!h.Enabled(name)) return;
        var g = new Generator(1);
        Tensor Uniform(int[] shape, int fanIn) => (Tensor.Rand(shape, g) * 2.0 - 1.0) / Math.Sqrt(fanIn);
        Tensor[] ps = [Uniform([256, 784], 784), Uniform([256], 784), Uniform([10, 256], 256), Uniform([10], 256)];
        var x = Tensor.Randn([64, 784], g);
        var target = Tensor.Randint(0, 10, [64], g).OneHot(10);
        Tensor Loss(Tensor[] p)
        {
            var hidden = (x.MatMul(p[0].T) + p[1]).Relu();
            return -((hidden.MatMul(p[2].T) + p[3]).LogSoftmax(-1) * target).Sum() / 64.0;
        }
        int steps = h.Quick ? 1000 : 10_000;
        var times = new List<double>(steps);
        double at200 = double.NaN;
        Harness.Settle();
        h.BeginProbe();
        var sw = new Stopwatch();
        for (int i = 1; i <= steps; i++)
        {
            sw.Restart();
            var (_, grads) = Transform.ValueAndGrad(Loss, ps);
            for (int j = 0; j < ps.Length; j++) ps[j] = ps[j].Add(grads[j], -0.01);
            times.Add(sw.Elapsed.TotalSeconds);
            if (i == 200) at200 = ResidentMiB();
        }
        var s = Stats.Of(times);
        h.Emit(name, threads, s, ResidentMiB(), "MiB rss at the end", at200, "MiB rss at step 200");
    }

    /// <summary>VmRSS of this process from /proc/self/status, in MiB (NaN where there is no /proc).</summary>
    static double ResidentMiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return double.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) / 1024.0;
        }
        catch (IOException) { }
        return double.NaN;
    }
}
