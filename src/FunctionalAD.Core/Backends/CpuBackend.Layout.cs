using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public RawTensor Concat(RawTensor[] xs, int axis) => xs[0].DType switch
    {
        DType.Float32 => ConcatOf<float>(xs, axis),
        DType.Float64 => ConcatOf<double>(xs, axis),
        DType.Int32 => ConcatOf<int>(xs, axis),
        DType.Int64 => ConcatOf<long>(xs, axis),
        _ => ConcatOf<bool>(xs, axis),
    };

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
    public RawTensor SliceScatter(int[] shape, RawTensor source, int axis, int start, int step) => source.DType switch
    {
        DType.Float32 => SliceScatterOf<float>(shape, source, axis, start, step),
        DType.Float64 => SliceScatterOf<double>(shape, source, axis, start, step),
        DType.Int32 => SliceScatterOf<int>(shape, source, axis, start, step),
        DType.Int64 => SliceScatterOf<long>(shape, source, axis, start, step),
        _ => SliceScatterOf<bool>(shape, source, axis, start, step),
    };

    static RawTensor SliceScatterOf<T>(int[] shape, RawTensor source, int axis, int start, int step)
    {
        var strides = Shape.ContiguousStrides(shape);
        var r = new T[Shape.Numel(shape)];
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
    public RawTensor IndexSelect(RawTensor x, int axis, RawTensor index) => x.DType switch
    {
        DType.Float32 => IndexSelectOf<float>(x, axis, index),
        DType.Float64 => IndexSelectOf<double>(x, axis, index),
        DType.Int32 => IndexSelectOf<int>(x, axis, index),
        DType.Int64 => IndexSelectOf<long>(x, axis, index),
        _ => IndexSelectOf<bool>(x, axis, index),
    };

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
    public RawTensor IndexAdd(int[] shape, int axis, RawTensor index, RawTensor source) => source.DType switch
    {
        DType.Float32 => IndexAddOf<float>(shape, axis, index, source),
        DType.Float64 => IndexAddOf<double>(shape, axis, index, source),
        DType.Int32 => IndexAddOf<int>(shape, axis, index, source),
        DType.Int64 => IndexAddOf<long>(shape, axis, index, source),
        _ => throw new DTypeMismatchException("indexAdd", "Bool tensors cannot be added"),
    };

    static RawTensor IndexAddOf<T>(int[] shape, int axis, RawTensor index, RawTensor source) where T : INumber<T>
    {
        int n = shape[axis];
        var idx = Indices("indexAdd", index, n, axis);
        var (s, so) = Read<T>(source);
        int outer = Shape.Numel(shape.AsSpan(0, axis)), inner = Shape.Numel(shape.AsSpan(axis + 1));
        var r = new T[Shape.Numel(shape)];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < idx.Length; j++)
            {
                var dst = r.AsSpan((o * n + (int)idx[j]) * inner, inner);
                TensorPrimitives.Add(dst, s.AsSpan(so + (o * idx.Length + j) * inner, inner), dst);
            }
        return Wrap(r, shape);
    }
}
