using System.Runtime.CompilerServices;
using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>Which triangle a triangular solve reads, and whether its diagonal is taken as ones.</summary>
internal sealed record TriangularAttr(bool Upper, bool Unit);

/// <summary>The user-facing operation (for errors) and the shape the user passed.</summary>
internal sealed record LinalgAttr(string Op, int[] Shape);

/// <summary>
/// The primitive table, linear algebra: solve (LU with partial pivoting), triangular solve, Cholesky, det and
/// log|det| (and det's sign, which has no derivative). Operands are batches [B, n, n] and [B, n, k]; Linalg
/// broadcasts and reshapes. Every rule is written with these primitives and matmul, so it is differentiable again
/// (Giles 2008, "Collected matrix derivative results"; Murray 2016 for Cholesky).
/// </summary>
internal static partial class Primitives
{
    static Tensor Mt(Tensor x) => x.Transpose(-1, -2);
    static Tensor SolveBy(Tensor a, Tensor b, object? attr) => Dispatch.Apply(Solve!, [a, b], attr);
    static Tensor Triangular(Tensor a, Tensor b, bool upper, bool unit) => Dispatch.Apply(SolveTriangular!, [a, b], new TriangularAttr(upper, unit));
    static TriangularAttr Tri(object? a) => (TriangularAttr)a!;
    static Tensor Inverse(Tensor a, object? attr) =>
        SolveBy(a, Tensor.Eye(a.ShapeRef[^1], null, a.DType, a.Device).Expand(a.ShapeRef), attr);
    static Tensor BatchTrace(Tensor x) => Linalg.Diagonal(x).Sum([-1]);
    static Tensor PerMatrix(Tensor v) => v.Reshape(-1, 1, 1);

    /// <summary>The LU factors a solve's forward computed, kept as long as its result lives (PyTorch keeps them too).</summary>
    static readonly ConditionalWeakTable<RawTensor, FactorsOf> SolveFactors = new();
    sealed class FactorsOf(LuFactors factors) { public readonly LuFactors Factors = factors; }

    // X = A⁻¹B. dX = A⁻¹(dB - dA·X); cotangents Ḃ = A⁻ᵀḠ and Ā = -Ḃ·Xᵀ.
    public static readonly Primitive Solve = new("solve",
        (b, xs, attr) =>
        {
            var f = b.LuFactor(xs[0]);
            if (LinalgKernels.FirstZeroPivot(b, f.Lu) is { } zero) { var a = (LinalgAttr)attr!; throw new SingularMatrixException(a.Op, a.Shape, zero.Batch, zero.Pivot); }
            var x = b.LuSolve(f.Lu, f.Pivots, xs[1]);
            SolveFactors.AddOrUpdate(x, new(f));
            return x;
        },
        [(dA, xs, y, attr) => -SolveBy(xs[0], dA.MatMul(y), attr), (dB, xs, _, attr) => SolveBy(xs[0], dB, attr)],
        [(g, xs, y, attr) => (-SolveAdjoint(g, xs, y, attr, keep: true)).MatMul(Mt(y)), (g, xs, y, attr) => SolveAdjoint(g, xs, y, attr, keep: false)]) // -Ḃ (n×k) before the product, not the n×n result
    { RulesKeepResults = true };

    /// <summary>
    /// Ḃ = A⁻ᵀḠ. When A carries no derivative of an outer transformation (first order), from the forward's factors
    /// PA = LU: Aᵀ = UᵀLᵀP, so two triangular solves with the packed factors and the row swaps undone (O(n²k),
    /// instead of factorizing Aᵀ again). Otherwise as a solve with Aᵀ, so that higher orders see A.
    /// </summary>
    static Tensor SolveAdjoint(Tensor g, Tensor[] xs, Tensor y, object? attr, bool keep)
    {
        // both inputs' rules need Ḃ for the same cotangent, one after the other: the second (B's) reuses the first's.
        // Only A's rule keeps its Ḃ, which is never itself a rule's result: the backward pass may add into, or recycle,
        // a result a rule has just computed (Backprop, ResultPool), and a kept tensor must not change.
        if (lastAdjoint is { } last && ReferenceEquals(last.G, g) && ReferenceEquals(last.Y, y) && ReferenceEquals(last.A, xs[0]))
        {
            lastAdjoint = null; // used: nothing of this solve stays referenced
            return last.Result;
        }
        var result = SolveAdjointOf(g, xs, y, attr);
        lastAdjoint = keep ? (g, y, xs[0], result) : null;
        return result;
    }

    [ThreadStatic] static (Tensor G, Tensor Y, Tensor A, Tensor Result)? lastAdjoint;

    static Tensor SolveAdjointOf(Tensor g, Tensor[] xs, Tensor y, object? attr)
    {
        if (xs[0].tag is not null || !SolveFactors.TryGetValue(y.Value, out var kept)) return SolveBy(Mt(xs[0]), g, attr);
        // nothing differentiates through Ḃ either: the backend's one kernel (both solves and the swaps, one pass
        // per column range); else as primitives, so that an outer derivative of Ḡ sees them
        if (g.tag is null && g.DType == y.DType && g.Device == y.Device)
            return new Tensor(y.Backend.LuSolveAdjoint(kept.Factors.Lu, kept.Factors.Pivots, g.Value));
        var lu = Mt(new Tensor(kept.Factors.Lu));
        var w = Triangular(lu, Triangular(lu, g, upper: false, unit: false), upper: true, unit: true);
        // the forward applied the swaps r ↔ piv[r] in order, so (P·b)[r] = b[p[r]]; x = Pᵀw puts w[r] at row p[r]
        var backend = Backend.For(kept.Factors.Pivots.Device);
        var piv = backend.ToArray<int>(kept.Factors.Pivots);
        int batch = w.ShapeRef[0], n = w.ShapeRef[1], k = w.ShapeRef[2];
        var rows = new long[batch * n];
        var p = new int[n];
        for (int bi = 0; bi < batch; bi++)
        {
            for (int r = 0; r < n; r++) p[r] = r;
            for (int r = 0; r < n; r++) (p[r], p[piv[bi * n + r]]) = (p[piv[bi * n + r]], p[r]);
            for (int r = 0; r < n; r++) rows[bi * n + p[r]] = r;
        }
        var index = Tensor.FromArray(rows, [batch, n, 1]).ToDevice(w.Device).Expand([batch, n, k]);
        return w.Gather(1, index);
    }

    /// <summary>The entries of a triangular solve's matrix that it reads (the others have no derivative).</summary>
    static Tensor ReadPart(Tensor x, TriangularAttr t) =>
        t.Upper ? Linalg.Triu(x, t.Unit ? 1 : 0) : Linalg.Tril(x, t.Unit ? -1 : 0);

    // X = A⁻¹B for triangular A, as solve but with dA and Ā restricted to the triangle read; Aᵀ solves the other way.
    public static readonly Primitive SolveTriangular = new("solveTriangular",
        (b, xs, a) => b.TriangularSolve(xs[0], xs[1], Tri(a).Upper, Tri(a).Unit),
        [(dA, xs, y, a) => -Triangular(xs[0], ReadPart(dA, Tri(a)).MatMul(y), Tri(a).Upper, Tri(a).Unit),
         (dB, xs, _, a) => Triangular(xs[0], dB, Tri(a).Upper, Tri(a).Unit)],
        [(g, xs, y, a) => ReadPart(-Triangular(Mt(xs[0]), g, !Tri(a).Upper, Tri(a).Unit).MatMul(Mt(y)), Tri(a)),
         (g, xs, _, a) => Triangular(Mt(xs[0]), g, !Tri(a).Upper, Tri(a).Unit)]);

    /// <summary>Φ of Murray 2016: the lower triangle with the diagonal halved.</summary>
    static Tensor Phi(Tensor x) => Linalg.Tril(x, -1) + Linalg.Tril(Linalg.Triu(x)) * 0.5;

    // A = LLᵀ, only A's lower triangle read: with dS = tril(dA) + tril(dA, -1)ᵀ (the symmetric matrix the lower
    // triangle stands for), dL = L·Φ(L⁻¹·dS·L⁻ᵀ) (Murray 2016). Its transpose: P = Φ(Lᵀ·L̄), S = L⁻ᵀ·P·L⁻¹,
    // Ā = tril(S) + tril(Sᵀ, -1).
    public static readonly Primitive Cholesky = new("cholesky",
        (b, xs, attr) =>
        {
            var f = b.Cholesky(xs[0]);
            for (int i = 0; i < f.FailedOrder.Length; i++)
                if (f.FailedOrder[i] != 0) { var a = (LinalgAttr)attr!; throw new NotPositiveDefiniteException(a.Op, a.Shape, i, f.FailedOrder[i]); }
            return f.L;
        },
        [(dA, _, l, _) =>
        {
            var ds = Linalg.Tril(dA) + Mt(Linalg.Tril(dA, -1));
            var w = Triangular(l, Mt(Triangular(l, ds, false, false)), false, false); // L⁻¹·dS·L⁻ᵀ (dS symmetric)
            return l.MatMul(Phi(w));
        }],
        [(g, _, l, _) =>
        {
            var lt = Mt(l);
            var p = Phi(lt.MatMul(g));
            var s = Mt(Triangular(lt, Mt(Triangular(lt, p, true, false)), true, false)); // L⁻ᵀ·P·L⁻¹
            return Linalg.Tril(s) + Linalg.Tril(Mt(s), -1);
        }]);

    // log|det A| per matrix: d = tr(A⁻¹dA); Ā = ḡ·A⁻ᵀ. (-inf for a singular A; its derivative then throws.)
    public static readonly Primitive LogAbsDet = new("logAbsDet",
        (b, xs, _) => LinalgKernels.Determinants(b, b.LuFactor(xs[0])).LogAbs,
        [(dA, xs, _, attr) => BatchTrace(SolveBy(xs[0], dA, attr))],
        [(g, xs, _, attr) => PerMatrix(g) * Mt(Inverse(xs[0], attr))]);

    // det A per matrix (0 for a singular A): d = det·tr(A⁻¹dA); Ā = ḡ·det·A⁻ᵀ (Jacobi's formula).
    public static readonly Primitive Det = new("det",
        (b, xs, _) => LinalgKernels.Determinants(b, b.LuFactor(xs[0])).Det,
        [(dA, xs, y, attr) => y * BatchTrace(SolveBy(xs[0], dA, attr))],
        [(g, xs, y, attr) => PerMatrix(g * y) * Mt(Inverse(xs[0], attr))]);

    // The sign of det (+1, -1, 0): piecewise constant, no derivative.
    public static readonly Primitive DetSign = new("detSign",
        (b, xs, _) => LinalgKernels.Determinants(b, b.LuFactor(xs[0])).Sign, [null], [null], zeroDerivative: true);
}

internal static partial class Primitives
{
    // The packed factors of P·A = L·U (L strictly below the diagonal, U on and above). With P fixed and
    // X = L⁻¹·P·dA·U⁻¹: dL = L·tril(X, -1), dU = triu(X)·U, so d(packed) = L·tril(X, -1) + triu(X)·U. Its transpose:
    // M = tril(Lᵀ·Ḡ, -1) + triu(Ḡ·Uᵀ), Ā = Pᵀ·L⁻ᵀ·M·U⁻ᵀ. L⁻¹ and U⁻¹ are triangular solves that read the packed
    // matrix itself (unit lower, upper).
    public static readonly Primitive LuPacked = new("luFactor",
        (b, xs, _) => b.LuFactor(xs[0]).Lu,
        [(dA, xs, y, _) =>
        {
            var p = Dispatch.Apply(LuPermutation!, [xs[0]], null);
            var z = Triangular(y, p.MatMul(dA), false, true);                // L⁻¹·P·dA
            var x = Mt(Triangular(Mt(y), Mt(z), false, false));              // ·U⁻¹
            var l = Linalg.Tril(y, -1) + Tensor.Eye(y.ShapeRef[^1], null, y.DType, y.Device);
            return l.MatMul(Linalg.Tril(x, -1)) + Linalg.Triu(x).MatMul(Linalg.Triu(y));
        }],
        [(g, xs, y, _) =>
        {
            var p = Dispatch.Apply(LuPermutation!, [xs[0]], null);
            var l = Linalg.Tril(y, -1) + Tensor.Eye(y.ShapeRef[^1], null, y.DType, y.Device);
            var m = Linalg.Tril(Mt(l).MatMul(g), -1) + Linalg.Triu(g.MatMul(Mt(Linalg.Triu(y))));
            var w = Triangular(Mt(y), m, true, true);                        // L⁻ᵀ·M
            return Mt(p).MatMul(Mt(Triangular(y, Mt(w), true, false)));      // ·U⁻ᵀ, then Pᵀ
        }]);

    // The permutation matrix P of P·A = L·U (as A's dtype): piecewise constant in A, no derivative.
    public static readonly Primitive LuPermutation = new("luPermutation",
        (b, xs, _) => LinalgKernels.PermutationMatrix(b, b.LuFactor(xs[0]).Pivots, xs[0].DType), [null], [null], zeroDerivative: true);
}

internal static partial class Primitives
{
    /// <summary>F[i, j] = 1/(λⱼ - λᵢ) off the diagonal, 0 on it (λ [B, 1, n]); the diagonal divides by 1, not 0, so no
    /// infinity sits in the branch not taken.</summary>
    static Tensor EigenGaps(Tensor lambda)
    {
        int n = lambda.ShapeRef[^1];
        var eye = Tensor.Eye(n, null, lambda.DType, lambda.Device);
        var gaps = lambda - lambda.Transpose(-1, -2) + eye;
        return Linalg.Tril(1 / gaps, -1) + Linalg.Triu(1 / gaps, 1);
    }

    static Tensor EigenValues(Tensor packed) => packed.Slice(1, 0, 1);
    static Tensor EigenVectors(Tensor packed) => packed.Slice(1, 1);

    // Symmetric eigen-decomposition of the matrix A's lower triangle stands for, packed [B, n+1, n] (row 0: λ, then V).
    // With dS = tril(dA) + tril(dA, -1)ᵀ and M = Vᵀ·dS·V: dλ = diag(M), dV = V·(F∘M) (Giles 2008), F as in EigenGaps.
    // Transpose: K = V·(diag(λ̄) + F∘(Vᵀ·V̄))·Vᵀ, Ā = tril(K) + tril(Kᵀ, -1). Repeated eigenvalues make F infinite: the
    // eigenvectors (not the eigenvalues' sum) are then not differentiable.
    public static readonly Primitive SymmetricEigen = new("eigh",
        (b, xs, _) => b.SymmetricEigen(xs[0]),
        [(dA, _, y, _) =>
        {
            var v = EigenVectors(y);
            var ds = Linalg.Tril(dA) + Mt(Linalg.Tril(dA, -1));
            var m = Mt(v).MatMul(ds).MatMul(v);
            var dLambda = Linalg.Diagonal(m).Unsqueeze(1);
            var dV = v.MatMul(EigenGaps(EigenValues(y)) * m);
            return Tensor.Concat([dLambda, dV], 1);
        }],
        [(g, _, y, _) =>
        {
            var v = EigenVectors(y);
            var inner = Linalg.Diag(EigenValues(g).Squeeze(1)) + EigenGaps(EigenValues(y)) * Mt(v).MatMul(EigenVectors(g));
            var k = v.MatMul(inner).MatMul(Mt(v));
            return Linalg.Tril(k) + Linalg.Tril(Mt(k), -1);
        }]);
}

internal static partial class Primitives
{
    static (Tensor U, Tensor S, Tensor V) SvdParts(Tensor packed, int m) =>
        (packed.Slice(1, 0, m), packed.Slice(1, m, m + 1), packed.Slice(1, m + 1));

    // A = U·diag(σ)·Vᵀ [B, m, n], reduced (k = min(m, n)), packed [B, m + 1 + n, k] (U, then σ as one row, then V).
    // For a tall A (m ≥ n; a wide one is handled as Aᵀ = V·diag(σ)·Uᵀ) with dP = Uᵀ·dA·V and F[i, j] = 1/(σⱼ² - σᵢ²)
    // (0 on the diagonal): dσ = diag(dP), dU = U·(F∘(dP·S + S·dPᵀ)) + (I - UUᵀ)·dA·V·S⁻¹, dV = V·(F∘(S·dP + dPᵀ·S))
    // (Townsend 2016; PyTorch's linalg_svd_jvp). Transpose: with J = F∘(UᵀŪ), K = F∘(VᵀV̄),
    // Ā = U·(diag(σ̄) + (J + Jᵀ)·S + S·(K + Kᵀ))·Vᵀ + (I - UUᵀ)·Ū·S⁻¹·Vᵀ. The (I - UUᵀ) term vanishes for square A
    // and is left out there. Repeated singular values make F infinite (the singular vectors are not unique there),
    // and a zero σ of a non-square A makes S⁻¹ infinite: the vectors' derivatives exist only for distinct, nonzero σ.
    public static readonly Primitive Svd = new("svd",
        (b, xs, _) => b.Svd(xs[0], vectors: true),
        [(dA, xs, y, _) =>
        {
            int m = xs[0].ShapeRef[^2], n = xs[0].ShapeRef[^1];
            var (u, s, v) = SvdParts(y, m);
            bool wide = m < n;
            if (wide) { (u, v) = (v, u); dA = Mt(dA); (m, n) = (n, m); }
            var st = Mt(s);
            var dP = Mt(u).MatMul(dA).MatMul(v);
            var dPt = Mt(dP);
            var f = EigenGaps(s * s);
            var dU = u.MatMul(f * (dP * s + st * dPt));
            if (m > n) dU += (dA.MatMul(v) - u.MatMul(dP)) / s;
            var dV = v.MatMul(f * (st * dP + dPt * s));
            var dS = Linalg.Diagonal(dP).Unsqueeze(1);
            if (wide) (dU, dV) = (dV, dU);
            return Tensor.Concat([dU, dS, dV], 1);
        }],
        [(g, xs, y, _) =>
        {
            int m = xs[0].ShapeRef[^2], n = xs[0].ShapeRef[^1];
            var (u, s, v) = SvdParts(y, m);
            var (gu, gs, gv) = SvdParts(g, m);
            bool wide = m < n;
            if (wide) { (u, v) = (v, u); (gu, gv) = (gv, gu); (m, n) = (n, m); }
            var f = EigenGaps(s * s);
            var utg = Mt(u).MatMul(gu);
            var j = f * utg;
            var k = f * Mt(v).MatMul(gv);
            var inner = Tensor.Eye(s.ShapeRef[^1], null, s.DType, s.Device) * gs + (j + Mt(j)) * s + Mt(s) * (k + Mt(k));
            var a = u.MatMul(inner);
            if (m > n) a += (gu - u.MatMul(utg)) / s;
            a = a.MatMul(Mt(v));
            return wide ? Mt(a) : a;
        }]);

    // σ alone [B, k], descending: dσ = diag(Uᵀ·dA·V), Ā = U·diag(σ̄)·Vᵀ, with U and V from the svd primitive (so the
    // second derivative goes through svd's rule). The first derivative is well defined wherever the σ are distinct
    // or, for a repeated σ, in the sum of the repeated ones (uⱼvⱼᵀ summed over them does not depend on the basis).
    public static readonly Primitive SvdVals = new("svdvals",
        (b, xs, _) => b.Svd(xs[0], vectors: false),
        [(dA, xs, _, _) =>
        {
            var (u, _, v) = SvdParts(Dispatch.Apply(Svd!, [xs[0]], null), xs[0].ShapeRef[^2]);
            return (Mt(u).MatMul(dA) * Mt(v)).Sum([-1]);
        }],
        [(g, xs, _, _) =>
        {
            var (u, _, v) = SvdParts(Dispatch.Apply(Svd!, [xs[0]], null), xs[0].ShapeRef[^2]);
            return (u * g.Unsqueeze(1)).MatMul(Mt(v));
        }]);
}

internal static partial class Primitives
{
    // A = Q·R [B, m, n], m ≥ n, packed [B, m + n, n] (Q, then R with a non-negative diagonal). With X = dA·R⁻¹,
    // C = Qᵀ·X and U = triu(C) + tril(C, -1)ᵀ (Qᵀ·dQ is skew on the n×n block, dR·R⁻¹ upper triangular):
    // dR = U·R, dQ = X - Q·U. Transpose: G = R̄·Rᵀ - Qᵀ·Q̄, M = triu(G) + tril(Gᵀ, -1), Ā = (Q̄ + Q·M)·R⁻ᵀ (PyTorch's
    // linalg_qr_backward). Defined for full column rank (R invertible).
    public static readonly Primitive Qr = new("qr",
        (b, xs, _) => b.Qr(xs[0]),
        [(dA, xs, y, _) =>
        {
            int m = xs[0].ShapeRef[^2];
            Tensor q = y.Slice(1, 0, m), r = y.Slice(1, m);
            var x = Mt(Triangular(Mt(r), Mt(dA), false, false));          // dA·R⁻¹
            var c = Mt(q).MatMul(x);
            var u = Linalg.Triu(c) + Mt(Linalg.Tril(c, -1));
            return Tensor.Concat([x - q.MatMul(u), u.MatMul(r)], 1);
        }],
        [(g, xs, y, _) =>
        {
            int m = xs[0].ShapeRef[^2];
            Tensor q = y.Slice(1, 0, m), r = y.Slice(1, m), gq = g.Slice(1, 0, m), gr = g.Slice(1, m);
            var gm = gr.MatMul(Mt(r)) - Mt(q).MatMul(gq);
            var mm = Linalg.Triu(gm) + Linalg.Tril(Mt(gm), -1);
            return Mt(Triangular(r, Mt(gq + q.MatMul(mm)), true, false));  // (Q̄ + Q·M)·R⁻ᵀ
        }]);
}
