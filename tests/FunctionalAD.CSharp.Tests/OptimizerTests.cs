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
}
