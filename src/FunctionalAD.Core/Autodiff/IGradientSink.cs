namespace FunctionalAD;

/// <summary>An owner of a tracked leaf (e.g. a PyTorch-style Parameter) that receives its gradient.</summary>
public interface IGradientSink
{
    /// <summary>Called once per <see cref="Tensor.Backward"/> with the gradient of the leaf (leaf-shaped).</summary>
    void Accumulate(Tensor gradient);
}
