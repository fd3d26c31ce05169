using Microsoft.FSharp.Core;

namespace FunctionalAD.Imperative;

// C#'s spelling of the F# layers: each class is a Module (F#'s PyTorch-style shell) built from the F# model of the
// same layer (nn.linear, nn.fn, nn.sequential); nothing is reimplemented.

/// <summary>y = x·W + b, W: [inFeatures, outFeatures] (Kaiming init), b: [outFeatures] (zeros); PyTorch's nn.Linear.
/// Parameters "w" and "b".</summary>
/// <param name="inFeatures">Size of the input's last dimension.</param>
/// <param name="outFeatures">Size of the output's last dimension.</param>
/// <param name="seed">Seeds the initial weights.</param>
public sealed class Linear(int inFeatures, int outFeatures, ulong seed = 0) : Module(nn.linear(inFeatures, outFeatures), seed)
{
    /// <summary>Input size.</summary>
    public int InFeatures => inFeatures;
    /// <summary>Output size.</summary>
    public int OutFeatures => outFeatures;
}

/// <summary>A parameter-free layer applying an elementwise function.</summary>
public sealed class Activation : Module
{
    Activation(Func<Tensor, Tensor> f) : base(nn.fn(FuncConvert.FromFunc(f)), 0) { }
    /// <summary>max(x, 0).</summary>
    public static Activation Relu() => new(x => x.Relu());
    /// <summary>tanh.</summary>
    public static Activation Tanh() => new(x => x.Tanh());
    /// <summary>Logistic sigmoid.</summary>
    public static Activation Sigmoid() => new(x => x.Sigmoid());
    /// <summary>Any elementwise function of tensors.</summary>
    public static Activation Of(Func<Tensor, Tensor> f) => new(f);
}

/// <summary>Layers applied in order (PyTorch's nn.Sequential); parameters are named by position ("0.w", "2.b", ...).
/// The sequence has its own parameter cells, initialised from <paramref name="seed"/>; the layers passed in only
/// describe its structure.</summary>
/// <param name="seed">Seeds every layer's initial parameters.</param>
/// <param name="layers">The layers.</param>
public sealed class Sequential(ulong seed, params Module[] layers)
    : Module(nn.sequential(Microsoft.FSharp.Collections.ListModule.OfArray(layers.Select(l => l.Model).ToArray())), seed)
{
    /// <summary>Layers applied in order, seed 0.</summary>
    public Sequential(params Module[] layers) : this(0, layers) { }
    /// <summary>The layers.</summary>
    public IReadOnlyList<Module> Layers => layers;
}
