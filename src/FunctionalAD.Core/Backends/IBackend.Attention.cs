namespace FunctionalAD.Backends;

/// <summary>The cotangents of scaled dot-product attention's three inputs, in their shapes.</summary>
/// <param name="Query">[B, Lq, E].</param>
/// <param name="Key">[B, Lk, E].</param>
/// <param name="Value">[B, Lk, Ev].</param>
public readonly record struct AttentionGradients(RawTensor Query, RawTensor Key, RawTensor Value);

public partial interface IBackend
{
    /// <summary>
    /// Scaled dot-product attention of a batch of heads: softmax(q·kᵀ·scale)·v with q [B, Lq, E], k [B, Lk, E],
    /// v [B, Lk, Ev] (equal floating-point dtypes, Lk ≥ 1) giving [B, Lq, Ev]; with <paramref name="causal"/>, query i
    /// attends to keys 0..i only. The softmax subtracts each row's maximum. The default is
    /// <see cref="AttentionKernels.Attention"/> (MatMul, Softmax and Where of this backend).
    /// </summary>
    RawTensor Attention(RawTensor q, RawTensor k, RawTensor v, double scale, bool causal) =>
        AttentionKernels.Attention(this, q, k, v, scale, causal);

    /// <summary>
    /// The first-order cotangents of <see cref="Attention"/> for the cotangent <paramref name="g"/> [B, Lq, Ev] of its
    /// result <paramref name="o"/>: with P = softmax(q·kᵀ·scale), v̄ = Pᵀ·g, and with S̄ = P∘(g·vᵀ − rowsum(g∘o))·scale,
    /// q̄ = S̄·k and k̄ = S̄ᵀ·q. Returns false where the backend has no such kernel (the default); the engine then
    /// composes the cotangents from differentiable operations.
    /// </summary>
    bool TryAttentionBackward(RawTensor g, RawTensor q, RawTensor k, RawTensor v, RawTensor o, double scale, bool causal, out AttentionGradients gradients)
    {
        gradients = default;
        return false;
    }
}
