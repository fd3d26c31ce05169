using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public RawTensor Concat(RawTensor[] xs, int axis) => DTypeDispatch.Any<ConcatKernel, RawTensor>(xs[0].DType, new(xs, axis));

    readonly struct ConcatKernel(RawTensor[] xs, int axis) : IElementKernel<RawTensor> { public RawTensor Run<T>() where T : unmanaged => ConcatOf<T>(xs, axis); }

    static RawTensor ConcatOf<T>(RawTensor[] xs, int axis)
    {
        var shape = (int[])xs[0].Shape.Clone();
        shape[axis] = 0;
        foreach (var x in xs) shape[axis] += x.Shape[axis];
        var strides = Shape.ContiguousStrides(shape);
        var r = Uninit<T>(Shape.Numel(shape));
        int pos = 0;
        foreach (var x in xs) { CopyStrided(x, r, pos * strides[axis], strides); pos += x.Shape[axis]; }
        return Wrap(r, shape);
    }

    /// <inheritdoc/>
    public RawTensor SliceScatter(int[] shape, RawTensor source, int axis, int start, int step) =>
        DTypeDispatch.Any<SliceScatterKernel, RawTensor>(source.DType, new(shape, source, axis, start, step));

    readonly struct SliceScatterKernel(int[] shape, RawTensor source, int axis, int start, int step) : IElementKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged => SliceScatterOf<T>(shape, source, axis, start, step);
    }

    static RawTensor SliceScatterOf<T>(int[] shape, RawTensor source, int axis, int start, int step)
    {
        var strides = Shape.ContiguousStrides(shape);
        var r = ResultPool.RentZeroed<T>(Shape.Numel(shape));
        var dst = (int[])strides.Clone();
        dst[axis] *= step;
        CopyStrided(source, r, start * strides[axis], dst);
        return Wrap(r, shape);
    }

    static long[] Indices(string op, RawTensor index, int size, int axis)
    {
        var idx = index.DType == DType.Int64 ? Instance.ToArray<long>(index) : Array.ConvertAll(Instance.ToArray<int>(Instance.Cast(index, DType.Int32)), v => (long)v);
        foreach (var v in idx)
            if (v < 0 || v >= size) throw new TensorException(op, $"index {v} is out of range for dimension {axis} of size {size}");
        return idx;
    }

    /// <inheritdoc/>
    public RawTensor IndexSelect(RawTensor x, int axis, RawTensor index) => DTypeDispatch.Any<IndexSelectKernel, RawTensor>(x.DType, new(x, axis, index));

    readonly struct IndexSelectKernel(RawTensor x, int axis, RawTensor index) : IElementKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged => IndexSelectOf<T>(x, axis, index);
    }

    static RawTensor IndexSelectOf<T>(RawTensor x, int axis, RawTensor index)
    {
        int n = x.Shape[axis];
        var idx = Indices("indexSelect", index, n, axis);
        var (a, off) = Read<T>(x);
        int outer = Shape.Numel(x.Shape.AsSpan(0, axis)), inner = Shape.Numel(x.Shape.AsSpan(axis + 1));
        var shape = (int[])x.Shape.Clone(); shape[axis] = idx.Length;
        var r = Uninit<T>(outer * idx.Length * inner);
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < idx.Length; j++)
                Array.Copy(a, off + (o * n + (int)idx[j]) * inner, r, (o * idx.Length + j) * inner, inner);
        return Wrap(r, shape);
    }

    /// <inheritdoc/>
    public RawTensor IndexAdd(int[] shape, int axis, RawTensor index, RawTensor source) =>
        DTypeDispatch.Numeric<IndexAddKernel, RawTensor>(source.DType, new(shape, axis, index, source));

    readonly struct IndexAddKernel(int[] shape, int axis, RawTensor index, RawTensor source) : INumericKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T> => IndexAddOf<T>(shape, axis, index, source);
        public RawTensor Bool() => throw new DTypeMismatchException("indexAdd", "Bool tensors cannot be added");
    }

    static RawTensor IndexAddOf<T>(int[] shape, int axis, RawTensor index, RawTensor source) where T : INumber<T>
    {
        int n = shape[axis];
        var idx = Indices("indexAdd", index, n, axis);
        var (s, so) = Read<T>(source);
        int outer = Shape.Numel(shape.AsSpan(0, axis)), inner = Shape.Numel(shape.AsSpan(axis + 1));
        var r = ResultPool.RentZeroed<T>(Shape.Numel(shape));
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < idx.Length; j++)
            {
                var dst = r.AsSpan((o * n + (int)idx[j]) * inner, inner);
                TensorPrimitives.Add(dst, s.AsSpan(so + (o * idx.Length + j) * inner, inner), dst);
            }
        return Wrap(r, shape);
    }
}
