namespace FunctionalAD.Bench;

/// <summary>
/// Linear algebra, each with a forward row and a forward + backward row as the anchor times them (Measure around the
/// call; fwd+bwd differentiates a sum of the results with respect to every input):
/// fad_solve_f64_n256_k16 (A = randn + 256·I [256, 256], B = randn [256, 16]; loss sum(X)), anchor row
/// torch_solve_f64_n256_k16; fad_cholesky_f64_n1024 (A = M·Mᵀ/n + I, loss sum(L)) and fad_svd_f64_n256 (A = randn,
/// reduced SVD, loss sum(U) + sum(S) + sum(Vh)), whose torch rows come from bench/anchor-linalg (added to the anchor
/// by run-side-by-side.sh). Metric: microseconds per call.
/// </summary>
static class LinalgCases
{
    public static void Run(Harness h, int threads)
    {
        Solve(h, threads);
        Cholesky(h, threads);
        Svd(h, threads);
    }

    static void Rows(Harness h, int threads, string name, Func<Tensor[], Tensor> forward, Func<Tensor[], Tensor> loss, params Tensor[] inputs)
    {
        var sf = h.Measure(() => forward(inputs));
        h.Emit(name + "_fwd", threads, sf, sf.Median * 1e6, "us");
        var sb = h.Measure(() => Transform.ValueAndGrad(loss, inputs));
        h.Emit(name + "_fwd+bwd", threads, sb, sb.Median * 1e6, "us");
    }

    static void Solve(Harness h, int threads)
    {
        const string name = "fad_solve_f64_n256_k16";
        if (!h.Enabled(name)) return;
        int n = h.Quick ? 32 : 256, k = 16;
        var g = new Generator(3);
        var a = Tensor.Randn([n, n], g, DType.Float64) + Tensor.Eye(n, null, DType.Float64) * n;
        var b = Tensor.Randn([n, k], g, DType.Float64);
        var x = Linalg.Solve(a, b);
        double err = (a.MatMul(x) - b).Abs().Max().Item();
        if (err > 1e-9) Console.Error.WriteLine($"# WARNING solve residual {err}");
        Rows(h, threads, name, xs => Linalg.Solve(xs[0], xs[1]), xs => Linalg.Solve(xs[0], xs[1]).Sum(), a, b);
    }

    static void Cholesky(Harness h, int threads)
    {
        const string name = "fad_cholesky_f64_n1024";
        if (!h.Enabled(name)) return;
        int n = h.Quick ? 64 : 1024;
        var m = Tensor.Randn([n, n], new Generator(4), DType.Float64);
        var a = m.MatMul(m.Transpose(0, 1)) / n + Tensor.Eye(n, null, DType.Float64);
        var l = Linalg.Cholesky(a);
        double err = (l.MatMul(l.Transpose(0, 1)) - a).Abs().Max().Item();
        if (err > 1e-9) Console.Error.WriteLine($"# WARNING cholesky residual {err}");
        Rows(h, threads, name, xs => Linalg.Cholesky(xs[0]), xs => Linalg.Cholesky(xs[0]).Sum(), a);
    }

    static void Svd(Harness h, int threads)
    {
        const string name = "fad_svd_f64_n256";
        if (!h.Enabled(name)) return;
        int n = h.Quick ? 32 : 256;
        var a = Tensor.Randn([n, n], new Generator(5), DType.Float64);
        var (u, s, vh) = Linalg.Svd(a);
        double err = ((u * s.Unsqueeze(0)).MatMul(vh) - a).Abs().Max().Item();
        if (err > 1e-9) Console.Error.WriteLine($"# WARNING svd residual {err}");
        Rows(h, threads, name, xs => Linalg.Svd(xs[0]).S, xs =>
        {
            var (u, s, vh) = Linalg.Svd(xs[0]);
            return u.Sum() + s.Sum() + vh.Sum();
        }, a);
    }
}
