using FunctionalAD;
using FunctionalAD.Imperative;

namespace FunctionalAD.CSharp.Tests;

/// <summary>The layers with a mode or state (batch norm, dropout), the recurrent layers, the transformer block and
/// the transposed convolution, as C# Modules: Train()/Eval() switch them the PyTorch way.</summary>
public class StatefulLayerTests
{
    static double[] D(Tensor t) => t.ToDoubleArray();

    [Fact]
    public void BatchNormUsesBatchStatisticsInTrainingAndRunningOnesInEvaluation()
    {
        var bn = new BatchNorm1d(2);
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f, 6f }, [2, 2]);
        var y = bn.Forward(x);
        // per channel: mean (2, 4), biased variance (1, 4): normalised to ∓1
        Assert.Equal(new[] { -1.0, -1.0, 1.0, 1.0 }, D(y).Select(v => Math.Round(v, 3)).ToArray());
        // running = 0.9·initial + 0.1·batch (unbiased variance 2 and 8)
        Assert.Equal(new[] { 0.2, 0.4 }, D(bn.RunningMean).Select(v => Math.Round(v, 6)).ToArray());
        Assert.Equal(new[] { 1.1, 1.7 }, D(bn.RunningVar).Select(v => Math.Round(v, 6)).ToArray());
        bn.Eval();
        var y2 = bn.Forward(x);
        double expected = (1 - 0.2) / Math.Sqrt(1.1 + 1e-5);
        Assert.Equal(expected, D(y2)[0], 5);
        Assert.Equal(new[] { 0.2, 0.4 }, D(bn.RunningMean).Select(v => Math.Round(v, 6)).ToArray()); // unchanged in eval
        // the running statistics are buffers: saved with the parameters, not handed to optimizers
        Assert.Equal(["weight", "bias", "running_mean", "running_var"], bn.StateDict().Keys.ToArray());
        Assert.Equal(2, bn.Parameters.Count);
    }

    [Fact]
    public void BuffersRoundTripThroughTheStateDictAndStrictLoadingListsThem()
    {
        var a = new BatchNorm2d(3);
        a.Forward(Tensor.Randn([4, 3, 2, 2], new Generator(1)));
        var b = new BatchNorm2d(3);
        Assert.True(b.LoadStateDict(a.StateDict()).IsExact);
        Assert.Equal(D(a.RunningVar), D(b.RunningVar));
        var partial = a.StateDict().Where(kv => kv.Key != "running_var").ToDictionary(kv => kv.Key, kv => kv.Value);
        var e = Assert.Throws<ModuleLoadException>(() => new BatchNorm2d(3).LoadStateDict(partial));
        Assert.Contains("running_var", e.Message);
    }

    [Fact]
    public void BatchNormRefusesTheWrongRankOrChannelsByName()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => new BatchNorm2d(3).Forward(Tensor.Zeros([2, 3, 4])));
        Assert.Contains("BatchNorm2d", e.Message);
        Assert.Contains("[N, C, H, W]", e.Message);
        Assert.Throws<ShapeMismatchException>(() => new BatchNorm1d(3).Forward(Tensor.Zeros([2, 4])));
        Assert.Throws<ArgumentException>(() => new GroupNorm(3, 4));
    }

    [Fact]
    public void DropoutIsTheIdentityInEvaluationAndKeepsTheExpectationInTraining()
    {
        var d = new Dropout(0.25, seed: 3);
        var x = Tensor.Ones([20_000]);
        var y = D(d.Forward(x));
        double zeros = y.Count(v => v == 0) / (double)y.Length;
        Assert.InRange(zeros, 0.23, 0.27);
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1 / 0.75, v, 6));
        Assert.InRange(y.Average(), 0.97, 1.03);
        d.Eval();
        Assert.Equal(D(x), D(d.Forward(x)));
    }

    [Fact]
    public void LstmAndGruRunTheCoreRecurrencesAndBackpropagateIntoTheirWeights()
    {
        var x = Tensor.Randn([2, 5, 3], new Generator(4));
        var lstm = new Lstm(3, 4, seed: 1);
        var y = lstm.Forward(x);
        Assert.Equal([2, 5, 4], y.Shape);
        var zero = Tensor.Zeros([2, 4]);
        var reference = Tensor.Lstm(x, zero, zero, lstm.WeightIh.Value, lstm.WeightHh.Value, lstm.BiasIh.Value, lstm.BiasHh.Value).Output;
        Assert.Equal(D(reference), D(y));
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], lstm.NamedParameters().Select(p => p.Name).ToArray());
        y.Sum().Backward();
        Assert.All(lstm.Parameters, p => Assert.NotNull(p.Grad));

        var gru = new Gru(3, 4, seed: 2);
        var (outputs, h) = gru.Run(x, zero);
        Assert.Equal([2, 5, 4], outputs.Shape);
        Assert.Equal(D(outputs.Select(1, 4)), D(h)); // the last output is the final state
    }

    [Fact]
    public void ACausalTransformerBlockIgnoresLaterPositions()
    {
        var block = new TransformerBlock(8, 2, 16, causal: true, seed: 5);
        var g = new Generator(6);
        var x = Tensor.Randn([1, 4, 8], g);
        var changed = Tensor.Concat([x.Narrow(1, 0, 2), Tensor.Randn([1, 2, 8], g)], 1);
        var a = block.Forward(x).Narrow(1, 0, 2);
        var b = block.Forward(changed).Narrow(1, 0, 2);
        Assert.Equal(D(a).Select(v => Math.Round(v, 5)), D(b).Select(v => Math.Round(v, 5)));
        Assert.Throws<ArgumentException>(() => new TransformerBlock(10, 3, 16));
    }

    /// <summary>A small autoencoder a user would write: conv, batch norm, dropout, then a transposed convolution
    /// back to the input's size.</summary>
    sealed class AutoEncoder : Module
    {
        readonly Conv2d down;
        readonly BatchNorm2d norm;
        readonly Dropout drop;
        readonly ConvTranspose2d up;
        public AutoEncoder()
        {
            down = RegisterModule("down", new Conv2d(1, 4, 3, stride: 2, padding: 1, seed: 1));
            norm = RegisterModule("norm", new BatchNorm2d(4));
            drop = RegisterModule("drop", new Dropout(0.1, seed: 2));
            up = RegisterModule("up", new ConvTranspose2d(4, 1, 3, stride: 2, padding: 1, outputPadding: 1, seed: 3));
        }
        public override Tensor Forward(Tensor x) => up.Forward(drop.Forward(norm.Forward(down.Forward(x)).Relu()));
    }

    [Fact]
    public void ASubclassWithBatchNormDropoutAndTransposedConvolutionTrains()
    {
        var net = new AutoEncoder();
        var x = Tensor.Rand([8, 1, 8, 8], new Generator(9));
        Assert.Equal([8, 1, 8, 8], net.Forward(x).Shape);
        var adam = new Adam(net.Parameters, lr: 0.02);
        double first = 0, last = 0;
        for (int i = 0; i < 60; i++)
        {
            adam.ZeroGrad();
            var loss = Loss.Mse(net.Forward(x), x);
            loss.Backward();
            adam.Step();
            if (i == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < first / 2, $"loss {first} -> {last}");
        net.Eval();
        Assert.Equal(D(net.Forward(x)), D(net.Forward(x))); // deterministic in evaluation
        Assert.Contains("norm.running_mean", net.StateDict().Keys);
    }
}
