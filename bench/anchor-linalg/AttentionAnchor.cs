// Extra anchor row: the shared anchor's attention case (torch_attention_f32_b8_h8_s256_d64 in its Layers.cs) with the
// causal mask, measured the same way (its Measure, Emit and Enabled); called from TorchLinalgExtra(t).
using TorchSharp;
using static TorchSharp.torch;

static partial class Program
{
    // Causal scaled dot-product attention, q, k, v [8 batch, 8 heads, 256 positions, 64] (f32), loss = sum(out).
    static void TorchAttentionCausal(int t)
    {
        string name = "torch_attention_causal_f32_b8_h8_s256_d64";
        if (!Enabled(name)) return;
        int b = Quick ? 2 : 8, h = Quick ? 2 : 8, s = Quick ? 16 : 256, d = Quick ? 8 : 64;
        using var q = torch.randn(b, h, s, d).requires_grad_(true);
        using var k = torch.randn(b, h, s, d).requires_grad_(true);
        using var v = torch.randn(b, h, s, d).requires_grad_(true);
        var sf = Measure(() => { using var z = torch.NewDisposeScope(); nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true); });
        Emit(name + "_fwd", t, sf, sf.Median * 1e3, "ms");
        var sb = Measure(() =>
        {
            using var z = torch.NewDisposeScope();
            nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true).sum().backward();
            q.grad = null; k.grad = null; v.grad = null;
        });
        Emit(name + "_fwd+bwd", t, sb, sb.Median * 1e3, "ms");
    }
}
