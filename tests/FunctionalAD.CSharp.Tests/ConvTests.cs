using FunctionalAD;
using FunctionalAD.Imperative;

namespace FunctionalAD.CSharp.Tests;

public class ConvTests
{
    [Fact]
    public void ConvolutionPoolingAndAttentionAreReachableFromCSharp()
    {
        var x = Tensor.Rand([2, 3, 8, 8], new Generator(1));
        var w = Tensor.Rand([4, 3, 3, 3], new Generator(2));
        Assert.Equal(new[] { 2, 4, 8, 8 }, x.Conv2d(w, padding: [1]).Shape);
        Assert.Equal(new[] { 2, 4, 8, 8 }, x.Conv2d(w, null, null, "same").Shape);
        Assert.Equal(new[] { 2, 3, 4, 4 }, x.MaxPool2d([2]).Shape);
        Assert.Equal(new[] { 2, 3, 10, 10 }, x.Pad([1, 1, 1, 1], PadMode.Reflect).Shape);
        var q = Tensor.Rand([2, 5, 4], new Generator(3));
        Assert.Equal(new[] { 2, 5, 4 }, Tensor.ScaledDotProductAttention(q, q, q, causal: true).Shape);
    }

    [Fact]
    public void TransposedConvolutionAndUpsamplingAreReachableFromCSharp()
    {
        var x = Tensor.Rand([2, 4, 5, 7], new Generator(6));
        var w = Tensor.Rand([4, 3, 3, 3], new Generator(7));
        Assert.Equal(new[] { 2, 6, 10, 14 }, x.ConvTranspose2d(w, stride: [2], padding: [1], outputPadding: [1], groups: 2).Shape);
        Assert.Equal(new[] { 2, 4, 10, 14 }, x.Upsample([2.0]).Shape);
        Assert.Equal(new[] { 2, 4, 3, 9 }, x.Upsample([3, 9], UpsampleMode.Bilinear, alignCorners: true).Shape);
        Assert.Throws<ShapeMismatchException>(() => x.ConvTranspose2d(Tensor.Rand([3, 3, 3, 3], new Generator(8))));
    }

    [Fact]
    public void ConvLayersComposeInSequential()
    {
        var net = new Sequential(
            new Conv2d(1, 4, 3, samePadding: true, seed: 1), Activation.Relu(), Pooling.Max2d(2), Pooling.Flatten(), new Linear(64, 2));
        var y = net.Forward(Tensor.Rand([3, 1, 8, 8], new Generator(4)));
        Assert.Equal(new[] { 3, 2 }, y.Shape);
        var attention = new SelfAttention(8, 2, causal: true, seed: 2);
        Assert.Equal(new[] { 1, 6, 8 }, attention.Forward(Tensor.Rand([1, 6, 8], new Generator(5))).Shape);
        Assert.Equal(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"],
            attention.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Throws<ArgumentException>(() => new SelfAttention(10, 3));
        Assert.Equal(["0.weight", "0.bias", "4.w", "4.b"], net.NamedParameters().Select(p => p.Name).ToArray());
    }
}
