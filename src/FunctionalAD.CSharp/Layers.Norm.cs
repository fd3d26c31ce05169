namespace FunctionalAD.Imperative;

// Normalisation, dropout and resampling layers as Modules over Core's math (Tensor.BatchNorm, GroupNorm, Upsample,
// ConvTranspose2d), with the same parameter names, initial values and semantics as the F# nn layers.

/// <summary>Batch normalisation (PyTorch's nn.BatchNorm1d / nn.BatchNorm2d). In training mode (the default;
/// <see cref="Module.Train"/>) each channel is normalised with the batch's statistics and the running statistics
/// move towards them with <c>momentum</c> (unbiased variance); after <see cref="Module.Eval"/> the running statistics
/// normalise. Parameters "weight" [C] (ones) and "bias" [C] (zeros) when affine; buffers "running_mean" [C] (zeros)
/// and "running_var" [C] (ones), saved with the parameters.</summary>
public abstract class BatchNorm : Module
{
    readonly double momentum, eps;
    readonly Buffer runningMean, runningVar;

    private protected BatchNorm(int numFeatures, double eps, double momentum, bool affine)
    {
        if (numFeatures <= 0) throw new ArgumentException($"{GetType().Name}: the number of features must be positive, got {numFeatures}", nameof(numFeatures));
        if (momentum < 0 || momentum > 1) throw new ArgumentException($"{GetType().Name}: momentum must be in [0, 1], got {momentum}", nameof(momentum));
        if (eps <= 0) throw new ArgumentException($"{GetType().Name}: eps must be positive, got {eps}", nameof(eps));
        (NumFeatures, this.eps, this.momentum) = (numFeatures, eps, momentum);
        Weight = affine ? RegisterParameter("weight", Tensor.Ones([numFeatures])) : null;
        Bias = affine ? RegisterParameter("bias", Tensor.Zeros([numFeatures])) : null;
        runningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures]));
        runningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures]));
    }

    /// <summary>Channels C.</summary>
    public int NumFeatures { get; }
    /// <summary>The scale [C], or null without affine.</summary>
    public Parameter? Weight { get; }
    /// <summary>The shift [C], or null without affine.</summary>
    public Parameter? Bias { get; }
    /// <summary>The running mean [C].</summary>
    public Tensor RunningMean => runningMean.Value;
    /// <summary>The running (unbiased) variance [C].</summary>
    public Tensor RunningVar => runningVar.Value;

    /// <summary>True for the input ranks this layer accepts.</summary>
    private protected abstract bool AcceptsRank(int rank);
    /// <summary>The accepted input shapes, for messages.</summary>
    private protected abstract string Expected { get; }

    /// <summary>The input normalised per channel (dimension 1); in training mode the running statistics are updated.</summary>
    /// <exception cref="ShapeMismatchException">the input's rank or channel count does not fit the layer.</exception>
    public override Tensor Forward(Tensor input)
    {
        if (!AcceptsRank(input.Rank) || input.Shape[1] != NumFeatures)
            throw new ShapeMismatchException(GetType().Name,
                $"the input must be {Expected} with C = {NumFeatures} features, got {Shape.Format(input.Shape)}");
        var r = input.BatchNorm(runningMean.Value, runningVar.Value, Weight?.Tracked(), Bias?.Tracked(), Training, momentum, eps);
        if (Training) { runningMean.Value = r.RunningMean; runningVar.Value = r.RunningVar; }
        return r.Output;
    }
}

/// <summary>Batch normalisation of [N, C] or [N, C, L] (PyTorch's nn.BatchNorm1d); see <see cref="BatchNorm"/>.</summary>
/// <param name="numFeatures">Channels C.</param>
/// <param name="eps">Added to the variance.</param>
/// <param name="momentum">Weight of the batch statistics in the running ones.</param>
/// <param name="affine">Whether the layer learns a scale and a shift.</param>
/// <exception cref="ArgumentException">a non-positive size or eps, or momentum outside [0, 1].</exception>
public sealed class BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true)
    : BatchNorm(numFeatures, eps, momentum, affine)
{
    private protected override bool AcceptsRank(int rank) => rank is 2 or 3;
    private protected override string Expected => "[N, C] or [N, C, L]";
}

/// <summary>Batch normalisation of [N, C, H, W] (PyTorch's nn.BatchNorm2d); see <see cref="BatchNorm"/>.</summary>
/// <param name="numFeatures">Channels C.</param>
/// <param name="eps">Added to the variance.</param>
/// <param name="momentum">Weight of the batch statistics in the running ones.</param>
/// <param name="affine">Whether the layer learns a scale and a shift.</param>
/// <exception cref="ArgumentException">a non-positive size or eps, or momentum outside [0, 1].</exception>
public sealed class BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true)
    : BatchNorm(numFeatures, eps, momentum, affine)
{
    private protected override bool AcceptsRank(int rank) => rank == 4;
    private protected override string Expected => "[N, C, H, W]";
}

/// <summary>Group normalisation (PyTorch's nn.GroupNorm): the channels of [N, C, *] in <c>groups</c> groups, each
/// (sample, group) normalised by its own statistics, the same in training and evaluation. Parameters "weight" [C]
/// (ones) and "bias" [C] (zeros) when affine.</summary>
public sealed class GroupNorm : Module
{
    readonly int groups;
    readonly double eps;

    /// <summary>A group normalisation layer.</summary>
    /// <param name="groups">Groups (must divide channels).</param>
    /// <param name="channels">Channels C.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="affine">Whether the layer learns a scale and a shift.</param>
    /// <exception cref="ArgumentException">groups does not divide channels, or a size is not positive.</exception>
    public GroupNorm(int groups, int channels, double eps = 1e-5, bool affine = true)
    {
        if (groups <= 0 || channels <= 0 || channels % groups != 0)
            throw new ArgumentException($"GroupNorm: {groups} groups must divide the {channels} channels");
        (this.groups, this.eps, Channels) = (groups, eps, channels);
        Weight = affine ? RegisterParameter("weight", Tensor.Ones([channels])) : null;
        Bias = affine ? RegisterParameter("bias", Tensor.Zeros([channels])) : null;
    }

    /// <summary>Channels C.</summary>
    public int Channels { get; }
    /// <summary>The scale [C], or null without affine.</summary>
    public Parameter? Weight { get; }
    /// <summary>The shift [C], or null without affine.</summary>
    public Parameter? Bias { get; }

    /// <summary>The input normalised per sample and group.</summary>
    /// <exception cref="ShapeMismatchException">the input is not [N, C, *] with C = <see cref="Channels"/>.</exception>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank < 2 || input.Shape[1] != Channels)
            throw new ShapeMismatchException("GroupNorm", $"the input must be [N, {Channels}, *], got {Shape.Format(input.Shape)}");
        return input.GroupNorm(groups, Weight?.Tracked(), Bias?.Tracked(), eps);
    }
}

/// <summary>Layer normalisation over the last dimension (PyTorch's nn.LayerNorm(dim)): parameters "weight" [dim]
/// (ones) and "bias" [dim] (zeros), eps 1e-5, as the F# <c>nn.layerNorm</c>.</summary>
public sealed class LayerNorm : Module
{
    /// <summary>A layer normalisation over a last dimension of size <paramref name="dim"/>.</summary>
    /// <exception cref="ArgumentException">dim is not positive.</exception>
    public LayerNorm(int dim)
    {
        if (dim <= 0) throw new ArgumentException($"LayerNorm: the dimension must be positive, got {dim}", nameof(dim));
        Dim = dim;
        Weight = RegisterParameter("weight", Tensor.Ones([dim]));
        Bias = RegisterParameter("bias", Tensor.Zeros([dim]));
    }

    /// <summary>Size of the normalised last dimension.</summary>
    public int Dim { get; }
    /// <summary>The scale [dim].</summary>
    public Parameter Weight { get; }
    /// <summary>The shift [dim].</summary>
    public Parameter Bias { get; }

    /// <summary>(x - mean) / √(var + 1e-5) · weight + bias over the last dimension.</summary>
    /// <exception cref="ShapeMismatchException">the last dimension is not <see cref="Dim"/>.</exception>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank < 1 || input.Shape[^1] != Dim)
            throw new ShapeMismatchException("LayerNorm", $"the input's last dimension must be {Dim}, got {Shape.Format(input.Shape)}");
        var centered = input - input.Mean([-1], keepDim: true);
        var variance = (centered * centered).Mean([-1], keepDim: true);
        return centered * (variance + 1e-5).Rsqrt() * Weight + Bias;
    }
}

/// <summary>Dropout (PyTorch's nn.Dropout): in training mode each element is zeroed with probability <c>rate</c>
/// and the others scaled by 1/(1 - rate); after <see cref="Module.Eval"/> the identity. The masks come from the
/// layer's own generator, seeded by <c>seed</c>, so a run is reproducible.</summary>
public sealed class Dropout : Module
{
    readonly Generator generator;

    /// <summary>A dropout layer.</summary>
    /// <param name="rate">Probability of zeroing an element, in [0, 1).</param>
    /// <param name="seed">Seeds the masks.</param>
    /// <exception cref="ArgumentOutOfRangeException">rate outside [0, 1).</exception>
    public Dropout(double rate = 0.5, ulong seed = 0)
    {
        if (rate < 0 || rate >= 1) throw new ArgumentOutOfRangeException(nameof(rate), rate, "Dropout: rate must be in [0, 1)");
        Rate = rate;
        generator = new Generator(seed);
    }

    /// <summary>The probability of zeroing an element.</summary>
    public double Rate { get; }

    /// <summary>The input with random elements zeroed (training) or unchanged (evaluation).</summary>
    public override Tensor Forward(Tensor input)
    {
        if (!Training || Rate == 0) return input;
        var keep = Tensor.Rand(input.Shape, generator, input.DType, input.Device).Ge(Rate).To(input.DType);
        return input * keep / (1.0 - Rate);
    }
}

/// <summary>Transposed 2-D convolution (PyTorch's nn.ConvTranspose2d): [N, in, H, W] to [N, out, H', W'] with
/// H' = (H - 1)·stride - 2·padding + dilation·(k - 1) + outputPadding + 1. Parameters "weight" [in, out/groups, k, k]
/// and "bias" [out], initialised U(±1/√(out/groups·k·k)) as PyTorch does.</summary>
public sealed class ConvTranspose2d : Module
{
    readonly int stride, padding, outputPadding, dilation, groups;

    /// <summary>A transposed convolution layer initialised from <paramref name="seed"/>.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernelSize">Square kernel size.</param>
    /// <param name="stride">Stride in both dimensions.</param>
    /// <param name="padding">Rows and columns removed on each side of the output.</param>
    /// <param name="outputPadding">Extra rows and columns on one side (less than stride or dilation).</param>
    /// <param name="dilation">Spacing of kernel taps.</param>
    /// <param name="groups">Channel groups (must divide both channel counts).</param>
    /// <param name="bias">Whether the layer adds a learned bias.</param>
    /// <param name="seed">Seeds the initial weights.</param>
    /// <exception cref="ArgumentException">groups does not divide both channel counts, or a size is not positive.</exception>
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0,
        int outputPadding = 0, int dilation = 1, int groups = 1, bool bias = true, ulong seed = 0)
    {
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: groups = {groups} must divide the input channels ({inChannels}) and the output channels ({outChannels})");
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0)
            throw new ArgumentException($"ConvTranspose2d: channels and kernel size must be positive, got {inChannels}, {outChannels}, {kernelSize}");
        (InChannels, OutChannels) = (inChannels, outChannels);
        (this.stride, this.padding, this.outputPadding, this.dilation, this.groups) = (stride, padding, outputPadding, dilation, groups);
        int fanIn = outChannels / groups * kernelSize * kernelSize; // PyTorch's fan in of a [in, out/groups, k, k] weight
        Weight = RegisterParameter("weight", Initializers.FanInUniform([inChannels, outChannels / groups, kernelSize, kernelSize], fanIn, Initializers.ForPath(seed, "weight")));
        Bias = bias ? RegisterParameter("bias", Initializers.FanInUniform([outChannels], fanIn, Initializers.ForPath(seed, "bias"))) : null;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Output channels.</summary>
    public int OutChannels { get; }
    /// <summary>The kernel [in, out/groups, k, k].</summary>
    public Parameter Weight { get; }
    /// <summary>The bias [out], or null without one.</summary>
    public Parameter? Bias { get; }

    /// <summary>The transposed convolution of the input, plus the bias.</summary>
    /// <exception cref="ShapeMismatchException">the input is not [N, inChannels, H, W].</exception>
    public override Tensor Forward(Tensor input) =>
        input.ConvTranspose2d(Weight, Bias?.Tracked(), [stride], [padding], [outputPadding], [dilation], groups);
}

/// <summary>Upsampling of [N, C, H, W] by a scale factor (PyTorch's nn.Upsample(scale_factor, mode)): nearest or
/// bilinear; no parameters.</summary>
/// <param name="scaleFactor">Factor for both spatial dimensions (positive).</param>
/// <param name="mode">Nearest or bilinear.</param>
/// <param name="alignCorners">Bilinear only: PyTorch's align_corners.</param>
public sealed class Upsample(double scaleFactor, UpsampleMode mode = UpsampleMode.Nearest, bool alignCorners = false) : Module
{
    /// <summary>The input resized.</summary>
    /// <exception cref="ShapeMismatchException">the input is not [N, C, H, W].</exception>
    /// <exception cref="ArgumentException">the scale factor is not positive.</exception>
    public override Tensor Forward(Tensor input) => input.Upsample([scaleFactor, scaleFactor], mode, alignCorners);
}
