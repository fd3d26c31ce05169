using System.Diagnostics;

namespace FunctionalAD.Bench;

/// <summary>
/// Training loops written the functional way: Transform.ValueAndGrad over the parameter tensors, then SGD returning
/// new parameters. fad_mlp_784_256_10_b64_sgd_step and fad_linreg_1000pts_1000epochs_total.
/// </summary>
static class TrainingCases
{
    public static void Run(Harness h, int threads)
    {
        Mlp(h, threads);
        LinReg(h, threads);
    }

    /// <summary>Weights uniform in ±1/√fanIn, as torch.nn.Linear initialises them.</summary>
    static Tensor Uniform(int[] shape, int fanIn, Generator g) => (Tensor.Rand(shape, g) * 2.0 - 1.0) / Math.Sqrt(fanIn);

    /// <summary>One step of the library's SGD rule (the anchor steps torch.optim.SGD): p - lr·g in one pass.</summary>
    static Tensor[] Sgd(Tensor[] ps, Tensor[] gs, double lr)
    {
        var rule = new SgdRule { LearningRate = lr };
        var r = new Tensor[ps.Length];
        for (int i = 0; i < ps.Length; i++) r[i] = rule.Update(ps[i], gs[i], [], 0);
        return r;
    }

    static void Mlp(Harness h, int threads)
    {
        const string name = "fad_mlp_784_256_10_b64_sgd_step";
        if (!h.Enabled(name)) return;
        var g = new Generator(1);
        Tensor[] ps = [Uniform([256, 784], 784, g), Uniform([256], 784, g), Uniform([10, 256], 256, g), Uniform([10], 256, g)];
        var x = Tensor.Randn([64, 784], g);
        var target = Tensor.Randint(0, 10, [64], g).OneHot(10);
        Tensor Loss(Tensor[] p)
        {
            var hidden = (x.MatMul(p[0].T) + p[1]).Relu();
            var logits = hidden.MatMul(p[2].T) + p[3];
            return -(logits.LogSoftmax(-1) * target).Sum() / 64.0; // cross-entropy, mean over the batch
        }
        int warm = h.Quick ? 5 : 20, steps = h.Quick ? 20 : 200;
        var times = new List<double>(steps);
        double first = double.NaN, last = double.NaN;
        Harness.Settle();
        var sw = new Stopwatch();
        var since = Stopwatch.StartNew();
        for (int i = 0, done = 0; done < steps; i++)
        {
            bool warming = i < warm || since.Elapsed.TotalSeconds < h.WarmSeconds;
            if (!warming && done == 0) h.BeginProbe();
            sw.Restart();
            var (loss, grads) = Transform.ValueAndGrad(Loss, ps);
            ps = Sgd(ps, grads, 0.01);
            double e = sw.Elapsed.TotalSeconds;
            if (!warming) { times.Add(e); done++; }
            if (i == 0) first = loss.Item();
            if (done == steps) last = loss.Item();
        }
        Console.Error.WriteLine($"# mlp loss {first:F4} -> {last:F4}");
        var s = Stats.Of(times);
        h.Emit(name, threads, s, s.Median * 1e6, "us/step", 64 / s.Median, "samples/s");
    }

    static void LinReg(Harness h, int threads)
    {
        const string name = "fad_linreg_1000pts_1000epochs_total";
        if (!h.Enabled(name)) return;
        var g = new Generator(0);
        var xs = Tensor.Randn([1000, 1], g);
        var ys = xs * 3.0 + 2.0 + Tensor.Randn([1000, 1], g) * 0.1;
        int epochs = h.Quick ? 100 : 1000;
        Tensor Loss(Tensor[] p) => (xs.MatMul(p[0].T) + p[1] - ys).Square().Mean(); // nn.Linear(1,1) + MSELoss
        var times = new List<double>();
        Tensor[] ps = [];
        Harness.Settle();
        var since = Stopwatch.StartNew();
        for (int r = 0, timed = 0; timed < h.Reps; r++)
        {
            bool warm = h.Warming(r, since);
            if (!warm && timed == 0) h.BeginProbe();
            ps = [Uniform([1, 1], 1, g), Uniform([1], 1, g)];
            var sw = Stopwatch.StartNew();
            for (int e = 0; e < epochs; e++) ps = Sgd(ps, Transform.ValueAndGrad(Loss, ps).Gradients, 0.01);
            double el = sw.Elapsed.TotalSeconds;
            if (!warm) { times.Add(el); timed++; }
        }
        Console.Error.WriteLine($"# linreg fitted w={ps[0].Item():F4} b={ps[1].Item():F4} (true 3, 2)");
        var s = Stats.Of(times);
        h.Emit(name, threads, s, s.Median / epochs * 1e6, "us/epoch");
    }
}
