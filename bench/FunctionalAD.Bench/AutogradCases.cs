using System.Diagnostics;

namespace FunctionalAD.Bench;

/// <summary>
/// Reverse-mode overhead: fad_autograd_sum_sinx_x_1M (one big vector, few ops) and fad_tape_scalar_10000it (many
/// 0-D ops). Forward time is taken at the end of the differentiated function, backward is the rest of the call.
/// </summary>
static class AutogradCases
{
    public static void Run(Harness h, int threads)
    {
        SumSinX(h, threads);
        TapeScalar(h, threads);
    }

    static void SumSinX(Harness h, int threads)
    {
        const string name = "fad_autograd_sum_sinx_x_1M";
        if (!h.Enabled(name)) return;
        int n = h.Quick ? 10_000 : 1_000_000;
        var x = Tensor.Rand([n], new Generator(7));
        var (fwd, bwd, tot) = (new List<double>(), new List<double>(), new List<double>());
        var sw = new Stopwatch();
        double t1 = 0;
        Harness.Settle();
        var since = Stopwatch.StartNew();
        for (int r = 0, timed = 0; timed < h.Reps; r++)
        {
            bool warm = h.Warming(r, since);
            if (!warm && timed == 0) h.BeginProbe();
            sw.Restart();
            var (_, grads) = Transform.ValueAndGrad(xs =>
            {
                var loss = (xs[0].Sin() * xs[0]).Sum();
                t1 = sw.Elapsed.TotalSeconds;
                return loss;
            }, x);
            double t2 = sw.Elapsed.TotalSeconds;
            if (r == 0) CheckGrad(x, grads[0]);
            if (!warm) { fwd.Add(t1); bwd.Add(t2 - t1); tot.Add(t2); timed++; }
        }
        var st = Stats.Of(tot); h.Emit(name + "_fwd+bwd", threads, st, st.Median / n * 1e9, "ns/elem");
        var sf = Stats.Of(fwd); h.Emit(name + "_fwd", threads, sf, sf.Median / n * 1e9, "ns/elem");
        var sb = Stats.Of(bwd); h.Emit(name + "_bwd", threads, sb, sb.Median / n * 1e9, "ns/elem");
    }

    /// <summary>d/dx sum(sin(x)·x) = cos(x)·x + sin(x).</summary>
    static void CheckGrad(Tensor x, Tensor g)
    {
        var expect = x.Cos() * x + x.Sin();
        double err = (g - expect).Abs().Max().Item();
        if (err > 1e-4) Console.Error.WriteLine($"# WARNING autograd check max err {err}");
    }

    static void TapeScalar(Harness h, int threads)
    {
        int iters = h.Quick ? 1000 : 10_000;
        const int opsPerIter = 3; // mul, sin, add
        string name = $"fad_tape_scalar_{iters}it";
        if (!h.Enabled("fad_tape")) return;
        var x = Tensor.Scalar(0.5f);
        var one = Tensor.Scalar(1.0f);
        var (fwd, bwd) = (new List<double>(), new List<double>());
        var sw = new Stopwatch();
        double t1 = 0;
        Harness.Settle();
        var since = Stopwatch.StartNew();
        for (int r = 0, timed = 0; timed < h.Reps; r++)
        {
            bool warm = h.Warming(r, since);
            if (!warm && timed == 0) h.BeginProbe();
            sw.Restart();
            var g = Transform.Grad(xv =>
            {
                var y = one;
                for (int i = 0; i < iters; i++) y = y * xv + y.Sin();
                t1 = sw.Elapsed.TotalSeconds;
                return y;
            }, x);
            double t2 = sw.Elapsed.TotalSeconds;
            if (r == 0 && (g.Rank != 0 || double.IsNaN(g.Item()))) Console.Error.WriteLine("# WARNING tape: gradient not a 0-D number");
            if (!warm) { fwd.Add(t1); bwd.Add(t2 - t1); timed++; }
        }
        var sf = Stats.Of(fwd); h.Emit(name + "_fwd", threads, sf, sf.Median / (iters * opsPerIter) * 1e6, "us/op", sf.Median / iters * 1e6, "us/iter");
        var sb = Stats.Of(bwd); h.Emit(name + "_bwd", threads, sb, sb.Median / (iters * opsPerIter) * 1e6, "us/op", sb.Median / iters * 1e6, "us/iter");
    }
}
