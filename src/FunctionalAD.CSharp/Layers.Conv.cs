namespace FunctionalAD.Imperative;

// C#'s spelling of the F# convolution, pooling and attention layers (nn.conv2dWith, nn.maxPool2d, nn.flatten,
// nn.selfAttention); nothing is reimplemented.

/// <summary>2-D convolution layer, PyTorch's nn.Conv2d: [N, inChannels, H, W] to [N, outChannels, H', W'].
/// Parameters "weight" [out, in/groups, k, k] and "bias" [out], initialised U(±1/√(in/groups·k·k)).</summary>
/// <param name="inChannels">Input channels.</param>
/// <param name="outChannels">Output channels.</param>
/// <param name="kernelSize">Square kernel size.</param>
/// <param name="stride">Stride in both dimensions.</param>
/// <param name="padding">Zeros added on each side (ignored when <paramref name="samePadding"/>).</param>
/// <param name="dilation">Spacing of kernel taps.</param>
/// <param name="groups">Channel groups (must divide both channel counts).</param>
/// <param name="bias">Whether the layer adds a learned bias.</param>
/// <param name="samePadding">PyTorch's padding="same": the output keeps the input's size (stride 1).</param>
/// <param name="seed">Seeds the initial weights.</param>
public sealed class Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
    int groups = 1, bool bias = true, bool samePadding = false, ulong seed = 0)
    : Module(nn.conv2dWith(new ConvOptions(stride, samePadding ? FunctionalAD.Padding.Same : FunctionalAD.Padding.NewExplicit(padding), dilation, groups, bias), inChannels, outChannels, kernelSize), seed)
{
    /// <summary>Input channels.</summary>
    public int InChannels => inChannels;
    /// <summary>Output channels.</summary>
    public int OutChannels => outChannels;
}

/// <summary>Parameter-free pooling and reshaping layers.</summary>
public sealed class Pooling : Module
{
    Pooling(Microsoft.FSharp.Core.FSharpFunc<Tensor, Tensor> f) : base(nn.fn(f), 0) { }
    /// <summary>2-D max pooling with a square kernel and stride = kernel (PyTorch's nn.MaxPool2d(k)).</summary>
    public static Pooling Max2d(int kernelSize) => new(Microsoft.FSharp.Core.FuncConvert.FromFunc<Tensor, Tensor>(x => x.MaxPool2d([kernelSize])));
    /// <summary>2-D average pooling with a square kernel and stride = kernel (PyTorch's nn.AvgPool2d(k)).</summary>
    public static Pooling Avg2d(int kernelSize) => new(Microsoft.FSharp.Core.FuncConvert.FromFunc<Tensor, Tensor>(x => x.AvgPool2d([kernelSize])));
    /// <summary>Global average pooling, [N, C, H, W] to [N, C, 1, 1].</summary>
    public static Pooling GlobalAvg2d() => new(Microsoft.FSharp.Core.FuncConvert.FromFunc<Tensor, Tensor>(x => x.AdaptiveAvgPool2d([1, 1])));
    /// <summary>Every dimension after the first in one (PyTorch's nn.Flatten).</summary>
    public static Pooling Flatten() => new(Microsoft.FSharp.Core.FuncConvert.FromFunc<Tensor, Tensor>(x => x.Reshape(x.Shape[0], -1)));
}

/// <summary>Multi-head self-attention (PyTorch's nn.MultiheadAttention with query = key = value, batch first, no
/// dropout): [N, L, embedDim] to [N, L, embedDim]. Parameters "in_proj_weight", "in_proj_bias", "out_proj.weight",
/// "out_proj.bias".</summary>
/// <param name="embedDim">Embedding size E (divisible by heads).</param>
/// <param name="heads">Number of heads.</param>
/// <param name="causal">Whether position i attends to positions 0..i only.</param>
/// <param name="seed">Seeds the initial weights.</param>
public sealed class SelfAttention(int embedDim, int heads, bool causal = false, ulong seed = 0)
    : Module(nn.selfAttention(embedDim, heads, causal), seed)
{
    /// <summary>Embedding size.</summary>
    public int EmbedDim => embedDim;
    /// <summary>Number of heads.</summary>
    public int Heads => heads;
}
