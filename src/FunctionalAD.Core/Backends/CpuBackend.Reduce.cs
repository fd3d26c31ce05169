using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public RawTensor Reduce(ReduceOp op, RawTensor x, int[] axes, bool keepDim) => DTypeDispatch.Numeric<ReduceKernel, RawTensor>(x.DType, new(op, x, axes, keepDim));

    /// <summary>Bool reduces as Int32 (a sum counts the true elements).</summary>
    readonly struct ReduceKernel(ReduceOp op, RawTensor x, int[] axes, bool keepDim) : INumericKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T> => ReduceOf<T>(op, x, axes, keepDim);
        public RawTensor Bool() => ReduceOf<int>(op, Instance.Cast(x, DType.Int32), axes, keepDim);
    }

    static RawTensor ReduceOf<T>(ReduceOp op, RawTensor x, int[] axes, bool keepDim) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        var outShape = Shape.Reduced(x.Shape, axes, keepDim);
        // Kept dimensions first, reduced ones last: each output element reduces one contiguous row.
        var perm = new int[x.Rank]; int p = 0;
        for (int i = 0; i < x.Rank; i++) if (Array.IndexOf(axes, i) < 0) perm[p++] = i;
        int len = 1;
        foreach (var a in axes) { perm[p++] = a; len *= x.Shape[a]; }
        int rows = len == 0 ? Shape.Numel(outShape) : x.Numel / len;
        bool arg = op is ReduceOp.ArgMax or ReduceOp.ArgMin;
        if (len == 0 && op is ReduceOp.Max or ReduceOp.Min or ReduceOp.ArgMax or ReduceOp.ArgMin && rows > 0)
            throw new TensorException(op.ToString().ToLowerInvariant(), $"cannot reduce an empty dimension of a tensor of shape {Shape.Format(x.Shape)}");
        // Summing leading dimensions of a contiguous tensor adds whole rows; only worth it when rows are wide.
        if (op == ReduceOp.Sum && axes.Length > 0 && axes[^1] == axes.Length - 1 && x.IsContiguous && len > 0 && rows >= 16)
            return Wrap(SumLeading<T>(x, len, rows), outShape);
        if (!arg && len > 0 && x.Numel > 0 && x.IsContiguous && TrailingReduced(x.Rank, axes) is var trailing && trailing > 0 && trailing < axes.Length)
            return ReduceTrailingFirst<T>(op, x, axes, trailing, outShape);

        var permuted = x.Permute(perm);
        var (a0, off) = Read<T>(permuted);
        if (arg)
        {
            var idx = new long[rows];
            for (int r = 0; r < rows; r++)
                idx[r] = op == ReduceOp.ArgMax ? TensorPrimitives.IndexOfMax<T>(a0.AsSpan(off + r * len, len)) : TensorPrimitives.IndexOfMin<T>(a0.AsSpan(off + r * len, len));
            Release(permuted, a0);
            return Wrap(idx, outShape);
        }
        var res = Uninit<T>(rows); // every row is written below
        if (rows == 1 && op == ReduceOp.Sum) { res[0] = ParallelSum(a0, off, len); Release(permuted, a0); return Wrap(res, outShape); }
        // rows over threads: each row is reduced whole by one thread, so the bits do not depend on the split
        if (Parallelism.ShouldSplit(rows * len) && rows > 1)
            Parallelism.For(rows, Math.Max(1, Parallelism.Grain / Math.Max(len, 1)), (r0, count) => ReduceRows(op, a0, off, len, res, r0, count));
        else ReduceRows(op, a0, off, len, res, 0, rows);
        Release(permuted, a0);
        return Wrap(res, outShape);
    }

    /// <summary>res[r] = op over row r (len elements from off + r·len) for r in [r0, r0 + count).</summary>
    static void ReduceRows<T>(ReduceOp op, T[] a, int off, int len, T[] res, int r0, int count) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        for (int r = r0; r < r0 + count; r++)
        {
            var row = a.AsSpan(off + r * len, len);
            res[r] = op switch
            {
                ReduceOp.Sum => SumKernel.Sum<T>(row),
                ReduceOp.Prod => SumKernel.Product<T>(row),
                ReduceOp.Max => TensorPrimitives.Max<T>(row),
                _ => TensorPrimitives.Min<T>(row),
            };
        }
    }

    /// <summary>How many of the last dimensions are all reduced (axes [.., rank-2, rank-1]).</summary>
    static int TrailingReduced(int rank, int[] axes)
    {
        int t = 0;
        while (t < rank && Array.IndexOf(axes, rank - 1 - t) >= 0) t++;
        return t;
    }

    /// <summary>
    /// A reduction over some trailing dimensions and some others (a batch norm's [0, 2, 3] of [N, C, H, W]), as the
    /// trailing ones first, contiguous rows in place, then the rest of the smaller result: instead of permuting the
    /// whole input into a copy with the reduced dimensions last.
    /// </summary>
    static RawTensor ReduceTrailingFirst<T>(ReduceOp op, RawTensor x, int[] axes, int trailing, int[] outShape)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        var last = new int[trailing];
        for (int t = 0; t < trailing; t++) last[t] = x.Rank - trailing + t;
        var inner = ReduceOf<T>(op, x, last, keepDim: false);
        var rest = Array.FindAll(axes, a => a < x.Rank - trailing);
        var reduced = ReduceOf<T>(op, inner, rest, keepDim: false);
        ResultPool.Return(((CpuStorage<T>)inner.Storage).Data); // the engine's own intermediate
        return new RawTensor(reduced.Storage, outShape);
    }

    /// <summary>
    /// One contiguous run summed with one piece per thread (the caller takes one): each core streams one long
    /// range, which its prefetchers follow best (figures: README, sum_f32_10M).
    /// </summary>
    static T ParallelSum<T>(T[] a, int off, int len) where T : unmanaged, INumber<T>
    {
        int threads = Parallelism.MaxThreads;
        return len < 2 * Parallelism.Grain * 4 || threads == 1 ? SumKernel.Sum<T>(a.AsSpan(off, len)) : SplitSum(a, off, len, threads);
    }

    // Kept apart so the closure is only allocated when the sum is split (every scalar loss is a full sum).
    static T SplitSum<T>(T[] a, int off, int len, int threads) where T : unmanaged, INumber<T>
    {
        var partial = new T[threads];
        Parallelism.Pieces(threads, c =>
        {
            int s = (int)((long)len * c / threads), e = (int)((long)len * (c + 1) / threads);
            partial[c] = SumKernel.Sum<T>(a.AsSpan(off + s, e - s));
        });
        T total = T.Zero;
        foreach (var s in partial) total += s; // in piece order: deterministic for a thread count
        return total;
    }

    /// <summary>Sum over the leading dimensions of a contiguous tensor: adds its len rows of width rows, column
    /// ranges over threads (each column added in row order whatever the split).</summary>
    static T[] SumLeading<T>(RawTensor x, int len, int width) where T : unmanaged, INumber<T>
    {
        var a = Data<T>(x);
        var acc = new T[width];
        int offset = x.Offset, grain = Math.Max(64, Parallelism.Grain / len);
        if (Parallelism.MaxThreads > 1 && width >= 2 * grain) // the closure only when the columns are split
            Parallelism.For(width, grain, (c0, count) => AddRows(a, offset, len, width, acc, c0, count));
        else AddRows(a, offset, len, width, acc, 0, width);
        return acc;
    }

    /// <summary>acc[c0 .. c0 + count) += columns c0 .. of each of the len rows of width <paramref name="width"/> at
    /// a[offset ..], in row order.</summary>
    static void AddRows<T>(T[] a, int offset, int len, int width, T[] acc, int c0, int count) where T : unmanaged, INumber<T>
    {
        var part = acc.AsSpan(c0, count);
        for (int r = 0; r < len; r++) TensorPrimitives.Add(part, a.AsSpan(offset + r * width + c0, count), part);
    }

    /// <inheritdoc/>
    public RawTensor MatMul(RawTensor a, RawTensor b) => DTypeDispatch.Floating<MatMulKernel, RawTensor>(a.DType, new(a, b));

    readonly struct MatMulKernel(RawTensor a, RawTensor b) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => MatMulOf<T>(a, b);
        public RawTensor NotFloating() => throw new DTypeMismatchException("matmul", $"expected floating-point tensors, got {a.DType}");
    }

    static RawTensor MatMulOf<T>(RawTensor a, RawTensor b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = a.Shape[0], m = a.Shape[1], k = a.Shape[2], n = b.Shape[2];
        var c = ResultPool.Rent<T>(batch * m * n); // not zeroed: the GEMM stores every element (zeros when k = 0)
        Gemm.Multiply(batch, m, n, k, Operand<T>(a), Operand<T>(b), c, overwrite: true);
        return Wrap(c, [batch, m, n]);
    }

    /// <summary>A [batch, rows, cols] view as a GEMM operand, strides and all (no copy for transposed views).</summary>
    static GemmOperand<T> Operand<T>(RawTensor x) => new(Data<T>(x), x.Offset, x.Strides[0], x.Strides[1], x.Strides[2]);
}
