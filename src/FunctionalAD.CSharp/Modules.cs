using FunctionalAD.Imperative;
using Microsoft.FSharp.Core;
using FModel = FunctionalAD.Model<Microsoft.FSharp.Core.FSharpFunc<FunctionalAD.Tensor, FunctionalAD.Tensor>>;

namespace FunctionalAD;

/// <summary>
/// A layer or network with parameters held in <see cref="Parameter"/> cells, PyTorch-style: call
/// <see cref="Forward"/>, compute a loss, call <c>loss.Backward()</c> and the parameters' <c>Grad</c> are filled.
/// Built on the F# model of the same layers (<c>nn.linear</c>, <c>nn.sequential</c>); nothing is reimplemented.
/// </summary>
public abstract class Module
{
    internal readonly FModel Model;
    readonly Lazy<FunctionalAD.Imperative.Module> instance;

    private protected Module(FModel model, ulong seed)
    {
        Model = model;
        instance = new Lazy<FunctionalAD.Imperative.Module>(() => new FunctionalAD.Imperative.Module(model, seed));
    }

    FunctionalAD.Imperative.Module Instance => instance.Value;

    /// <summary>The parameters, in path order ("0.b", "0.w", ... for a Sequential).</summary>
    public IReadOnlyList<Parameter> Parameters => Instance.Parameters.ToArray();

    /// <summary>(path, parameter) pairs, like PyTorch's named_parameters().</summary>
    public IReadOnlyList<NamedParameter> NamedParameters() => Instance.Parameters.Select(p => new NamedParameter(p.Name, p)).ToArray();

    /// <summary>The current parameter values as an immutable <see cref="Params"/> (for the functional style).</summary>
    public Params Params => Instance.Params;

    /// <summary>Replaces all parameter values.</summary>
    /// <exception cref="ArgumentException">a parameter is missing from <paramref name="values"/>.</exception>
    /// <exception cref="ShapeMismatchException">a value has another shape.</exception>
    public void Load(Params values) => Instance.Load(values);

    /// <summary>The layer applied to x with tracked parameters (so Backward reaches them).</summary>
    /// <exception cref="ShapeMismatchException">x's last dimension does not fit the layer.</exception>
    public Tensor Forward(Tensor x) => Instance.Forward(x);

    /// <summary>The pure function of the layer: its output for x under the given parameter values (use with
    /// <see cref="AD"/> and <see cref="Optim"/> in the functional style).</summary>
    public Tensor Apply(Params parameters, Tensor x) => FunctionalAD.Model.apply(Model, parameters).Invoke(x);

    /// <summary>Fresh initial parameters from a seed (the same seed gives the same values).</summary>
    public Params Init(ulong seed) => FunctionalAD.Model.init(seed, Model).Item1;
}

/// <summary>A parameter with its path.</summary>
/// <param name="Name">The path, e.g. "0.w".</param>
/// <param name="Parameter">The cell.</param>
public readonly record struct NamedParameter(string Name, Parameter Parameter);

/// <summary>y = x·W + b, W: [inFeatures, outFeatures] (Kaiming init), b: [outFeatures] (zeros).</summary>
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

/// <summary>Layers applied in order; parameters are named by position ("0.w", "2.b", ...).</summary>
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
