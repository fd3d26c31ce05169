namespace FunctionalAD.Imperative;

// Recurrent layers and the transformer block as Modules over Core's math (Tensor.Lstm, Tensor.Gru), with PyTorch's
// parameter names and initialisation (every weight and bias U(±1/√hidden)), as the F# nn.lstm / nn.gru.

/// <summary>The shared weights of a one-layer recurrent network with <c>gates</c> gates: "weight_ih_l0"
/// [gates·H, I], "weight_hh_l0" [gates·H, H], "bias_ih_l0" and "bias_hh_l0" [gates·H], all U(±1/√H).</summary>
public abstract class RecurrentLayer : Module
{
    private protected RecurrentLayer(int gates, int inputSize, int hiddenSize, ulong seed)
    {
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentException($"{GetType().Name}: the input and hidden sizes must be positive, got {inputSize} and {hiddenSize}");
        (InputSize, HiddenSize) = (inputSize, hiddenSize);
        double bound = 1.0 / Math.Sqrt(hiddenSize);
        Parameter Uniform(string name, int[] shape) =>
            RegisterParameter(name, Initializers.Uniform(shape, -bound, bound, Initializers.ForPath(seed, name)));
        WeightIh = Uniform("weight_ih_l0", [gates * hiddenSize, inputSize]);
        WeightHh = Uniform("weight_hh_l0", [gates * hiddenSize, hiddenSize]);
        BiasIh = Uniform("bias_ih_l0", [gates * hiddenSize]);
        BiasHh = Uniform("bias_hh_l0", [gates * hiddenSize]);
    }

    /// <summary>Input features I.</summary>
    public int InputSize { get; }
    /// <summary>Hidden features H.</summary>
    public int HiddenSize { get; }
    /// <summary>Input-to-hidden weights [gates·H, I].</summary>
    public Parameter WeightIh { get; }
    /// <summary>Hidden-to-hidden weights [gates·H, H].</summary>
    public Parameter WeightHh { get; }
    /// <summary>Input-to-hidden bias [gates·H].</summary>
    public Parameter BiasIh { get; }
    /// <summary>Hidden-to-hidden bias [gates·H].</summary>
    public Parameter BiasHh { get; }

    /// <summary>Zeros [B, H] on the input's device and dtype.</summary>
    private protected Tensor ZeroState(Tensor x) =>
        Tensor.Zeros([x.Rank == 3 ? x.Shape[0] : 0, HiddenSize], x.DType, x.Device);
}

/// <summary>A one-layer LSTM over [batch, time, features] (PyTorch's nn.LSTM(I, H, batch_first=True)): gates
/// (i, f, g, o) in PyTorch's order.</summary>
/// <param name="inputSize">Input features I.</param>
/// <param name="hiddenSize">Hidden features H.</param>
/// <param name="seed">Seeds the initial weights.</param>
/// <exception cref="ArgumentException">a size is not positive.</exception>
public sealed class Lstm(int inputSize, int hiddenSize, ulong seed = 0) : RecurrentLayer(4, inputSize, hiddenSize, seed)
{
    /// <summary>The outputs [B, T, H] and the final (h, c) [B, H] from the states (h0, c0).</summary>
    /// <exception cref="ShapeMismatchException">x is not [B, T, I] or a state is not [B, H].</exception>
    public (Tensor Output, Tensor H, Tensor C) Run(Tensor x, Tensor h0, Tensor c0) =>
        Tensor.Lstm(x, h0, c0, WeightIh, WeightHh, BiasIh, BiasHh);

    /// <summary>The outputs [B, T, H] from zero states.</summary>
    /// <exception cref="ShapeMismatchException">the input is not [B, T, I].</exception>
    public override Tensor Forward(Tensor input) => Run(input, ZeroState(input), ZeroState(input)).Output;
}

/// <summary>A one-layer GRU over [batch, time, features] (PyTorch's nn.GRU(I, H, batch_first=True)): gates
/// (r, z, n) in PyTorch's order.</summary>
/// <param name="inputSize">Input features I.</param>
/// <param name="hiddenSize">Hidden features H.</param>
/// <param name="seed">Seeds the initial weights.</param>
/// <exception cref="ArgumentException">a size is not positive.</exception>
public sealed class Gru(int inputSize, int hiddenSize, ulong seed = 0) : RecurrentLayer(3, inputSize, hiddenSize, seed)
{
    /// <summary>The outputs [B, T, H] and the final h [B, H] from the state h0.</summary>
    /// <exception cref="ShapeMismatchException">x is not [B, T, I] or h0 is not [B, H].</exception>
    public (Tensor Output, Tensor H) Run(Tensor x, Tensor h0) => Tensor.Gru(x, h0, WeightIh, WeightHh, BiasIh, BiasHh);

    /// <summary>The outputs [B, T, H] from a zero state.</summary>
    /// <exception cref="ShapeMismatchException">the input is not [B, T, I].</exception>
    public override Tensor Forward(Tensor input) => Run(input, ZeroState(input)).Output;
}

/// <summary>A pre-norm transformer block over [N, L, E] (the F# nn.transformerBlock): x + attention(LayerNorm(x)),
/// then x + Linear(GELU(Linear(LayerNorm(x)))), GELU exact; children "norm1", "self_attn", "norm2", "linear1",
/// "linear2", with dropout after the attention, inside the MLP and after it when <c>dropout</c> &gt; 0.</summary>
public sealed class TransformerBlock : Module
{
    readonly LayerNorm norm1, norm2;
    readonly SelfAttention attention;
    readonly TorchLinear linear1, linear2;
    readonly Dropout? drop1, dropMlp, drop2;

    /// <summary>y = x·Wᵀ + b with W [out, in], both U(±1/√in) (PyTorch's nn.Linear layout, used inside the block).</summary>
    sealed class TorchLinear : Module
    {
        readonly Parameter w, b;
        public TorchLinear(int inFeatures, int outFeatures, ulong seed, string path)
        {
            w = RegisterParameter("weight", Initializers.FanInUniform([outFeatures, inFeatures], inFeatures, Initializers.ForPath(seed, path + ".weight")));
            b = RegisterParameter("bias", Initializers.FanInUniform([outFeatures], inFeatures, Initializers.ForPath(seed, path + ".bias")));
        }
        public override Tensor Forward(Tensor input) => input.MatMul(w.Tracked().T) + b;
    }

    /// <summary>A transformer block initialised from <paramref name="seed"/>.</summary>
    /// <param name="embedDim">Embedding size E (divisible by heads).</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="mlpDim">Hidden size of the MLP.</param>
    /// <param name="causal">Whether position i attends to positions 0..i only.</param>
    /// <param name="dropout">Dropout rate in [0, 1) (training mode only).</param>
    /// <param name="seed">Seeds the initial weights and the dropout masks.</param>
    /// <exception cref="ArgumentException">heads does not divide embedDim, or mlpDim is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dropout outside [0, 1).</exception>
    public TransformerBlock(int embedDim, int heads, int mlpDim, bool causal = false, double dropout = 0, ulong seed = 0)
    {
        if (mlpDim <= 0) throw new ArgumentException($"TransformerBlock: the MLP's hidden size must be positive, got {mlpDim}", nameof(mlpDim));
        EmbedDim = embedDim;
        norm1 = RegisterModule("norm1", new LayerNorm(embedDim));
        attention = RegisterModule("self_attn", new SelfAttention(embedDim, heads, causal, seed));
        norm2 = RegisterModule("norm2", new LayerNorm(embedDim));
        linear1 = RegisterModule("linear1", new TorchLinear(embedDim, mlpDim, seed, "linear1"));
        linear2 = RegisterModule("linear2", new TorchLinear(mlpDim, embedDim, seed, "linear2"));
        if (dropout > 0)
        {
            drop1 = RegisterModule("dropout1", new Dropout(dropout, seed + 1));
            dropMlp = RegisterModule("dropout", new Dropout(dropout, seed + 2));
            drop2 = RegisterModule("dropout2", new Dropout(dropout, seed + 3));
        }
        else if (dropout < 0) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "TransformerBlock: dropout must be in [0, 1)");
    }

    /// <summary>Embedding size E.</summary>
    public int EmbedDim { get; }

    /// <summary>The block applied to [N, L, E].</summary>
    /// <exception cref="ShapeMismatchException">the input is not [N, L, E].</exception>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 3 || input.Shape[2] != EmbedDim)
            throw new ShapeMismatchException("TransformerBlock", $"the input must be [N, L, {EmbedDim}], got {Shape.Format(input.Shape)}");
        Tensor Drop(Dropout? d, Tensor t) => d is null ? t : d.Forward(t);
        var x = input + Drop(drop1, attention.Forward(norm1.Forward(input)));
        var h = linear1.Forward(norm2.Forward(x));
        var gelu = 0.5 * h * (1.0 + (h / Math.Sqrt(2.0)).Erf());
        return x + Drop(drop2, linear2.Forward(Drop(dropMlp, gelu)));
    }
}
