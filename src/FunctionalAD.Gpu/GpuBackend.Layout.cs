using FunctionalAD.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace FunctionalAD.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public RawTensor Concat(RawTensor[] xs, int axis)
    {
        lock (gate)
        {
            Enter();
            foreach (var x in xs) CheckDevice("concat", x);
            return GpuDTypeDispatch.Any<ConcatKernel, RawTensor>(xs[0].DType, new(this, xs, axis));
        }
    }

    readonly struct ConcatKernel(GpuBackend b, RawTensor[] xs, int axis) : IGpuElementKernel<RawTensor>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => b.ConcatOf<T>(xs, axis);
    }

    RawTensor ConcatOf<T>(RawTensor[] xs, int axis) where T : unmanaged
    {
        var shape = (int[])xs[0].Shape.Clone();
        shape[axis] = 0;
        foreach (var x in xs) shape[axis] += x.Shape[axis];
        var y = Allocate<T>(Shape.Numel(shape), xs[0].DType);
        int pos = 0, inner = Shape.Numel(shape.AsSpan(axis + 1));
        foreach (var x in xs)
        {
            ScatterAxis<T>(x, y, new AxisMap { Mid = x.Shape[axis], YMid = shape[axis], Inner = inner, Start = pos, Step = 1 }, "concat");
            pos += x.Shape[axis];
        }
        return new RawTensor(y, shape);
    }

    void ScatterAxis<T>(RawTensor x, GpuStorage<T> y, AxisMap map, string op) where T : unmanaged
    {
        if (x.Numel == 0) return;
        Kernel("scatterAxis", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<T>, AxisMap>(Kernels.ScatterAxis))
            (x.Numel, View<T>(x, op), StridedLayout.Of(op, x), y.View(op), map);
    }

    /// <inheritdoc/>
    public RawTensor SliceScatter(int[] shape, RawTensor source, int axis, int start, int step)
    {
        lock (gate)
        {
            Enter();
            CheckDevice("sliceScatter", source);
            return GpuDTypeDispatch.Any<SliceScatterKernel, RawTensor>(source.DType, new(this, shape, source, axis, start, step));
        }
    }

    readonly struct SliceScatterKernel(GpuBackend b, int[] shape, RawTensor source, int axis, int start, int step) : IGpuElementKernel<RawTensor>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => b.SliceScatterOf<T>(shape, source, axis, start, step);
    }

    RawTensor SliceScatterOf<T>(int[] shape, RawTensor source, int axis, int start, int step) where T : unmanaged
    {
        var y = Allocate<T>(Shape.Numel(shape), source.DType);
        if (y.Length > 0) y.View("sliceScatter").MemSetToZero(accelerator.DefaultStream);
        ScatterAxis<T>(source, y, new AxisMap { Mid = source.Shape[axis], YMid = shape[axis], Inner = Shape.Numel(shape.AsSpan(axis + 1)), Start = start, Step = step }, "sliceScatter");
        return new RawTensor(y, shape);
    }

    /// <summary>The indices on the host, checked against the dimension's size (the kernels never see a bad index).</summary>
    int[] Indices(string op, RawTensor index, int size, int axis)
    {
        var idx = index.DType == DType.Int64 ? ToArray<long>(index) : Array.ConvertAll(ToArray<int>(Cast(index, DType.Int32)), v => (long)v);
        var r = new int[idx.Length];
        for (int i = 0; i < idx.Length; i++)
        {
            if (idx[i] < 0 || idx[i] >= size) throw new TensorException(op, $"index {idx[i]} is out of range for dimension {axis} of size {size}");
            r[i] = (int)idx[i];
        }
        return r;
    }

    MemoryBuffer1D<int, Stride1D.Dense> UploadInts(int[] values)
    {
        var b = accelerator.Allocate1D<int>(Math.Max(1, values.Length));
        if (values.Length > 0) b.View.SubView(0, values.Length).CopyFromCPU(accelerator.DefaultStream, values);
        return b;
    }

    /// <inheritdoc/>
    public RawTensor IndexSelect(RawTensor x, int axis, RawTensor index)
    {
        lock (gate)
        {
            Enter();
            CheckDevice("indexSelect", x); CheckDevice("indexSelect", index);
            return GpuDTypeDispatch.Any<IndexSelectKernel, RawTensor>(x.DType, new(this, x, axis, index));
        }
    }

    readonly struct IndexSelectKernel(GpuBackend b, RawTensor x, int axis, RawTensor index) : IGpuElementKernel<RawTensor>
    {
        public RawTensor Run<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => b.IndexSelectOf<T>(x, axis, index);
    }

    RawTensor IndexSelectOf<T>(RawTensor x, int axis, RawTensor index) where T : unmanaged
    {
        int n = x.Shape[axis];
        var idx = Indices("indexSelect", index, n, axis);
        var shape = (int[])x.Shape.Clone(); shape[axis] = idx.Length;
        var y = Allocate<T>(Shape.Numel(shape), x.DType);
        if (y.Length == 0) return new RawTensor(y, shape);
        var c = Contiguous(x);
        using var ib = UploadInts(idx);
        var map = new AxisMap { Mid = idx.Length, YMid = n, Inner = Shape.Numel(x.Shape.AsSpan(axis + 1)), Start = c.Offset };
        Kernel("indexSelect", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, AxisMap>(Kernels.IndexSelect))
            (y.Length, View<T>(c, "indexSelect"), ib.View, y.View("indexSelect"), map);
        accelerator.DefaultStream.Synchronize(); // the index buffer is freed on return
        return new RawTensor(y, shape);
    }

    /// <inheritdoc/>
    public RawTensor IndexAdd(int[] shape, int axis, RawTensor index, RawTensor source)
    {
        lock (gate)
        {
            Enter();
            CheckDevice("indexAdd", index); CheckDevice("indexAdd", source);
            return GpuDTypeDispatch.Visit<IndexAddKernel, RawTensor>(source.DType, new(this, shape, axis, index, source));
        }
    }

    readonly struct IndexAddKernel(GpuBackend b, int[] shape, int axis, RawTensor index, RawTensor source) : IGpuDTypeVisitor<RawTensor>
    {
        public RawTensor Floating<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T>, Ops.IElementMath<T> => Integer<T, TOps>();
        public RawTensor Integer<T, TOps>() where T : unmanaged where TOps : struct, IElementOps<T> => b.IndexAddOf<T, TOps>(shape, axis, index, source);
        public RawTensor Bool() => throw new DTypeMismatchException("indexAdd", "Bool tensors cannot be added");
    }

    RawTensor IndexAddOf<T, TOps>(int[] shape, int axis, RawTensor index, RawTensor source) where T : unmanaged where TOps : struct, IElementOps<T>
    {
        int n = shape[axis];
        var idx = Indices("indexAdd", index, n, axis);
        var y = Allocate<T>(Shape.Numel(shape), source.DType);
        if (y.Length == 0) return new RawTensor(y, shape);
        // Group the source slices by target: starts[t]..starts[t+1] are the positions j with idx[j] = t.
        var starts = new int[n + 1];
        foreach (var t in idx) starts[t + 1]++;
        for (int t = 0; t < n; t++) starts[t + 1] += starts[t];
        var order = new int[idx.Length];
        var fill = (int[])starts.Clone();
        for (int j = 0; j < idx.Length; j++) order[fill[idx[j]]++] = j;
        using var sb = UploadInts(starts);
        using var ob = UploadInts(order);
        var map = new AxisMap { Mid = idx.Length, YMid = n, Inner = Shape.Numel(shape.AsSpan(axis + 1)) };
        // An empty source has no readable elements; every output is then a sum over no slices.
        var sv = source.Numel > 0 ? View<T>(source, "indexAdd") : y.View("indexAdd");
        var sl = source.Numel > 0 ? StridedLayout.Of("indexAdd", source) : default;
        Kernel("indexAdd", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, StridedLayout, ArrayView<int>, ArrayView<int>, ArrayView<T>, AxisMap>(Kernels.IndexAdd<T, TOps>))
            (y.Length, sv, sl, sb.View, ob.View, y.View("indexAdd"), map);
        accelerator.DefaultStream.Synchronize(); // the index buffers are freed on return
        return new RawTensor(y, shape);
    }
}
