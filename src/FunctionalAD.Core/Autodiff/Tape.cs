namespace FunctionalAD.Autodiff;

/// <summary>
/// The nodes recorded under one reverse-mode tag, in creation (= topological) order. Appending is lock-free (an
/// interlocked counter hands out slots; ops of one grad may run on several threads) and never copies: nodes live in
/// chunks of 4096 that are allocated once and kept, so a long scalar chain costs one slot store per operation (the
/// List it replaces took a lock per append and copied the whole tape at each doubling).
/// </summary>
internal sealed class Tape
{
    const int ChunkBits = 12, ChunkSize = 1 << ChunkBits, Mask = ChunkSize - 1;
    Node[]?[] chunks = new Node[]?[4];
    int count;

    /// <summary>Number of slots handed out.</summary>
    public int Count => Volatile.Read(ref count);

    /// <summary>Stores <paramref name="node"/> in the next slot and returns the slot.</summary>
    public int Append(Node node)
    {
        int i = Interlocked.Increment(ref count) - 1;
        var chunk = Volatile.Read(ref chunks) is var c && i >> ChunkBits < c.Length ? c[i >> ChunkBits] : null;
        (chunk ?? Chunk(i >> ChunkBits))[i & Mask] = node;
        return i;
    }

    /// <summary>Chunk k, created (and the directory grown) under a lock the first time a slot in it is handed out.
    /// A chunk never moves, so a thread still holding the old directory writes into the same chunk.</summary>
    Node[] Chunk(int k)
    {
        lock (this)
        {
            var c = chunks;
            if (k >= c.Length)
            {
                Array.Resize(ref c, Math.Max(2 * c.Length, k + 1));
                Volatile.Write(ref chunks, c);
            }
            return c[k] ??= new Node[ChunkSize];
        }
    }

    /// <summary>Slots 0 .. last as one array, for the backward walk (called once the nodes up to last are stored:
    /// they are the ancestors of a value the caller holds). A slot handed out to another thread but not yet written is
    /// null; it cannot be an ancestor of the root.</summary>
    public Node[] Prefix(int last)
    {
        var r = new Node[last + 1];
        var c = Volatile.Read(ref chunks);
        for (int k = 0, s = 0; s <= last; k++, s += ChunkSize)
            Array.Copy(c[k]!, 0, r, s, Math.Min(ChunkSize, last + 1 - s));
        return r;
    }
}
