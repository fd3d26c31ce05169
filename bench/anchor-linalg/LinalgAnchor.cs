// Extra anchor rows for linear algebra, measured exactly as the shared anchor's torch_solve_f64_n256_k16 (its Measure,
// Emit and Enabled; a _fwd and a _fwd+bwd row). The shared anchor is read-only: bench/run-side-by-side.sh copies this
// file into its temporary copy of the anchor and calls TorchLinalgExtra(t) after TorchSolve(t).
using TorchSharp;
using static TorchSharp.torch;

static partial class Program
{
    static void TorchLinalgExtra(int t)
    {
        TorchCholesky(t);
        TorchSvd(t);
        TorchAttentionCausal(t);
    }

    // Cholesky of A = M·Mᵀ/n + I [1024, 1024] (f64), loss = sum(L).
    static void TorchCholesky(int t)
    {
        string name = "torch_cholesky_f64_n1024";
        if (!Enabled(name)) return;
        int n = Quick ? 64 : 1024;
        torch.manual_seed(4);
        using var m = torch.randn(n, n, dtype: ScalarType.Float64);
        using var A = (m.matmul(m.t()) / n + torch.eye(n, dtype: ScalarType.Float64)).detach().requires_grad_(true);
        var sf = Measure(() => { using var z = torch.NewDisposeScope(); torch.linalg.cholesky(A); });
        Emit(name + "_fwd", t, sf, sf.Median * 1e6, "us");
        var sb = Measure(() =>
        {
            using var z = torch.NewDisposeScope();
            torch.linalg.cholesky(A).sum().backward();
            A.grad = null;
        });
        Emit(name + "_fwd+bwd", t, sb, sb.Median * 1e6, "us");
    }

    // Reduced SVD of A = randn [256, 256] (f64), loss = sum(U) + sum(S) + sum(Vh).
    static void TorchSvd(int t)
    {
        string name = "torch_svd_f64_n256";
        if (!Enabled(name)) return;
        int n = Quick ? 32 : 256;
        torch.manual_seed(5);
        using var A = torch.randn(n, n, dtype: ScalarType.Float64).requires_grad_(true);
        var sf = Measure(() => { using var z = torch.NewDisposeScope(); torch.linalg.svd(A, fullMatrices: false); });
        Emit(name + "_fwd", t, sf, sf.Median * 1e6, "us");
        var sb = Measure(() =>
        {
            using var z = torch.NewDisposeScope();
            var (u, s, vh) = torch.linalg.svd(A, fullMatrices: false);
            (u.sum() + s.sum() + vh.sum()).backward();
            A.grad = null;
        });
        Emit(name + "_fwd+bwd", t, sb, sb.Median * 1e6, "us");
    }
}
