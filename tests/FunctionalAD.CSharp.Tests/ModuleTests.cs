using FunctionalAD;
using FunctionalAD.Imperative;

namespace FunctionalAD.CSharp.Tests;

/// <summary>A user's own layers, written the TorchSharp way: subclass Module, register, override Forward.</summary>
public class ModuleTests
{
    sealed class Residual : Module
    {
        readonly Linear inner;
        readonly Parameter gate;
        public Residual(int n, ulong seed)
        {
            inner = RegisterModule("inner", new Linear(n, n, seed));
            gate = RegisterParameter("gate", Tensor.Full([n], 0.5));
        }
        public override Tensor Forward(Tensor x) => x + inner.Forward(x).Tanh() * gate;
    }

    sealed class MyNet : Module
    {
        readonly Sequential blocks;
        readonly Linear head;
        public MyNet()
        {
            blocks = RegisterModule("block", new Sequential(new Residual(4, 1), new Residual(4, 2)));
            head = RegisterModule("head", new Linear(4, 1, seed: 3));
        }
        public override Tensor Forward(Tensor x) => head.Forward(blocks.Forward(x));
    }

    [Fact]
    public void ASubclassNamesItsParametersHierarchicallyAndTrains()
    {
        var net = new MyNet();
        Assert.Equal(
            ["block.0.gate", "block.0.inner.w", "block.0.inner.b", "block.1.gate", "block.1.inner.w", "block.1.inner.b", "head.w", "head.b"],
            net.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Equal(8, net.Parameters.Count);

        var g = new Generator(7);
        var x = Tensor.Randn([64, 4], g);
        var y = (x.Select(1, 0) * x.Select(1, 1) + x.Select(1, 2).Sin()).Unsqueeze(1);
        var adam = new Adam(net.Parameters, lr: 0.02);
        double first = 0, last = 0;
        for (int i = 0; i < 150; i++)
        {
            adam.ZeroGrad();
            var loss = Loss.Mse(net.Forward(x), y);
            loss.Backward();
            adam.Step();
            if (i == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < first / 3, $"loss {first} -> {last}");
        Assert.All(net.Parameters, p => Assert.NotNull(p.Grad));
        net.ZeroGrad();
        Assert.All(net.Parameters, p => Assert.Null(p.Grad));
    }

    [Fact]
    public void StateDictRoundTripsThroughSafetensorsAndModesPropagate()
    {
        var a = new MyNet();
        var path = Path.Combine(Path.GetTempPath(), $"fad-module-{Guid.NewGuid():N}.safetensors");
        a.Save(path);
        var b = new MyNet();
        b.NamedParameters()[0].Parameter.Value = Tensor.Zeros([4]);
        Assert.True(b.Load(path).IsExact);
        Assert.Equal(a.StateDict().Keys, b.StateDict().Keys);
        foreach (var (name, t) in a.StateDict()) Assert.Equal(t.ToArray<float>(), b.StateDict()[name].ToArray<float>());
        File.Delete(path);

        Assert.True(a.Training);
        a.Eval();
        Assert.False(a.Training);
        Assert.All(a.NamedChildren(), c => Assert.False(c.Module.Training));
        a.Train();
        Assert.True(a.NamedChildren()[0].Module.NamedChildren()[1].Module.Training);
    }

    sealed class BadNames : Module
    {
        public BadNames(string first, string second)
        {
            RegisterParameter(first, Tensor.Zeros([1]));
            RegisterParameter(second, Tensor.Zeros([1]));
        }
        public override Tensor Forward(Tensor x) => x;
    }

    [Fact]
    public void RegistrationRejectsDotsAndRepeatedNames()
    {
        Assert.Contains("'a.b'", Assert.Throws<ArgumentException>(() => new BadNames("ok", "a.b")).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new BadNames("w", "w")).Message);
    }
}
