using FunctionalAD.Autodiff;

namespace FunctionalAD;

public sealed partial class Tensor
{
    /// <summary>
    /// Scaled dot-product attention as PyTorch's <c>scaled_dot_product_attention</c>: softmax(q·kᵀ·scale + mask)·v with
    /// query [..., Lq, E], key [..., Lk, E] and value [..., Lk, Ev] (leading dimensions broadcast) giving [..., Lq, Ev].
    /// <paramref name="mask"/> broadcasts to [..., Lq, Lk]: a Bool mask is true where a query may attend (false
    /// positions get -∞); a floating-point mask is added to the scores. <paramref name="causal"/> lets query i attend
    /// to keys 0..i only (the lower triangle, aligned at the top left, as in PyTorch). <paramref name="scale"/> defaults
    /// to 1/√E. The softmax subtracts each row's maximum, so large logits do not overflow; a row with no key to attend to
    /// gives zeros (PyTorch's math kernel since 2.5), with zero derivative, rather than NaN.
    /// </summary>
    /// <exception cref="ShapeMismatchException">an operand has fewer than 2 dimensions, the feature sizes of query and key
    /// differ, key and value have different lengths, or the mask does not broadcast to the scores.</exception>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null, bool causal = false, double? scale = null)
    {
        ArgumentNullException.ThrowIfNull(query); ArgumentNullException.ThrowIfNull(key); ArgumentNullException.ThrowIfNull(value);
        const string op = "scaledDotProductAttention";
        if (query.Rank < 2 || key.Rank < 2 || value.Rank < 2)
            throw new ShapeMismatchException(op, $"query, key and value need at least 2 dimensions [..., L, E], got {F(query.shape)}, {F(key.shape)} and {F(value.shape)}");
        if (query.shape[^1] != key.shape[^1])
            throw new ShapeMismatchException(op, $"query {F(query.shape)} and key {F(key.shape)} have different feature sizes ({query.shape[^1]} and {key.shape[^1]})");
        if (key.shape[^2] != value.shape[^2])
            throw new ShapeMismatchException(op, $"key {F(key.shape)} and value {F(value.shape)} have different lengths ({key.shape[^2]} and {value.shape[^2]})");
        SameDevice(op, query, key); SameDevice(op, query, value);
        if (mask is null && key.shape[^2] > 0 && query.DType.IsFloatingPoint() && key.DType == query.DType && value.DType == query.DType)
            return Attention(query, key, value, causal, scale ?? 1.0 / Math.Sqrt(query.shape[^1]));
        var scores = query.MatMul(key.Transpose(-2, -1)) * (scale ?? 1.0 / Math.Sqrt(query.shape[^1]));
        if (mask is null && !causal) return scores.Softmax(-1).MatMul(value);
        if (mask is not null)
        {
            SameDevice(op, query, mask);
            if (!FunctionalAD.Shape.BroadcastsTo(mask.shape, scores.shape))
                throw new ShapeMismatchException(op, $"mask of shape {F(mask.shape)} does not broadcast to the scores' shape {F(scores.shape)} (query {F(query.shape)}, key {F(key.shape)})");
            scores = mask.DType == DType.Bool ? Where(mask, scores, ScalarLike(double.NegativeInfinity, scores)) : scores + mask;
        }
        if (causal) scores = Where(TriangleMask(scores.shape[^2], scores.shape[^1], 0, lower: true, scores.Device), scores, ScalarLike(double.NegativeInfinity, scores));
        // A row masked entirely would be 0/0: it attends to nothing and gives 0. Its scores are replaced by zeros before
        // the softmax so that no NaN reaches the derivative either.
        var dead = scores.StopGradient().Max([-1], keepDim: true).Eq(double.NegativeInfinity);
        var zero = ScalarLike(0, scores);
        var p = Where(dead, zero, Where(dead, zero, scores).Softmax(-1));
        return p.MatMul(value);
    }

    /// <summary>The attention primitive (one tape node, the backend's kernel) on operands whose leading dimensions are
    /// broadcast to one shape first; Lk ≥ 1, so no row is dead.</summary>
    static Tensor Attention(Tensor query, Tensor key, Tensor value, bool causal, double scale)
    {
        const string op = "scaledDotProductAttention";
        var lead = FunctionalAD.Shape.Broadcast(op, query.shape[..^2], FunctionalAD.Shape.Broadcast(op, key.shape[..^2], value.shape[..^2]));
        Tensor Lead(Tensor x) => x.BroadcastTo([.. lead, x.shape[^2], x.shape[^1]]);
        return Dispatch.Apply(Primitives.Attention, [Lead(query), Lead(key), Lead(value)], new AttentionAttr(scale, causal));
    }
}
