namespace FunctionalAD.Imperative;

/// <summary>2-D convolution layer, PyTorch's nn.Conv2d: [N, inChannels, H, W] to [N, outChannels, H', W'].
/// Parameters "weight" [out, in/groups, k, k] and "bias" [out], initialised U(±1/√(in/groups·k·k)) as PyTorch
/// (and the F# <c>nn.conv2dWith</c>) do.</summary>
public sealed class Conv2d : Module
{
    readonly int stride, padding, dilation, groups;
    readonly bool samePadding;

    /// <summary>A convolution layer initialised from <paramref name="seed"/>.</summary>
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
    /// <exception cref="ArgumentException">groups does not divide both channel counts, or a size is not positive.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true, bool samePadding = false, ulong seed = 0)
    {
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: groups = {groups} must divide the input channels ({inChannels}) and the output channels ({outChannels})");
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0)
            throw new ArgumentException($"Conv2d: channels and kernel size must be positive, got {inChannels}, {outChannels}, {kernelSize}");
        (InChannels, OutChannels) = (inChannels, outChannels);
        (this.stride, this.padding, this.dilation, this.groups, this.samePadding) = (stride, padding, dilation, groups, samePadding);
        int fanIn = inChannels / groups * kernelSize * kernelSize;
        Weight = RegisterParameter("weight", Initializers.FanInUniform([outChannels, inChannels / groups, kernelSize, kernelSize], fanIn, Initializers.ForPath(seed, "weight")));
        Bias = bias ? RegisterParameter("bias", Initializers.FanInUniform([outChannels], fanIn, Initializers.ForPath(seed, "bias"))) : null;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Output channels.</summary>
    public int OutChannels { get; }
    /// <summary>The kernel [out, in/groups, k, k].</summary>
    public Parameter Weight { get; }
    /// <summary>The bias [out], or null without one.</summary>
    public Parameter? Bias { get; }

    /// <summary>The convolution of the input with the kernel, plus the bias.</summary>
    /// <exception cref="ShapeMismatchException">the input is not [N, inChannels, H, W].</exception>
    public override Tensor Forward(Tensor input) => samePadding
        ? input.Conv2d(Weight, Bias?.Tracked(), [stride], "same", [dilation], groups)
        : input.Conv2d(Weight, Bias?.Tracked(), [stride], [padding], [dilation], groups);
}

/// <summary>Parameter-free pooling and reshaping layers.</summary>
public sealed class Pooling : Module
{
    readonly Func<Tensor, Tensor> f;
    Pooling(Func<Tensor, Tensor> f) => this.f = f;
    /// <summary>2-D max pooling with a square kernel and stride = kernel (PyTorch's nn.MaxPool2d(k)).</summary>
    public static Pooling Max2d(int kernelSize) => new(x => x.MaxPool2d([kernelSize]));
    /// <summary>2-D average pooling with a square kernel and stride = kernel (PyTorch's nn.AvgPool2d(k)).</summary>
    public static Pooling Avg2d(int kernelSize) => new(x => x.AvgPool2d([kernelSize]));
    /// <summary>Global average pooling, [N, C, H, W] to [N, C, 1, 1].</summary>
    public static Pooling GlobalAvg2d() => new(x => x.AdaptiveAvgPool2d([1, 1]));
    /// <summary>Every dimension after the first in one (PyTorch's nn.Flatten).</summary>
    public static Pooling Flatten() => new(x => x.Reshape(x.Shape[0], -1));
    /// <summary>The pooling applied to the input.</summary>
    public override Tensor Forward(Tensor input) => f(input);
}

/// <summary>Multi-head self-attention (PyTorch's nn.MultiheadAttention with query = key = value, batch first, no
/// dropout): [N, L, embedDim] to [N, L, embedDim]. Parameters "in_proj_weight" [3E, E] (Xavier uniform),
/// "in_proj_bias" [3E] (zeros), "out_proj.weight" [E, E] (U(±1/√E)), "out_proj.bias" [E] (zeros), as the F#
/// <c>nn.selfAttention</c>.</summary>
public sealed class SelfAttention : Module
{
    readonly bool causal;
    readonly Parameter inWeight, inBias;
    readonly OutProjection outProj;

    sealed class OutProjection : Module
    {
        public readonly Parameter Weight, Bias;
        public OutProjection(int e, ulong seed)
        {
            Weight = RegisterParameter("weight", Initializers.FanInUniform([e, e], e, Initializers.ForPath(seed, "out_proj.weight")));
            Bias = RegisterParameter("bias", Tensor.Zeros([e]));
        }
        public override Tensor Forward(Tensor input) => input.MatMul(Weight.Tracked().T) + Bias;
    }

    /// <summary>A self-attention layer initialised from <paramref name="seed"/>.</summary>
    /// <param name="embedDim">Embedding size E (divisible by heads).</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="causal">Whether position i attends to positions 0..i only.</param>
    /// <param name="seed">Seeds the initial weights.</param>
    /// <exception cref="ArgumentException">heads does not divide embedDim.</exception>
    public SelfAttention(int embedDim, int heads, bool causal = false, ulong seed = 0)
    {
        if (heads <= 0 || embedDim <= 0 || embedDim % heads != 0)
            throw new ArgumentException($"SelfAttention: the embedding size {embedDim} is not divisible by the number of heads {heads}");
        (EmbedDim, Heads, this.causal) = (embedDim, heads, causal);
        int e = embedDim;
        inWeight = RegisterParameter("in_proj_weight", Initializers.XavierUniform([3 * e, e], e, 3 * e, Initializers.ForPath(seed, "in_proj_weight")));
        inBias = RegisterParameter("in_proj_bias", Tensor.Zeros([3 * e]));
        outProj = RegisterModule("out_proj", new OutProjection(e, seed));
    }

    /// <summary>Embedding size.</summary>
    public int EmbedDim { get; }
    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>Attention of the input over itself.</summary>
    /// <exception cref="ShapeMismatchException">the input is not [N, L, embedDim].</exception>
    public override Tensor Forward(Tensor input)
    {
        int e = EmbedDim, d = e / Heads;
        if (input.Rank != 3 || input.Shape[2] != e)
            throw new ShapeMismatchException("SelfAttention", $"the input must be [N, L, {e}] (embedding size {e}, {Heads} heads), got {Shape.Format(input.Shape)}");
        Tensor w = inWeight, b = inBias;
        Tensor Project(int i) => input.MatMul(w.Narrow(0, i * e, e).T) + b.Narrow(0, i * e, e);
        Tensor Split(Tensor x) => x.Reshape(x.Shape[0], x.Shape[1], Heads, d).Transpose(1, 2);
        var o = Tensor.ScaledDotProductAttention(Split(Project(0)), Split(Project(1)), Split(Project(2)), causal: causal);
        var merged = o.Transpose(1, 2).Reshape(o.Shape[0], input.Shape[1], e);
        return outProj.Forward(merged);
    }
}
