using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

/// <summary>
/// The default kernel of <see cref="IBackend.Attention"/>, composed from the backend's own MatMul, Softmax and Where:
/// the [B, Lq, Lk] scores are materialized. The CPU backend overrides it with a kernel that works one head at a time.
/// </summary>
public static class AttentionKernels
{
    /// <summary>softmax(q·kᵀ·scale)·v for q [B, Lq, E], k [B, Lk, E], v [B, Lk, Ev] (Lk ≥ 1), keys after the query's
    /// position removed when <paramref name="causal"/>: [B, Lq, Ev].</summary>
    public static RawTensor Attention(IBackend backend, RawTensor q, RawTensor k, RawTensor v, double scale, bool causal)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(q); ArgumentNullException.ThrowIfNull(k); ArgumentNullException.ThrowIfNull(v);
        int batch = q.Shape[0], lq = q.Shape[1], lk = k.Shape[1];
        int[] shape = [batch, lq, lk];
        var scores = backend.Binary<Mul>(backend.MatMul(q, k.Permute([0, 2, 1])), backend.Full([], q.DType, scale).Expand(shape));
        if (causal)
        {
            var keep = new bool[lq * lk];
            for (int i = 0; i < lq; i++)
                for (int j = 0; j <= Math.Min(i, lk - 1); j++) keep[i * lk + j] = true;
            var mask = backend.FromArray(keep, [1, lq, lk]).Expand(shape);
            scores = backend.Where(mask, scores, backend.Full([], q.DType, double.NegativeInfinity).Expand(shape));
        }
        return backend.MatMul(backend.Softmax(scores, 2), v);
    }
}
