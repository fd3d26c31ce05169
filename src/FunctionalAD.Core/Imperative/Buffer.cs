namespace FunctionalAD.Imperative;

/// <summary>
/// A module's state that is not a parameter (PyTorch's buffer): batch normalisation's running statistics. It is
/// saved and loaded with the parameters (<see cref="Module.StateDict"/>), moved with them, but never handed to an
/// optimizer and never differentiated.
/// </summary>
/// <param name="name">The buffer's name within its module (e.g. "running_mean").</param>
/// <param name="value">Its initial value.</param>
public sealed class Buffer(string name, Tensor value)
{
    /// <summary>The name given at registration.</summary>
    public string Name { get; } = name;

    /// <summary>The current value. Setting it replaces the tensor (as a constant: no derivative is kept).</summary>
    public Tensor Value
    {
        get => value;
        set => this.value = (value ?? throw new ArgumentNullException(nameof(value))).StopGradient();
    }

    Tensor value = (value ?? throw new ArgumentNullException(nameof(value))).StopGradient();

    /// <summary>"Buffer name shape dtype".</summary>
    public override string ToString() => $"Buffer {Name} {Shape.Format(value.Shape)} {value.DType}";
}
