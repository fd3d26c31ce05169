using FunctionalAD;
using FunctionalAD.Imperative;

namespace FunctionalAD.CSharp.Tests;

/// <summary>NAdam, parameter groups and ReduceLROnPlateau against values worked out by hand from PyTorch's
/// definitions (torch.optim.NAdam, param_groups, lr_scheduler.ReduceLROnPlateau).</summary>
public class OptimizerTests
{
    static Parameter Scalar(string name, double v) => new(name, Tensor.FromArray(new[] { v }));

    [Fact]
    public void NAdamMatchesPyTorchsFormula()
    {
        // p = 1, g = 0.5, lr 0.1: μ₁ = 0.9(1 - 0.5·0.96^0.004) = 0.4500735, μ₂ = 0.4501469, m = 0.05, v̂ = 0.25;
        // p - 0.1·(1-μ₁)/(1-μ₁)·0.5/0.5 - 0.1·μ₂/(1-μ₁μ₂)·0.05/0.5 = 1 - 0.1 - 0.0056452 = 0.8943548
        var p = Scalar("p", 1.0);
        var nadam = new NAdam([p], lr: 0.1);
        p.Grad = Tensor.FromArray(new[] { 0.5 });
        nadam.Step();
        Assert.Equal(0.8943548242773647, p.Value.Item(), 12);
        p.Grad = Tensor.FromArray(new[] { -0.25 });
        nadam.Step();
        Assert.Equal(0.9354657961611363, p.Value.Item(), 12);

        // with weight decay 0.1 (added to the gradient)
        var q = Scalar("q", 1.0);
        var decayed = new NAdam([q], lr: 0.1, weightDecay: 0.1);
        q.Grad = Tensor.FromArray(new[] { 0.5 });
        decayed.Step();
        q.Grad = Tensor.FromArray(new[] { -0.25 });
        decayed.Step();
        Assert.Equal(0.9152888320095774, q.Value.Item(), 12);
    }

    [Fact]
    public void ParameterGroupsHaveTheirOwnLearningRateAndWeightDecay()
    {
        var body = Scalar("body", 1.0);
        var head = Scalar("head", 1.0);
        var sgd = new Sgd([new ParameterGroup([body]), new ParameterGroup([head], learningRate: 0.5, weightDecay: 1.0)], lr: 0.1);
        Assert.Equal(0.1, sgd.Groups[0].LearningRate);
        Assert.Equal(0.0, sgd.Groups[0].WeightDecay);
        Assert.Equal(0.5, sgd.Groups[1].LearningRate);
        body.Grad = Tensor.FromArray(new[] { 2.0 });
        head.Grad = Tensor.FromArray(new[] { 2.0 });
        sgd.Step();
        Assert.Equal(1.0 - 0.1 * 2.0, body.Value.Item(), 12);            // p - lr·g
        Assert.Equal(1.0 - 0.5 * (2.0 + 1.0 * 1.0), head.Value.Item(), 12); // p - lr·(g + wd·p)
        Assert.Throws<ArgumentException>(() => new Sgd([new ParameterGroup([body]), new ParameterGroup([body])], lr: 0.1));
        Assert.Throws<ArgumentException>(() => new ParameterGroup([head], learningRate: -1));
    }

    [Fact]
    public void ReduceLROnPlateauFollowsPyTorch()
    {
        // threshold 0.1 (rel): better means < 0.9·best. 10 best; 9.5, 9.2 bad → 2 > patience 1: lr 0.5, cooldown 1;
        // 9.1 bad but in cooldown (reset); 9.0 (not < 9.0) bad 1; 9.05 bad 2 → lr 0.25; 5.0 improves.
        var p = Scalar("p", 1.0);
        var sgd = new Sgd([new ParameterGroup([p]), new ParameterGroup([Scalar("q", 0)], learningRate: 0.1)], lr: 1.0);
        var plateau = new ReduceLROnPlateau(sgd, factor: 0.5, patience: 1, threshold: 0.1, cooldown: 1);
        var seen = new List<double>();
        foreach (var metric in new[] { 10, 9.5, 9.2, 9.1, 9.0, 9.05, 5.0 })
        {
            plateau.Step(metric);
            seen.Add(sgd.Groups[0].LearningRate);
        }
        Assert.Equal([1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25], seen);
        Assert.Equal(0.025, sgd.Groups[1].LearningRate, 12);
        Assert.Equal(5.0, plateau.State.Best);

        // minLr floors the rate; the pure rule gives the same sequence
        var rule = new Plateau { Factor = 0.5, Patience = 0, MinLr = 0.3 };
        var state = rule.Start(1.0);
        var rates = new List<double>();
        foreach (var metric in new[] { 10.0, 11, 12, 13 })
        {
            state = rule.Step(state, metric);
            rates.Add(state.LearningRate);
        }
        Assert.Equal([1.0, 0.5, 0.3, 0.3], rates);
        Assert.Throws<ArgumentException>(() => new Plateau { Factor = 1.0 }.Start(1.0));
    }

    [Fact]
    public void ACheckpointOfModuleAndOptimizerResumesExactly()
    {
        var x = Tensor.Randn([16, 3], new Generator(1));
        var y = x.Sum(1, keepDim: true);
        void Train(Module m, ParameterOptimizer o, int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                o.ZeroGrad();
                Loss.Mse(m.Forward(x), y).Backward();
                o.Step();
            }
        }
        var dir = Path.Combine(Path.GetTempPath(), $"fad-ckpt-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var a = new Linear(3, 1, seed: 4);
        var adam = new Adam([new ParameterGroup([a.W]), new ParameterGroup([a.B], learningRate: 0.05)], lr: 0.01);
        Train(a, adam, 5);
        a.Save(Path.Combine(dir, "model.safetensors"));
        adam.Save(Path.Combine(dir, "optimizer.safetensors"));
        Train(a, adam, 5);

        var b = new Linear(3, 1, seed: 9);
        var resumed = new Adam([new ParameterGroup([b.W]), new ParameterGroup([b.B])], lr: 0.01);
        b.Load(Path.Combine(dir, "model.safetensors"));
        resumed.Load(Path.Combine(dir, "optimizer.safetensors"));
        Assert.Equal(0.05, resumed.Groups[1].LearningRate);
        Assert.Equal(5, resumed.StepsOf(b.W));
        Train(b, resumed, 5);
        Assert.Equal(a.W.Value.ToArray<float>(), b.W.Value.ToArray<float>());
        Assert.Equal(a.B.Value.ToArray<float>(), b.B.Value.ToArray<float>());

        var e = Assert.Throws<ArgumentException>(() => new Sgd(b.Parameters, 0.1).Load(Path.Combine(dir, "optimizer.safetensors")));
        Assert.Contains("AdamRule", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void GradientClippingFollowsPyTorch()
    {
        var a = Scalar("a", 0);
        var b = Scalar("b", 0);
        a.Grad = Tensor.FromArray(new[] { 3.0 });
        b.Grad = Tensor.FromArray(new[] { 4.0 });
        var norm = new[] { a, b }.ClipGradNorm(1.0);
        Assert.Equal(5.0, norm, 12);
        Assert.Equal(3.0 / (5.0 + 1e-6), a.Grad!.Item(), 12);                      // g·maxNorm/(norm + 1e-6)
        new[] { a, b }.ClipGradValue(0.5);
        Assert.Equal(0.5, b.Grad!.Item(), 12);
        Assert.Throws<ArgumentException>(() => new[] { a }.ClipGradNorm(0));
    }
}
