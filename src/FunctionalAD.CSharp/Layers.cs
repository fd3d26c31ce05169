namespace FunctionalAD.Imperative;

// PyTorch-style layers as Modules over Core ops, initialised as the F# nn layers of the same name (Initializers,
// the same generator per parameter path): user layers are written the same way (see Module).

/// <summary>y = x·W + b with W: [inFeatures, outFeatures] (Kaiming normal, std √(2/inFeatures)) and b: [outFeatures]
/// (zeros), like the F# <c>nn.linear</c>; x: [..., inFeatures] to [..., outFeatures]. Parameters "w" and "b".</summary>
public sealed class Linear : Module
{
    /// <summary>A linear layer initialised from <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">a size is not positive.</exception>
    public Linear(int inFeatures, int outFeatures, ulong seed = 0)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear: sizes must be positive, got {inFeatures} -> {outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        W = RegisterParameter("w", Initializers.KaimingNormal([inFeatures, outFeatures], inFeatures, Initializers.ForPath(seed, "w")));
        B = RegisterParameter("b", Tensor.Zeros([outFeatures]));
    }

    /// <summary>Input size.</summary>
    public int InFeatures { get; }
    /// <summary>Output size.</summary>
    public int OutFeatures { get; }
    /// <summary>The weight [inFeatures, outFeatures].</summary>
    public Parameter W { get; }
    /// <summary>The bias [outFeatures].</summary>
    public Parameter B { get; }

    /// <summary>x·W + b.</summary>
    /// <exception cref="ShapeMismatchException">x's last dimension is not inFeatures.</exception>
    public override Tensor Forward(Tensor input) => input.MatMul(W) + B;
}

/// <summary>A parameter-free layer applying an elementwise function.</summary>
public sealed class Activation : Module
{
    readonly Func<Tensor, Tensor> f;
    Activation(Func<Tensor, Tensor> f) => this.f = f;
    /// <summary>max(x, 0).</summary>
    public static Activation Relu() => new(x => x.Relu());
    /// <summary>tanh.</summary>
    public static Activation Tanh() => new(x => x.Tanh());
    /// <summary>Logistic sigmoid.</summary>
    public static Activation Sigmoid() => new(x => x.Sigmoid());
    /// <summary>Any function of tensors.</summary>
    /// <exception cref="ArgumentNullException">f is null.</exception>
    public static Activation Of(Func<Tensor, Tensor> f) => new(f ?? throw new ArgumentNullException(nameof(f)));
    /// <summary>The function applied to the input.</summary>
    public override Tensor Forward(Tensor input) => f(input);
}

/// <summary>Layers applied in order (PyTorch's nn.Sequential); they are its children "0", "1", ..., so parameters
/// are named by position ("0.w", "2.b").</summary>
public sealed class Sequential : Module
{
    readonly Module[] layers;

    /// <summary>The layers, applied in the order given.</summary>
    /// <exception cref="ArgumentException">a layer is null.</exception>
    public Sequential(params Module[] layers)
    {
        this.layers = layers.ToArray();
        for (int i = 0; i < this.layers.Length; i++)
            RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                this.layers[i] ?? throw new ArgumentException($"Sequential: layer {i} is null", nameof(layers)));
    }

    /// <summary>The layers.</summary>
    public IReadOnlyList<Module> Layers => layers;

    /// <summary>Each layer's Forward, in order.</summary>
    public override Tensor Forward(Tensor input)
    {
        foreach (var layer in layers) input = layer.Forward(input);
        return input;
    }
}
