using System.Diagnostics;

namespace FunctionalAD.Bench;

/// <summary>
/// Network layers, the anchor's wave-2 rows: fad_conv2d_f32_b32_c64_32x32_k3 (_fwd, _fwd+bwd),
/// fad_cnn_mnist_b64_sgd_step and fad_attention_f32_b8_h8_s256_d64 (_fwd, _fwd+bwd), same shapes, sizes in --quick
/// mode, losses and metrics as torch_* in ../shared/anchors/torchsharp/Anchor/Layers.cs.
/// </summary>
static class LayerCases
{
    public static void Run(Harness h, int threads)
    {
        Conv2d(h, threads);
        Cnn(h, threads);
        Attention(h, threads);
    }

    /// <summary>conv2d 3x3, padding 1, x [32,64,32,32], w [64,64,3,3], bias [64]; fwd+bwd: gradients of x, w and b of
    /// sum(y). GFLOP/s counts 2·N·Cout·Cin·9·H·W (3x that for fwd+bwd), as the anchor does.</summary>
    static void Conv2d(Harness h, int threads)
    {
        const string name = "fad_conv2d_f32_b32_c64_32x32_k3";
        if (!h.Enabled(name)) return;
        int n = h.Quick ? 4 : 32, c = h.Quick ? 8 : 64, hw = h.Quick ? 8 : 32;
        var g = new Generator(1);
        var x = Tensor.Randn([n, c, hw, hw], g);
        var w = Tensor.Randn([c, c, 3, 3], g) * 0.05;
        var b = Tensor.Zeros([c], DType.Float32);
        int[] pad = [1, 1];
        double flops = 2.0 * n * c * c * 9 * hw * hw;
        if (h.Enabled(name + "_fwd"))
        {
            var sf = h.Measure(() => x.Conv2d(w, b, padding: pad));
            h.Emit(name + "_fwd", threads, sf, flops / sf.Median / 1e9, "GFLOP/s");
        }
        if (h.Enabled(name + "_fwd+bwd"))
        {
            var sb = h.Measure(() => Transform.ValueAndGrad(p => p[0].Conv2d(p[1], p[2], padding: pad).Sum(), x, w, b));
            h.Emit(name + "_fwd+bwd", threads, sb, 3 * flops / sb.Median / 1e9, "GFLOP/s");
        }
    }

    /// <summary>Weights uniform in ±1/√fanIn, as torch.nn.Conv2d and nn.Linear initialise them.</summary>
    static Tensor Uniform(int[] shape, int fanIn, Generator g) => (Tensor.Rand(shape, g) * 2.0 - 1.0) / Math.Sqrt(fanIn);

    /// <summary>One SGD step (lr 0.01) of the classic MNIST CNN on a batch of 64 random 1x28x28 images: conv(1->32,3)
    /// relu maxpool2 conv(32->64,3) relu maxpool2 flatten linear(1600->128) relu linear(128->10), cross-entropy;
    /// median of 60 timed steps after the warm-up.</summary>
    static void Cnn(Harness h, int threads)
    {
        const string name = "fad_cnn_mnist_b64_sgd_step";
        if (!h.Enabled(name)) return;
        var g = new Generator(1);
        Tensor[] ps =
        [
            Uniform([32, 1, 3, 3], 9, g), Uniform([32], 9, g),
            Uniform([64, 32, 3, 3], 288, g), Uniform([64], 288, g),
            Uniform([128, 1600], 1600, g), Uniform([128], 1600, g),
            Uniform([10, 128], 128, g), Uniform([10], 128, g),
        ];
        var x = Tensor.Randn([64, 1, 28, 28], g);
        var target = Tensor.Randint(0, 10, [64], g).OneHot(10);
        int[] two = [2, 2];
        Tensor Loss(Tensor[] p)
        {
            var a = x.Conv2d(p[0], p[1]).Relu().MaxPool2d(two);
            a = a.Conv2d(p[2], p[3]).Relu().MaxPool2d(two);
            var hidden = (a.Reshape(64, 1600).MatMul(p[4].T) + p[5]).Relu();
            var logits = hidden.MatMul(p[6].T) + p[7];
            return -(logits.LogSoftmax(-1) * target).Sum() / 64.0; // cross-entropy, mean over the batch
        }
        int warm = h.Quick ? 2 : 10, steps = h.Quick ? 5 : 60;
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
            for (int k = 0; k < ps.Length; k++) ps[k] = ps[k].Add(grads[k], -0.01); // p - lr·g in one pass, as torch.optim.SGD
            double e = sw.Elapsed.TotalSeconds;
            if (!warming) { times.Add(e); done++; }
            if (i == 0) first = loss.Item();
            if (done == steps) last = loss.Item();
        }
        Console.Error.WriteLine($"# cnn loss {first:F4} -> {last:F4}");
        var s = Stats.Of(times);
        h.Emit(name, threads, s, s.Median * 1e6, "us/step", 64 / s.Median, "samples/s");
    }

    /// <summary>Scaled dot-product attention, q, k, v [8, 8, 256, 64] (f32); fwd+bwd: gradients of q, k and v of
    /// sum(out). Metric: ms per call. The same with the causal mask: fad_attention_causal_f32_b8_h8_s256_d64.</summary>
    static void Attention(Harness h, int threads)
    {
        Attention(h, threads, "fad_attention_f32_b8_h8_s256_d64", causal: false);
        Attention(h, threads, "fad_attention_causal_f32_b8_h8_s256_d64", causal: true);
    }

    static void Attention(Harness h, int threads, string name, bool causal)
    {
        if (!h.Enabled(name)) return;
        int b = h.Quick ? 2 : 8, heads = h.Quick ? 2 : 8, s = h.Quick ? 16 : 256, d = h.Quick ? 8 : 64;
        var g = new Generator(2);
        var q = Tensor.Randn([b, heads, s, d], g);
        var k = Tensor.Randn([b, heads, s, d], g);
        var v = Tensor.Randn([b, heads, s, d], g);
        if (h.Enabled(name + "_fwd"))
        {
            var sf = h.Measure(() => Tensor.ScaledDotProductAttention(q, k, v, causal: causal));
            h.Emit(name + "_fwd", threads, sf, sf.Median * 1e3, "ms");
        }
        if (h.Enabled(name + "_fwd+bwd"))
        {
            var sb = h.Measure(() => Transform.ValueAndGrad(p => Tensor.ScaledDotProductAttention(p[0], p[1], p[2], causal: causal).Sum(), q, k, v));
            h.Emit(name + "_fwd+bwd", threads, sb, sb.Median * 1e3, "ms");
        }
    }
}
