using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    /// <remarks>One head at a time, heads spread over the threads: the head's [Lq, Lk] scores (a per-thread scratch that
    /// stays in L2 for Lq = Lk = 256) from the packed GEMM reading k transposed in place, then row by row in place the
    /// maximum and exp(score − max) with its sum in one pass, then P·v into the head's slice of the result, whose rows
    /// are divided by the sums (Lq·Ev divisions instead of Lq·Lk). Nothing of [B, Lq, Lk] size is allocated. Causal: the
    /// products run in blocks of query rows that stop at the block's last attended key (the masked scores are skipped).</remarks>
    public RawTensor Attention(RawTensor q, RawTensor k, RawTensor v, double scale, bool causal) =>
        DTypeDispatch.Floating<AttentionKernel, RawTensor>(q.DType, new(this, q, k, v, scale, causal));

    readonly struct AttentionKernel(CpuBackend backend, RawTensor q, RawTensor k, RawTensor v, double scale, bool causal) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            var heads = new Heads<T>(q, k, v, scale, causal);
            var o = heads.Forward();
            heads.Release(q, k, v);
            return o;
        }
        public RawTensor NotFloating() => AttentionKernels.Attention(backend, q, k, v, scale, causal);
    }

    /// <inheritdoc/>
    /// <remarks>Per head, on the thread that owns it: P recomputed from q and k (as the forward did, instead of keeping
    /// [B, Lq, Lk] alive between the passes), v̄ = Pᵀ·g, g·vᵀ, S̄ in place of it, q̄ = S̄·k, k̄ = S̄ᵀ·q, all on the packed
    /// GEMM reading the transposed operands in place.</remarks>
    public bool TryAttentionBackward(RawTensor g, RawTensor q, RawTensor k, RawTensor v, RawTensor o, double scale, bool causal, out AttentionGradients gradients)
    {
        var r = DTypeDispatch.Floating<AttentionBackwardKernel, AttentionGradients?>(q.DType, new(g, q, k, v, o, scale, causal));
        gradients = r ?? default;
        return r is not null;
    }

    readonly struct AttentionBackwardKernel(RawTensor g, RawTensor q, RawTensor k, RawTensor v, RawTensor o, double scale, bool causal) : IFloatingKernel<AttentionGradients?>
    {
        public AttentionGradients? Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            var heads = new Heads<T>(q, k, v, scale, causal);
            var r = heads.Backward(g, o);
            heads.Release(q, k, v);
            return r;
        }
        public AttentionGradients? NotFloating() => null;
    }

    /// <summary>The operands of one attention call, row-major, and the per-head steps.</summary>
    sealed class Heads<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly T[] qa, ka, va;
        readonly int qo, ko, vo, batch, lq, lk, e, ev;
        readonly T scale;
        readonly bool causal;

        public Heads(RawTensor q, RawTensor k, RawTensor v, double scale, bool causal)
        {
            (qa, qo) = Read<T>(q); (ka, ko) = Read<T>(k); (va, vo) = Read<T>(v);
            batch = q.Shape[0]; lq = q.Shape[1]; e = q.Shape[2]; lk = k.Shape[1]; ev = v.Shape[2];
            this.scale = T.CreateTruncating(scale);
            this.causal = causal;
        }

        /// <summary>Heads per piece: at least ~2^18 multiply-adds, so that small calls stay on one thread.</summary>
        int Grain => (int)Math.Clamp((1L << 18) / Math.Max(1L, (long)lq * lk * (e + ev)), 1, int.MaxValue);

        /// <summary>Head bi of an operand [B, rows, cols] read row-major (transposed: read as [cols, rows]).</summary>
        static GemmOperand<T> Matrix(T[] data, int offset, int bi, int rows, int cols, bool transposed = false) =>
            transposed ? new(data, offset + bi * rows * cols, 0, 1, cols) : new(data, offset + bi * rows * cols, 0, cols, 1);

        /// <summary>Gives the row-major copies that <see cref="Read{T}(RawTensor)"/> made of strided operands back to
        /// the pool (they never escape this kernel).</summary>
        public void Release(RawTensor q, RawTensor k, RawTensor v)
        {
            CpuBackend.Release(q, qa); CpuBackend.Release(k, ka); CpuBackend.Release(v, va);
        }

        public RawTensor Forward()
        {
            var o = Uninit<T>(batch * lq * ev); // each head's slice is cleared just before its product adds into it
            Parallelism.For(batch, Grain, (b0, count) =>
            {
                var p = ArrayPool<T>.Shared.Rent(lq * lk);
                var inv = ArrayPool<T>.Shared.Rent(lq);
                var ot = ArrayPool<T>.Shared.Rent(ev * lq);
                for (int bi = b0; bi < b0 + count; bi++)
                {
                    Exponentials(bi, p, inv);
                    int head = bi * lq * ev;
                    o.AsSpan(head, lq * ev).Clear();
                    Product(lq, ev, lk, Matrix(p, 0, 0, lq, lk), Matrix(va, vo, bi, lk, ev), o, head, ot, Depth.ToRow);
                    // the softmax's division, on the [Lq, Ev] result rather than the [Lq, Lk] exponentials
                    for (int i = 0; i < lq; i++)
                    {
                        var row = o.AsSpan(head + i * ev, ev);
                        TensorPrimitives.Multiply(row, inv[i], row);
                    }
                }
                ArrayPool<T>.Shared.Return(p);
                ArrayPool<T>.Shared.Return(inv);
                ArrayPool<T>.Shared.Return(ot);
            });
            return Wrap(o, [batch, lq, ev]);
        }

        public AttentionGradients Backward(RawTensor gRaw, RawTensor oRaw)
        {
            var (ga, go) = Read<T>(gRaw);
            var (oa, oo) = Read<T>(oRaw);
            // not zeroed here: each head's slices are cleared just before their products add into them (in cache, instead
            // of a pass over the whole arrays); rented, so the backward pass can recycle them once added into an adjoint
            T[] dq = Uninit<T>(batch * lq * e), dk = Uninit<T>(batch * lk * e), dv = Uninit<T>(batch * lk * ev);
            Parallelism.For(batch, Grain, (b0, count) =>
            {
                var p = ArrayPool<T>.Shared.Rent(lq * lk);
                var ds = ArrayPool<T>.Shared.Rent(lq * lk);
                var inv = ArrayPool<T>.Shared.Rent(lq);
                var ct = ArrayPool<T>.Shared.Rent(Math.Max(lq, lk) * Math.Max(e, ev));
                for (int bi = b0; bi < b0 + count; bi++)
                {
                    Exponentials(bi, p, inv);
                    for (int i = 0; i < lq; i++)
                    {
                        var row = p.AsSpan(i * lk, Keys(i));
                        TensorPrimitives.Multiply(row, inv[i], row);
                    }
                    var gHead = Matrix(ga, go, bi, lq, ev);
                    dv.AsSpan(bi * lk * ev, lk * ev).Clear();
                    Product(lk, ev, lq, Matrix(p, 0, 0, lq, lk, transposed: true), gHead, dv, bi * lk * ev, ct, Depth.FromRow);
                    Array.Clear(ds, 0, lq * lk);
                    Scores(gHead, Matrix(va, vo, bi, lk, ev, transposed: true), ev, ds);
                    for (int i = 0; i < lq; i++)
                    {
                        // S̄ = P∘(Ḡ·vᵀ − rowsum(Ḡ∘o))·scale, over the keys the row attends to (P is zero past them)
                        int n = Keys(i);
                        var row = ds.AsSpan(i * lk, n);
                        T d = TensorPrimitives.Dot<T>(ga.AsSpan(go + (bi * lq + i) * ev, ev), oa.AsSpan(oo + (bi * lq + i) * ev, ev));
                        AttentionRows.ScoresCotangent(row, p.AsSpan(i * lk, n), d, scale);
                        ds.AsSpan(i * lk + n, lk - n).Clear();
                    }
                    dq.AsSpan(bi * lq * e, lq * e).Clear();
                    Product(lq, e, lk, Matrix(ds, 0, 0, lq, lk), Matrix(ka, ko, bi, lk, e), dq, bi * lq * e, ct, Depth.ToRow);
                    dk.AsSpan(bi * lk * e, lk * e).Clear();
                    Product(lk, e, lq, Matrix(ds, 0, 0, lq, lk, transposed: true), Matrix(qa, qo, bi, lq, e), dk, bi * lk * e, ct, Depth.FromRow);
                }
                ArrayPool<T>.Shared.Return(p);
                ArrayPool<T>.Shared.Return(ds);
                ArrayPool<T>.Shared.Return(inv);
                ArrayPool<T>.Shared.Return(ct);
            });
            CpuBackend.Release(gRaw, ga); CpuBackend.Release(oRaw, oa);
            return new(Wrap(dq, [batch, lq, e]), Wrap(dk, [batch, lk, e]), Wrap(dv, [batch, lk, ev]));
        }

        /// <summary>Rows per block of the causal path: a block's products stop at the last key its last row attends
        /// to, so the masked triangle of scores is (nearly) never computed: at Lq = Lk = 256, 59% of the full products'
        /// multiply-adds. A multiple of every kernel's register tile (6 or 8 rows, 8 or 16 columns).</summary>
        const int CausalRows = 48;

        /// <summary>Which part of the inner dimension a causal block of an operand's rows reaches: query rows reach
        /// the keys up to their own position (P·v, S̄·k), key rows the queries from their own position on (Pᵀ·ḡ, S̄ᵀ·q).</summary>
        enum Depth { ToRow, FromRow }

        /// <summary>Rows per block: <see cref="CausalRows"/> on the causal path, all of them otherwise.</summary>
        int Step(int rows) => causal ? CausalRows : Math.Max(rows, 1);

        /// <summary>The [Lq, Lk] scores a·b (b a transposed [L, depth] operand) added into s, zeros: on the causal path
        /// each block of rows only up to the last key its last row attends to.</summary>
        void Scores(GemmOperand<T> a, GemmOperand<T> b, int depth, T[] s)
        {
            for (int i0 = 0; i0 < lq; i0 += Step(lq))
            {
                int i1 = Math.Min(i0 + Step(lq), lq);
                Gemm.MultiplyBlockHere(i0, i1, 0, causal ? Math.Min(i1, lk) : lk, lq, lk, depth, a, b, s, 0);
            }
        }

        /// <summary>
        /// c[cOffset ..] (m×n, zeros) = a·b, where on the causal path row i of a is zero outside the part of the inner
        /// dimension <paramref name="depth"/> names, so each block of rows multiplies only that part. Where the GEMM's
        /// kernel has 6-row panels (256-bit), as cᵀ = bᵀ·aᵀ into <paramref name="scratch"/>, transposed into place:
        /// the products here have one [Lq, Lk] operand and one [L, E], and packing the large one as B transposes 8×8
        /// blocks, while 6-row A panels are packed element by element (the forward's P·v spent more time packing than
        /// multiplying that way).
        /// </summary>
        void Product(int m, int n, int k, GemmOperand<T> a, GemmOperand<T> b, T[] c, int cOffset, T[] scratch, Depth depth)
        {
            if (m == 0 || n == 0) return;
            bool transposed = Gemm.Best != GemmKernelKind.Vector512;
            if (transposed) Array.Clear(scratch, 0, m * n);
            for (int i0 = 0; i0 < m; i0 += Step(m))
            {
                int i1 = Math.Min(i0 + Step(m), m);
                int lo = causal && depth == Depth.FromRow ? i0 : 0, hi = causal && depth == Depth.ToRow ? Math.Min(i1, k) : k;
                if (hi <= lo) continue; // key rows past the last query: attended by no one, their zeros stay
                GemmOperand<T> aPart = a with { Offset = a.Offset + lo * a.ColStride }, bPart = b with { Offset = b.Offset + lo * b.RowStride };
                if (transposed) Gemm.MultiplyBlockHere(0, n, i0, i1, n, m, hi - lo, Transposed(bPart), Transposed(aPart), scratch, 0);
                else Gemm.MultiplyBlockHere(i0, i1, 0, n, m, n, hi - lo, aPart, bPart, c, cOffset);
            }
            if (transposed) GemmPacking.Transpose(ref scratch[0], m, n, m, ref c[cOffset], n);
        }

        static GemmOperand<T> Transposed(GemmOperand<T> x) => x with { RowStride = x.ColStride, ColStride = x.RowStride };

        /// <summary>How many keys query row i attends to.</summary>
        int Keys(int i) => causal ? Math.Min(i + 1, lk) : lk;

        /// <summary>p[0 .. Lq·Lk) = exp(q·kᵀ·scale − each row's maximum) of head bi, zeros past each row's last key,
        /// and inv[i] = 1 / row i's sum: the softmax is p[i, ·]·inv[i].</summary>
        void Exponentials(int bi, T[] p, T[] inv)
        {
            Array.Clear(p, 0, lq * lk);
            Scores(Matrix(qa, qo, bi, lq, e), Matrix(ka, ko, bi, lk, e, transposed: true), e, p);
            for (int i = 0; i < lq; i++)
            {
                int n = Keys(i);
                inv[i] = T.One / AttentionRows.ExpShifted(p.AsSpan(i * lk, n), scale);
                p.AsSpan(i * lk + n, lk - n).Clear();
            }
        }
    }
}
