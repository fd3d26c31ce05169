using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>The attribute of the attention primitive: the scores' scale, and whether query i sees keys 0..i only.</summary>
internal sealed record AttentionAttr(double Scale, bool Causal);

/// <summary>
/// The primitive table, attention: softmax(q·kᵀ·scale)·v over q [..., Lq, E], k [..., Lk, E], v [..., Lk, Ev] with
/// equal leading dimensions and Lk ≥ 1 (Tensor.ScaledDotProductAttention broadcasts them first, and keeps masks and
/// empty key sets on its composite path). One tape node instead of six, and a backend kernel for the value; the rules
/// are the composite's derivatives written with matmul and softmax's formula, so every order is differentiable. At
/// first order the backend's fused backward (<see cref="IBackend.TryAttentionBackward"/>) computes all three
/// cotangents in one pass over the heads.
/// </summary>
internal static partial class Primitives
{
    static AttentionAttr Attn(object? a) => (AttentionAttr)a!;

    // O = P·v, P = softmax(S), S = q·kᵀ·scale. Tangents: Ṡ = (q̇·kᵀ + q·k̇ᵀ)·scale, Ṗ = P∘(Ṡ − rowsum(P∘Ṡ)),
    // Ȯ = Ṗ·v + P·v̇. Cotangents: v̄ = Pᵀ·Ō, S̄ = P∘(Ō·vᵀ − rowsum(Ō∘O))·scale, q̄ = S̄·k, k̄ = S̄ᵀ·q.
    public static readonly Primitive Attention = new("attention",
        (b, xs, a) => AttentionForward(b, xs, Attn(a)),
        [(dq, xs, _, a) => ScoresTangent(Probabilities(xs[0], xs[1], Attn(a)), dq.MatMul(Mt(xs[1])) * Attn(a).Scale, xs[2]),
         (dk, xs, _, a) => ScoresTangent(Probabilities(xs[0], xs[1], Attn(a)), xs[0].MatMul(Mt(dk)) * Attn(a).Scale, xs[2]),
         (dv, xs, _, a) => Probabilities(xs[0], xs[1], Attn(a)).MatMul(dv)],
        [(g, xs, y, a) => AttentionCotangent(0, g, xs, y, Attn(a)),
         (g, xs, y, a) => AttentionCotangent(1, g, xs, y, Attn(a)),
         (g, xs, y, a) => AttentionCotangent(2, g, xs, y, Attn(a))])
    { RulesKeepResults = true }; // the first rule keeps the other two cotangents (lastAttention): not temporaries to recycle

    /// <summary>The operands viewed as [B, L, E] (B the product of the leading dimensions) for the backend.</summary>
    static RawTensor Heads(IBackend b, RawTensor x)
    {
        int[] shape = [FunctionalAD.Shape.Numel(x.Shape.AsSpan(0, x.Rank - 2)), x.Shape[^2], x.Shape[^1]];
        return x.TryReshapeView(shape) ?? b.Contiguous(x).TryReshapeView(shape)!;
    }

    /// <summary>A [B, rows, cols] result back in the leading dimensions of <paramref name="like"/>.</summary>
    static RawTensor Unheads(RawTensor r, int[] like, int rows, int cols) => r.TryReshapeView([.. like[..^2], rows, cols])!;

    static RawTensor AttentionForward(IBackend b, RawTensor[] xs, AttentionAttr a)
    {
        var r = b.Attention(Heads(b, xs[0]), Heads(b, xs[1]), Heads(b, xs[2]), a.Scale, a.Causal);
        return Unheads(r, xs[0].Shape, xs[0].Shape[^2], xs[2].Shape[^1]);
    }

    /// <summary>P = softmax(q·kᵀ·scale) with the keys after each query's position removed when causal (differentiable).</summary>
    static Tensor Probabilities(Tensor q, Tensor k, AttentionAttr a)
    {
        var s = q.MatMul(Mt(k)) * a.Scale;
        if (a.Causal)
        {
            int lq = s.ShapeRef[^2], lk = s.ShapeRef[^1];
            var after = new bool[lq * lk];
            for (int i = 0; i < lq; i++)
                for (int j = i + 1; j < lk; j++) after[i * lk + j] = true;
            s = s.MaskedFill(Tensor.FromArray(after, lq, lk).ToDevice(s.Device), double.NegativeInfinity);
        }
        return s.Softmax(-1);
    }

    /// <summary>Ṗ·v for the scores' tangent Ṡ: Ṗ = P∘(Ṡ − rowsum(P∘Ṡ)).</summary>
    static Tensor ScoresTangent(Tensor p, Tensor ds, Tensor v)
    {
        var pd = p * ds;
        return (pd - p * pd.Sum([-1], keepDim: true)).MatMul(v);
    }

    /// <summary>
    /// The cotangent of input <paramref name="input"/>. At first order (nothing carries an outer derivative) the
    /// backend's fused kernel computes all three at once; the two rules that follow for the same node take theirs from
    /// <see cref="lastAttention"/>. Otherwise composed, so that higher orders see q, k and v.
    /// </summary>
    static Tensor AttentionCotangent(int input, Tensor g, Tensor[] xs, Tensor y, AttentionAttr a)
    {
        if (lastAttention is { } last && ReferenceEquals(last.G, g) && ReferenceEquals(last.Y, y) && last.Grads[input] is { } kept)
        {
            last.Grads[input] = null; // handed out: nothing of this call stays referenced once all three are
            if (last.Grads.All(x => x is null)) lastAttention = null;
            return kept;
        }
        if (g.tag is null && y.tag is null && xs.All(x => x.tag is null) && g.DType == y.DType && g.Device == y.Device)
        {
            var b = y.Backend;
            var raw = xs.Select(x => Heads(b, x.Value)).ToArray();
            if (b.TryAttentionBackward(Heads(b, g.Value), raw[0], raw[1], raw[2], Heads(b, y.Value), a.Scale, a.Causal, out var r))
            {
                Tensor?[] grads =
                [
                    new Tensor(Unheads(r.Query, xs[0].ShapeRef, xs[0].ShapeRef[^2], xs[0].ShapeRef[^1])),
                    new Tensor(Unheads(r.Key, xs[1].ShapeRef, xs[1].ShapeRef[^2], xs[1].ShapeRef[^1])),
                    new Tensor(Unheads(r.Value, xs[2].ShapeRef, xs[2].ShapeRef[^2], xs[2].ShapeRef[^1])),
                ];
                var mine = grads[input]!;
                // the walk asks for a node's cotangents in input order: keep only the ones still to come
                for (int j = 0; j <= input; j++) grads[j] = null;
                lastAttention = input < 2 ? (g, y, grads) : null;
                return mine;
            }
        }
        Tensor q = xs[0], k = xs[1], v = xs[2];
        var p = Probabilities(q, k, a);
        if (input == 2) return Mt(p).MatMul(g);
        var ds = p * (g.MatMul(Mt(v)) - (g * y).Sum([-1], keepDim: true)) * a.Scale;
        return input == 0 ? ds.MatMul(k) : Mt(ds).MatMul(q);
    }

    [ThreadStatic] static (Tensor G, Tensor Y, Tensor?[] Grads)? lastAttention;
}
