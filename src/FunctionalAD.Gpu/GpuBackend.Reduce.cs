using FunctionalAD.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace FunctionalAD.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public RawTensor Reduce(ReduceOp op, RawTensor x, int[] axes, bool keepDim)
    {
        lock (gate)
        {
            Enter();
            string name = op.ToString().ToLowerInvariant();
            CheckDevice(name, x);
            return GpuDTypeDispatch.Visit<ReduceKernel, RawTensor>(x.DType, new(this, op, x, axes, keepDim));
        }
    }

    /// <summary>Bool reduces as Int32 (a sum counts the true elements).</summary>
    readonly struct ReduceKernel(GpuBackend b, ReduceOp op, RawTensor x, int[] axes, bool keepDim) : IGpuDTypeVisitor<RawTensor>
    {
        public RawTensor Floating<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>, Ops.IElementMath<T> => Integer<T, TOps>();
        public RawTensor Integer<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => b.ReduceOf<T, TOps>(op, x, axes, keepDim);
        public RawTensor Bool() => b.ReduceOf<int, Int32Ops>(op, b.Cast(x, DType.Int32), axes, keepDim);
    }

    RawTensor ReduceOf<T, TOps>(ReduceOp op, RawTensor x, int[] axes, bool keepDim) where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var outShape = Shape.Reduced(x.Shape, axes, keepDim);
        // Kept dimensions first, reduced ones last: each output element reduces one contiguous row.
        var perm = new int[x.Rank]; int p = 0;
        for (int i = 0; i < x.Rank; i++) if (Array.IndexOf(axes, i) < 0) perm[p++] = i;
        int len = 1;
        foreach (var a in axes) { perm[p++] = a; len *= x.Shape[a]; }
        int rows = Shape.Numel(outShape);
        bool arg = op is ReduceOp.ArgMax or ReduceOp.ArgMin;
        if (len == 0 && op is ReduceOp.Max or ReduceOp.Min or ReduceOp.ArgMax or ReduceOp.ArgMin && rows > 0)
            throw new TensorException(op.ToString().ToLowerInvariant(), $"cannot reduce an empty dimension of a tensor of shape {Shape.Format(x.Shape)}");
        int code = op switch { ReduceOp.Sum => 0, ReduceOp.Prod => 1, ReduceOp.Max or ReduceOp.ArgMax => 2, _ => 3 };
        var values = Allocate<T>(rows, x.DType);
        var indices = Allocate<long>(rows, DType.Int64);
        if (rows > 0)
        {
            var src = Contiguous(x.Permute(perm));
            var view = View<T>(src, "reduce").SubView(src.Offset, Math.Max(1, src.Numel));
            ReduceRows<T, TOps>(code, view, default, false, rows, len, values.View("reduce"), indices.View("reduce"));
        }
        if (arg) { values.Dispose(); return new RawTensor(indices, outShape); }
        indices.Dispose();
        return new RawTensor(values, outShape);
    }

    /// <summary>Reduces rows x len into dst (rows), in passes of at most 1024 chunks per row until one chunk is left.</summary>
    void ReduceRows<T, TOps>(int code, ArrayView<T> src, ArrayView<long> srcIndex, bool hasIndex, int rows, int len, ArrayView<T> dst, ArrayView<long> dstIndex)
        where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var kernel = Kernel("reduce", static a => a.LoadStreamKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, ArrayView<long>, ReducePass>(GroupedKernels.ReduceRows<T, TOps>));
        // Many rows keep the device busy with one group per row; few long rows are split into chunks first.
        int chunks = rows >= 1024 || len <= groupSize * 8 ? 1 : Math.Min(1024, (len + groupSize * 8 - 1) / (groupSize * 8));
        int chunkLen = chunks == 1 ? len : (len + chunks - 1) / chunks;
        if (!hasIndex) srcIndex = dstIndex; // unread when HasIndex = 0; any valid view will do
        var pass = new ReducePass { Op = code, Len = len, Chunks = chunks, ChunkLen = chunkLen, HasIndex = hasIndex ? 1 : 0 };
        if (chunks == 1)
        {
            kernel(new KernelConfig(rows, groupSize), src, srcIndex, dst, dstIndex, pass);
            return;
        }
        using var partial = accelerator.Allocate1D<T>((long)rows * chunks);
        using var partialIndex = accelerator.Allocate1D<long>((long)rows * chunks);
        kernel(new KernelConfig(rows * chunks, groupSize), src, srcIndex, partial.View, partialIndex.View, pass);
        ReduceRows<T, TOps>(code, partial.View, partialIndex.View, true, rows, chunks, dst, dstIndex);
        accelerator.DefaultStream.Synchronize(); // the partial buffers are freed on return
    }

    /// <inheritdoc/>
    public RawTensor MatMul(RawTensor a, RawTensor b)
    {
        lock (gate)
        {
            Enter();
            CheckDevice("matmul", a); CheckDevice("matmul", b);
            return GpuDTypeDispatch.Visit<MatMulKernel, RawTensor>(a.DType, new(this, a, b));
        }
    }

    readonly struct MatMulKernel(GpuBackend g, RawTensor a, RawTensor b) : IGpuDTypeVisitor<RawTensor>
    {
        public RawTensor Floating<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>, Ops.IElementMath<T> => g.MatMulOf<T, TOps>(a, b);
        public RawTensor Integer<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => Bool();
        public RawTensor Bool() => throw new DTypeMismatchException("matmul", $"expected floating-point tensors, got {a.DType}");
    }

    RawTensor MatMulOf<T, TOps>(RawTensor a, RawTensor b) where T : unmanaged where TOps : struct, IElementOps<T>
    {
        int batch = a.Shape[0], m = a.Shape[1], k = a.Shape[2], n = b.Shape[2];
        var c = Allocate<T>(batch * m * n, a.DType);
        if (batch * m * n == 0) return new RawTensor(c, [batch, m, n]);
        var s = new MatMulShape { M = m, K = k, N = n, Tile = tile, TilesM = (m + tile - 1) / tile, TilesN = (n + tile - 1) / tile };
        // A zero-sized operand (k = 0) has no readable view; the kernel never reads it then.
        var va = a.Numel > 0 ? View<T>(a, "matmul") : c.View("matmul");
        var vb = b.Numel > 0 ? View<T>(b, "matmul") : c.View("matmul");
        Kernel("matmul", static x => x.LoadStreamKernel<ArrayView<T>, MatrixLayout, ArrayView<T>, MatrixLayout, ArrayView<T>, MatMulShape>(GroupedKernels.MatMul<T, TOps>))
            (new KernelConfig(new Index3D(batch * s.TilesM * s.TilesN, 1, 1), new Index3D(tile, tile, 1)), va, MatrixLayout.Of(a), vb, MatrixLayout.Of(b), c.View("matmul"), s);
        return new RawTensor(c, [batch, m, n]);
    }
}
