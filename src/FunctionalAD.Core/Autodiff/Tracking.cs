using FunctionalAD.Autodiff;

namespace FunctionalAD;

// PyTorch-style tracking: RequiresGrad marks a leaf, Backward walks to the leaves (Gradients holds the result).

public sealed partial class Tensor
{
    /// <summary>
    /// PyTorch-style tracking: this value as a leaf whose uses are recorded, so that <see cref="Backward"/> of a
    /// scalar computed from it gives its gradient. Outermost of all nesting levels; no tape is kept, the graph
    /// lives only as long as the values that reference it.
    /// </summary>
    /// <exception cref="DTypeMismatchException">the tensor is not floating point.</exception>
    /// <param name="name">The leaf's name in printed graphs.</param>
    /// <param name="sink">Receives this leaf's gradient on every <see cref="Backward"/> (how a PyTorch-style
    /// Parameter fills its .Grad).</param>
    public Tensor RequiresGrad(string? name = null, IGradientSink? sink = null)
    {
        if (!DType.IsFloatingPoint()) throw new DTypeMismatchException("requiresGrad", $"only floating-point tensors can require gradients, got {DType}");
        var value = StopGradient();
        var leaf = new Node(value, name ?? "leaf", sink);
        leaf.Index = Tag.Imperative.Record(leaf);
        return new Tensor(value, null, leaf, Tag.Imperative);
    }

    /// <summary>True for a value tracked by <see cref="RequiresGrad"/> (directly or computed from one).</summary>
    public bool IsTracked => ReferenceEquals(tag, Tag.Imperative);

    /// <summary>Backpropagates from this scalar to the tracked leaves it was computed from, returning their
    /// gradients (a value that did not contribute gets zeros). Leaves created with a sink also receive their
    /// gradient through <see cref="IGradientSink.Accumulate"/>.</summary>
    /// <exception cref="ShapeMismatchException">this tensor has more than one element.</exception>
    /// <exception cref="InvalidOperationException">this value is not tracked (no leaf marked with RequiresGrad was used).</exception>
    public Gradients Backward()
    {
        if (Numel != 1) throw new ShapeMismatchException("backward", $"backward needs a scalar (one-element) value, got shape {FunctionalAD.Shape.Format(shape)}");
        if (!IsTracked) throw new InvalidOperationException("backward: this value was not computed from a tensor marked with RequiresGrad, so there is nothing to differentiate");
        return new Gradients(this);
    }
}
