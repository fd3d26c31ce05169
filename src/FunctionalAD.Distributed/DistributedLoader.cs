

namespace FunctionalAD.Data;

/// <summary>
/// One rank's share of a <see cref="DataLoader{T, TBatch}"/> (PyTorch's DistributedSampler): each epoch, the
/// loader's order for that epoch (the same on every rank: it depends only on the seed and the epoch) is dealt out
/// round-robin, rank r taking positions r, r + size, r + 2·size, ...; so the ranks' shards are disjoint, cover the
/// data, and are reshuffled every epoch. Every rank gets the same number of examples, hence of batches (the
/// collectives of a step must match): the order is padded with its first examples to a multiple of the world size,
/// or, with the loader's DropLast, cut to one. Batches have the loader's BatchSize (per rank: the global batch is
/// BatchSize × size) and are built on the caller's thread by <see cref="DataLoader{T, TBatch}.Batch"/>.
/// </summary>
/// <typeparam name="T">One example.</typeparam>
/// <typeparam name="TBatch">A collated batch.</typeparam>
public sealed class DistributedLoader<T, TBatch> : IBatchSource<TBatch>
{
    /// <summary>Rank <paramref name="rank"/>'s share of <paramref name="loader"/> in a world of <paramref name="size"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">size &lt; 1 or rank outside [0, size).</exception>
    public DistributedLoader(DataLoader<T, TBatch> loader, int rank, int size)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if ((uint)rank >= (uint)size) throw new ArgumentOutOfRangeException(nameof(rank), $"DistributedLoader: rank {rank} is outside [0, {size})");
        (Loader, Rank, Size) = (loader, rank, size);
    }

    /// <summary>Rank <see cref="World.Rank"/>'s share of <paramref name="loader"/>.</summary>
    public DistributedLoader(DataLoader<T, TBatch> loader, World world) : this(loader, world.Rank, world.Size) { }

    /// <summary>The loader being shared out.</summary>
    public DataLoader<T, TBatch> Loader { get; }
    /// <summary>This share's rank.</summary>
    public int Rank { get; }
    /// <summary>The number of shares.</summary>
    public int Size { get; }

    /// <summary>Examples per rank per epoch (the same on every rank).</summary>
    public int ShardSize
    {
        get
        {
            int n = Loader.Data.Count;
            return Loader.DropLast ? n / Size : (n + Size - 1) / Size;
        }
    }

    /// <summary>The number of batches per epoch (the same on every rank).</summary>
    public int BatchesPerEpoch => Loader.DropLast ? ShardSize / Loader.BatchSize : (ShardSize + Loader.BatchSize - 1) / Loader.BatchSize;

    /// <summary>This rank's example indices for <paramref name="epoch"/>, in the order it visits them.</summary>
    public int[] ShardIndices(int epoch)
    {
        var order = Loader.Order(epoch);
        int shard = ShardSize;
        var mine = new int[shard];
        for (int k = 0; k < shard; k++) mine[k] = order[(Rank + k * Size) % order.Length]; // past the end: padding from the start
        return mine;
    }

    /// <summary>This rank's batches of <paramref name="epoch"/> from <paramref name="startBatch"/> on.</summary>
    /// <exception cref="ArgumentOutOfRangeException">startBatch is outside [0, BatchesPerEpoch].</exception>
    public IEnumerable<TBatch> Batches(int epoch, int startBatch = 0)
    {
        if ((uint)startBatch > (uint)BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(startBatch), $"DistributedLoader: start batch {startBatch} is outside [0, {BatchesPerEpoch}]");
        return Iterate(epoch, startBatch);
    }

    IEnumerable<TBatch> Iterate(int epoch, int startBatch)
    {
        var mine = ShardIndices(epoch);
        int batches = BatchesPerEpoch, size = Loader.BatchSize;
        for (int b = startBatch; b < batches; b++)
            yield return Loader.Batch(mine[(b * size)..Math.Min(mine.Length, (b + 1) * size)]);
    }
}
