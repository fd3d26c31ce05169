namespace FunctionalAD.Data;

/// <summary>An indexable collection of examples (PyTorch's map-style <c>Dataset</c>).</summary>
/// <typeparam name="T">One example: a tensor, a tuple or tree of tensors, or anything a collate function takes.</typeparam>
public interface IDataset<out T>
{
    /// <summary>The number of examples.</summary>
    int Count { get; }

    /// <summary>The example at <paramref name="index"/> (0 &lt;= index &lt; Count).</summary>
    T this[int index] { get; }
}

/// <summary>A dataset that can also read many examples at once, already collated (a gather over tensors is much
/// faster than stacking rows one by one). <see cref="DataLoader{T, TBatch}"/> uses it when the batch type matches.</summary>
/// <typeparam name="T">One example.</typeparam>
/// <typeparam name="TBatch">A collated batch.</typeparam>
public interface IBatchedDataset<out T, out TBatch> : IDataset<T>
{
    /// <summary>The examples at <paramref name="indices"/>, collated, in that order.</summary>
    TBatch GetBatch(int[] indices);
}

/// <summary>Rows of tensors that share their first dimension: example i is (t0[i], t1[i], ...); a batch gathers
/// rows with IndexSelect (PyTorch's <c>TensorDataset</c>).</summary>
public sealed class TensorDataset : IBatchedDataset<Tensor[], Tensor[]>
{
    readonly Tensor[] tensors;

    /// <summary>A dataset over the rows of <paramref name="tensors"/>.</summary>
    /// <exception cref="ArgumentException">no tensor is given, one is 0-D, or their first dimensions differ.</exception>
    public TensorDataset(params Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("TensorDataset: give at least one tensor");
        foreach (var t in tensors)
            if (t is null || tensors[0] is null || tensors[0].Rank == 0 || t.Rank == 0 || t.Shape[0] != tensors[0].Shape[0])
                throw new ArgumentException($"TensorDataset: every tensor needs the same first dimension (rows); got shapes {string.Join(", ", tensors.Select(x => x is null ? "null" : Shape.Format(x.Shape)))}");
        this.tensors = tensors.Select(t => t.StopGradient()).ToArray();
    }

    /// <summary>The number of rows.</summary>
    public int Count => tensors[0].Shape[0];

    /// <summary>Row <paramref name="index"/> of each tensor.</summary>
    public Tensor[] this[int index] => tensors.Select(t => t.Select(0, index)).ToArray();

    /// <summary>The rows at <paramref name="indices"/> of each tensor (one IndexSelect each).</summary>
    public Tensor[] GetBatch(int[] indices)
    {
        var idx = Tensor.FromArray(indices);
        return tensors.Select(t => t.IndexSelect(0, idx.ToDevice(t.Device))).ToArray();
    }
}

/// <summary>Datasets from functions and lists.</summary>
public static class Dataset
{
    sealed class FuncDataset<T>(int count, Func<int, T> get) : IDataset<T>
    {
        public int Count => count;
        public T this[int index] => (uint)index < (uint)count ? get(index)
            : throw new ArgumentOutOfRangeException(nameof(index), $"dataset: index {index} is outside [0, {count})");
    }

    /// <summary>A dataset of <paramref name="count"/> examples computed by <paramref name="get"/> on demand.</summary>
    /// <exception cref="ArgumentOutOfRangeException">count is negative.</exception>
    public static IDataset<T> FromFunc<T>(int count, Func<int, T> get)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(get);
        return new FuncDataset<T>(count, get);
    }

    /// <summary>A dataset over a list (not copied).</summary>
    public static IDataset<T> FromList<T>(IReadOnlyList<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new FuncDataset<T>(items.Count, i => items[i]);
    }

    /// <summary>The same examples passed through <paramref name="transform"/> when read (transforms compose).</summary>
    public static IDataset<TOut> Map<T, TOut>(this IDataset<T> data, Func<T, TOut> transform)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(transform);
        return new FuncDataset<TOut>(data.Count, i => transform(data[i]));
    }
}
