using FunctionalAD;
using FunctionalAD.Imperative;

namespace FunctionalAD.CSharp.Tests;

public class FacadeTests
{
    static (Tensor X, Tensor Y) Data()
    {
        var g = new Generator(5);
        var x = Tensor.Rand([200, 1], g) * 2.0 - 1.0;
        return (x, 3.0 * x + 2.0 + 0.05 * Tensor.Randn([200, 1], g));
    }

    [Fact]
    public void ImperativeLinearRegressionRecoversTheLine()
    {
        var (x, y) = Data();
        var model = new Linear(1, 1, seed: 1);
        var opt = new Sgd(model.Parameters, lr: 0.1);
        for (int epoch = 0; epoch < 300; epoch++)
        {
            opt.ZeroGrad();
            var loss = Loss.Mse(model.Forward(x), y);
            loss.Backward();
            opt.Step();
        }
        var named = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Assert.Equal(3.0, named["w"].Value.Item(), 1);
        Assert.Equal(2.0, named["b"].Value.Item(), 1);
        Assert.NotNull(named["w"].Grad);
    }

    [Fact]
    public void TheImperativeStepIsTheRuleAppliedByHand()
    {
        // one RMSProp step of the optimizer equals the rule applied to the same value and gradient
        var (x, y) = Data();
        var model = new Linear(1, 1, seed: 2);
        var rule = new RmsPropRule { LearningRate = 0.01 };
        var w0 = model.W.Value;
        var shell = new ParameterOptimizer(model.Parameters, rule);
        shell.ZeroGrad();
        Loss.Mse(model.Forward(x), y).Backward();
        var g = model.W.Grad!;
        shell.Step();
        var expected = rule.Update(w0, g, [Tensor.ZerosLike(w0)], step: 0);
        Assert.Same(rule, shell.Rule);
        Assert.Equal(expected.Item(), model.W.Value.Item(), 6);
        Assert.NotEqual(w0.Item(), model.W.Value.Item());
        Assert.Equal(1, shell.StepsOf(model.W));
    }

    [Fact]
    public void SequentialNamesParametersByPositionAndAdamTrains()
    {
        var net = new Sequential(new Linear(2, 8, seed: 3), Activation.Tanh(), new Linear(8, 1, seed: 4));
        Assert.Equal(["0.w", "0.b", "2.w", "2.b"], net.NamedParameters().Select(p => p.Name).ToArray());
        var x = Tensor.Randn([64, 2], new Generator(1));
        var y = (x.Select(1, 0) * x.Select(1, 1)).Unsqueeze(1);
        var adam = new Adam(net.Parameters, 0.05);
        double first = 0, last = 0;
        for (int i = 0; i < 200; i++)
        {
            adam.ZeroGrad();
            var loss = Loss.Mse(net.Forward(x), y);
            loss.Backward();
            adam.Step();
            if (i == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < first / 5, $"loss {first} -> {last}");
    }

    [Fact]
    public void LossesAndReductions()
    {
        var logits = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 1.0, 0.0, -1.0 }, 2, 3);
        Assert.Equal(0.4076059644, Loss.CrossEntropy(logits, Tensor.FromArray(new[] { 2L, 0L })).Item(), 9);
        Assert.Equal(2.0, Loss.L1(Tensor.FromArray(new[] { 1.0, -1.0 }), Tensor.Zeros([2], DType.Float64), LossReduction.Sum).Item());
        Assert.Equal([2], Loss.Mse(Tensor.FromArray(new[] { 1.0, 2.0 }), Tensor.Zeros([2], DType.Float64), LossReduction.None).Shape);
        var e = Assert.Throws<ShapeMismatchException>(() => Loss.Mse(Tensor.Zeros([2]), Tensor.Zeros([3])));
        Assert.Contains("mse", e.Message);
    }

    [Fact]
    public void EverydayLossesAndCrossEntropyOptionsFromCSharp()
    {
        var logits = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 1.0, 0.0, -1.0 }, 2, 3);
        var classes = Tensor.FromArray(new[] { 2L, 0L });
        // no options: the plain cross-entropy
        Assert.Equal(0.4076059644, Loss.CrossEntropy(logits, classes, weight: null).Item(), 9);
        // the second target ignored: only the first sample counts
        var first = Loss.CrossEntropy(logits, Tensor.FromArray(new[] { 2L, -100L }), weight: null, ignoreIndex: -100).Item();
        Assert.Equal(-(3.0 - Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3))), first, 9);
        Assert.Equal((0.125 + 1.5) / 2, Loss.Huber(Tensor.FromArray(new[] { 0.5, 2.0 }), Tensor.Zeros([2], DType.Float64)).Item(), 12);
        Assert.Throws<ArgumentException>(() => Loss.Huber(Tensor.Zeros([1]), Tensor.Zeros([1]), delta: 0));
    }

    [Fact]
    public void LearningRatesCanChangeBetweenSteps()
    {
        var p = new Parameter("w", Tensor.FromArray(new[] { 1.0 }));
        var sgd = new Sgd([p], 0.5);
        p.Grad = Tensor.FromArray(new[] { 1.0 });
        sgd.Step();                                   // lr 0.5
        sgd.Groups[0].LearningRate = 0.25;
        sgd.Step();                                   // lr 0.25
        Assert.Equal(0.25, p.Value.Item(), 12);
        // a parameter without a gradient is skipped, as in PyTorch
        p.Grad = null;
        sgd.Step();
        Assert.Equal(0.25, p.Value.Item(), 12);
    }
}
