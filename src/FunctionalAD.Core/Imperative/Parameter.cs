namespace FunctionalAD.Imperative;

/// <summary>
/// A mutable cell holding an immutable tensor (PyTorch's nn.Parameter), with the gradient of the last
/// <see cref="Tensor.Backward"/> calls accumulated in <see cref="Grad"/>. Use it in a computation through
/// <see cref="Tracked"/> or the implicit conversion to <see cref="Tensor"/> (<c>x.MatMul(weight)</c>), so that
/// Backward reaches it. Backward calls from several threads into one parameter add up (the accumulation is
/// synchronised).
/// </summary>
public sealed class Parameter : IGradientSink
{
    readonly object gate = new();
    Tensor value;
    Tensor? grad;

    /// <summary>A parameter named <paramref name="name"/> (its name in printed graphs) holding <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentNullException">value is null.</exception>
    /// <exception cref="DTypeMismatchException">value is not floating point.</exception>
    public Parameter(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.DType.IsFloatingPoint())
            throw new DTypeMismatchException("Parameter", $"'{name}' must hold a floating-point tensor, got {value.DType}");
        Name = name;
        this.value = value.StopGradient();
    }

    /// <summary>The name given at creation (a module's <see cref="Module.NamedParameters"/> gives the full path).</summary>
    public string Name { get; }

    /// <summary>The current value. Setting it replaces the tensor (tensors themselves never change); the new value
    /// is stored as a constant.</summary>
    /// <exception cref="ArgumentNullException">set to null.</exception>
    public Tensor Value
    {
        get => value;
        set { ArgumentNullException.ThrowIfNull(value); this.value = value.StopGradient(); }
    }

    /// <summary>The accumulated gradient, or null before the first Backward (or after ZeroGrad).</summary>
    public Tensor? Grad
    {
        get { lock (gate) return grad; }
        set { lock (gate) grad = value; }
    }

    /// <summary>The value as a tracked leaf: operations on it are recorded so that Backward reaches this parameter.</summary>
    public Tensor Tracked() => value.RequiresGrad(Name, this);

    /// <summary>The parameter as a tracked tensor (<see cref="Tracked"/>), so a parameter can be used where a tensor is
    /// expected: <c>x.MatMul(weight) + bias</c>.</summary>
    public static implicit operator Tensor(Parameter parameter) => parameter.Tracked();

    void IGradientSink.Accumulate(Tensor gradient)
    {
        lock (gate) grad = grad is null ? gradient : grad + gradient;
    }

    /// <summary>"Parameter name" and the value.</summary>
    public override string ToString() => $"Parameter {Name} {value}";
}

/// <summary>A parameter with its path in a module ("block.0.w"), as listed by <see cref="Module.NamedParameters"/>
/// (PyTorch's named_parameters() pairs); deconstructs to <c>(name, parameter)</c>.</summary>
/// <param name="Name">The path.</param>
/// <param name="Parameter">The cell.</param>
public readonly record struct NamedParameter(string Name, Parameter Parameter);
