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
    public void FunctionalStyleMatchesTheImperativeOne()
    {
        var (x, y) = Data();
        var model = new Linear(1, 1, seed: 1);
        var p = model.Init(1);
        var rule = Optim.Sgd(0.1);
        var state = Optim.Init(rule, p);
        for (int epoch = 0; epoch < 300; epoch++)
        {
            var g = Optim.Grad(q => Loss.Mse(model.Apply(q, x), y), p);
            (p, state) = Optim.Step(rule, state, p, g);
        }
        Assert.Equal(300, state.Step);

        var imperative = new Linear(1, 1, seed: 1);
        var sgd = new Sgd(imperative.Parameters, 0.1);
        for (int epoch = 0; epoch < 300; epoch++)
        {
            sgd.ZeroGrad();
            Loss.Mse(imperative.Forward(x), y).Backward();
            sgd.Step();
        }
        Assert.Equal(p["w"].Item(), imperative.Params["w"].Item(), 6);
        Assert.Equal(p["b"].Item(), imperative.Params["b"].Item(), 6);
    }

    [Fact]
    public void SequentialNamesParametersByPositionAndAdamTrains()
    {
        var net = new Sequential(seed: 3, new Linear(2, 8), Activation.Tanh(), new Linear(8, 1));
        Assert.Equal(["0.b", "0.w", "2.b", "2.w"], net.NamedParameters().Select(p => p.Name).ToArray());
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
    public void ParameterOptimizerStepsWithAnyOptimizerValue()
    {
        // the imperative shell and the functional rule are the same update: one step each from the same start
        var (x, y) = Data();
        var model = new Linear(1, 1, seed: 2);
        var optimizer = Optim.RmsProp(0.01);
        var p = model.Params;
        var g = Optim.Grad(q => Loss.Mse(model.Apply(q, x), y), p);
        var expected = Optim.Step(optimizer, Optim.Init(optimizer, p), p, g).Params;

        var shell = new ParameterOptimizer(model.Parameters, optimizer);
        shell.ZeroGrad();
        Loss.Mse(model.Forward(x), y).Backward();
        shell.Step();
        Assert.Same(optimizer, shell.Rule);
        Assert.Equal(expected["w"].Item(), model.Params["w"].Item(), 6);
        Assert.Equal(expected["b"].Item(), model.Params["b"].Item(), 6);
        Assert.NotEqual(p["w"].Item(), model.Params["w"].Item());
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
    public void SchedulesAndParamsAreUsableFromCSharp()
    {
        var rule = Optim.Sgd(1.0).WithSchedule(step => 0.5 / (step + 1));
        var p = Params.Create([new("w", Tensor.FromArray(new[] { 1.0 }))]);
        var s = Optim.Init(rule, p);
        var g = Params.Create([new("w", Tensor.FromArray(new[] { 1.0 }))]);
        (p, s) = Optim.Step(rule, s, p, g);   // lr 0.5
        (p, s) = Optim.Step(rule, s, p, g);   // lr 0.25
        Assert.Equal(0.25, p["w"].Item(), 12);
        Assert.Equal(["w"], p.Names);
        Assert.True(p.ToDictionary().ContainsKey("w"));
    }
}
