using System.Collections.Concurrent;

namespace FunctionalAD.Data;

/// <summary>Where a loader is in a run: the epoch and the index of the next batch in it. A checkpoint saves it;
/// <see cref="DataLoader{T, TBatch}.Batches(int, int)"/> resumes from it.</summary>
/// <param name="Epoch">The epoch (0-based).</param>
/// <param name="Batch">The next batch within the epoch (0-based).</param>
public readonly record struct LoaderPosition(int Epoch, int Batch);

/// <summary>A source of batches by epoch, whatever its examples are (what a training loop needs of a loader).</summary>
/// <typeparam name="TBatch">A collated batch.</typeparam>
public interface IBatchSource<out TBatch>
{
    /// <summary>The number of batches in one epoch.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>The batches of <paramref name="epoch"/> from <paramref name="startBatch"/> on; the same on every call.</summary>
    IEnumerable<TBatch> Batches(int epoch, int startBatch = 0);
}

/// <summary>
/// Batches of a dataset (PyTorch's <c>DataLoader</c>): the order of each epoch is a permutation that depends only
/// on the seed and the epoch number (xoshiro256**, the same on every machine), batches of <c>BatchSize</c>
/// examples (the last smaller unless <c>DropLast</c>), built by a collate function, with the next batches prepared
/// on a background thread (at most <c>Prefetch</c> waiting, so memory stays bounded). Prefetching never changes
/// the batches or their order.
/// </summary>
/// <typeparam name="T">One example.</typeparam>
/// <typeparam name="TBatch">A collated batch.</typeparam>
public sealed class DataLoader<T, TBatch> : IBatchSource<TBatch>
{
    readonly Func<IReadOnlyList<T>, TBatch> collate;

    /// <summary>A loader over <paramref name="data"/>.</summary>
    /// <param name="data">The examples.</param>
    /// <param name="batchSize">Examples per batch (>= 1).</param>
    /// <param name="collate">Builds a batch from its examples (stacks tensors). Not called when the dataset is an
    /// <see cref="IBatchedDataset{T, TBatch}"/> of this batch type.</param>
    /// <param name="shuffle">Shuffle each epoch (else the dataset's order).</param>
    /// <param name="seed">Seeds the shuffle: epoch e's order depends only on (seed, e).</param>
    /// <param name="dropLast">Drop a last, incomplete batch.</param>
    /// <param name="prefetch">Batches prepared ahead on a worker thread (0: none, built on the caller's thread).</param>
    /// <exception cref="ArgumentOutOfRangeException">batchSize &lt; 1 or prefetch &lt; 0.</exception>
    public DataLoader(IDataset<T> data, int batchSize, Func<IReadOnlyList<T>, TBatch> collate,
        bool shuffle = true, ulong seed = 0, bool dropLast = false, int prefetch = 2)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(collate);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(prefetch);
        (Data, BatchSize, this.collate, Shuffle, Seed, DropLast, Prefetch) = (data, batchSize, collate, shuffle, seed, dropLast, prefetch);
    }

    /// <summary>The examples.</summary>
    public IDataset<T> Data { get; }
    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }
    /// <summary>The shuffle's seed.</summary>
    public ulong Seed { get; }
    /// <summary>Whether an incomplete last batch is dropped.</summary>
    public bool DropLast { get; }
    /// <summary>Batches prepared ahead on a worker thread.</summary>
    public int Prefetch { get; }

    /// <summary>The number of batches in one epoch.</summary>
    public int BatchesPerEpoch => DropLast ? Data.Count / BatchSize : (Data.Count + BatchSize - 1) / BatchSize;

    /// <summary>The order of the examples in epoch <paramref name="epoch"/>: a Fisher–Yates shuffle driven by a
    /// generator seeded from (Seed, epoch), or 0..Count-1 without shuffling.</summary>
    public int[] Order(int epoch)
    {
        int n = Data.Count;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (!Shuffle) return order;
        // SplitMix-style mixing keeps neighbouring epochs' streams unrelated
        ulong z = Seed + 0x9E3779B97F4A7C15UL * (ulong)(epoch + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        var g = new Generator(z ^ (z >> 31));
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)g.NextInt64(0, i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The example indices of batch <paramref name="batch"/> of epoch <paramref name="epoch"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">batch is outside [0, BatchesPerEpoch).</exception>
    public int[] BatchIndices(int epoch, int batch) => Slice(Order(epoch), batch);

    int[] Slice(int[] order, int batch)
    {
        if ((uint)batch >= (uint)BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(batch), $"DataLoader: batch {batch} is outside [0, {BatchesPerEpoch})");
        int start = batch * BatchSize, end = Math.Min(order.Length, start + BatchSize);
        return order[start..end];
    }

    /// <summary>The batch of the examples at <paramref name="indices"/> (in that order), built as the loader builds
    /// its batches (the dataset's own batching, else the collate function). A distributed loader takes its rank's
    /// share of <see cref="Order"/> and builds its batches with this.</summary>
    /// <exception cref="ArgumentException">indices is empty.</exception>
    public TBatch Batch(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Length == 0) throw new ArgumentException("DataLoader.Batch: no indices", nameof(indices));
        return Build(indices);
    }

    TBatch Build(int[] indices)
    {
        if (Data is IBatchedDataset<T, TBatch> batched) return batched.GetBatch(indices);
        var items = new T[indices.Length];
        for (int i = 0; i < indices.Length; i++) items[i] = Data[indices[i]];
        return collate(items);
    }

    /// <summary>The batches of epoch <paramref name="epoch"/>, from batch <paramref name="startBatch"/> on (to
    /// resume mid-epoch). With Prefetch > 0 they are built on a worker thread, at most Prefetch ahead; an exception
    /// there is rethrown here; leaving the loop early stops the worker.</summary>
    /// <exception cref="ArgumentOutOfRangeException">startBatch is outside [0, BatchesPerEpoch].</exception>
    public IEnumerable<TBatch> Batches(int epoch, int startBatch = 0)
    {
        if ((uint)startBatch > (uint)BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(startBatch), $"DataLoader: start batch {startBatch} is outside [0, {BatchesPerEpoch}]");
        return Prefetch == 0 ? Sequential(epoch, startBatch) : Prefetched(epoch, startBatch);
    }

    /// <summary>The batches from <paramref name="position"/> to the end of its epoch.</summary>
    public IEnumerable<TBatch> Batches(LoaderPosition position) => Batches(position.Epoch, position.Batch);

    IEnumerable<TBatch> Sequential(int epoch, int startBatch)
    {
        var order = Order(epoch);
        for (int b = startBatch; b < BatchesPerEpoch; b++) yield return Build(Slice(order, b));
    }

    IEnumerable<TBatch> Prefetched(int epoch, int startBatch)
    {
        var order = Order(epoch);
        using var queue = new BlockingCollection<(TBatch Batch, Exception? Error)>(Prefetch);
        using var cancel = new CancellationTokenSource();
        var worker = new Thread(() =>
        {
            try
            {
                for (int b = startBatch; b < BatchesPerEpoch; b++)
                {
                    TBatch batch;
                    try { batch = Build(Slice(order, b)); }
                    catch (Exception ex) { queue.Add((default!, ex), cancel.Token); return; }
                    queue.Add((batch, null), cancel.Token);
                }
                queue.CompleteAdding();
            }
            catch (OperationCanceledException) { }
        }) { IsBackground = true, Name = "DataLoader prefetch" };
        worker.Start();
        try
        {
            foreach (var (batch, error) in queue.GetConsumingEnumerable())
            {
                if (error is not null) throw new InvalidOperationException($"DataLoader: building a batch of epoch {epoch} failed: {error.Message}", error);
                yield return batch;
            }
        }
        finally
        {
            cancel.Cancel();
            worker.Join();
        }
    }
}
