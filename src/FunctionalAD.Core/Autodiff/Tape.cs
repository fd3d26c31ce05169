namespace FunctionalAD.Autodiff;

/// <summary>
/// The nodes recorded under one reverse-mode tag, in creation (= topological) order. Appending is lock-free (an
/// interlocked counter hands out slots; ops of one grad may run on several threads) and never copies: slots live in
/// chunks that are allocated once and kept, so a long scalar chain costs one slot store per operation (the List it
/// replaces took a lock per append and copied the whole tape at each doubling).
/// A slot holds either a <see cref="Node"/> or, for an elementwise op on rank-0 CPU floats over constants, a
/// <see cref="ScalarRecord"/>: a struct without references, in chunks of their own, so that a scalar chain leaves
/// the garbage collector nothing to trace or copy but those chunks (the values the user holds die young).
/// </summary>
internal sealed class Tape
{
    const int ChunkBits = 12, ChunkSize = 1 << ChunkBits, Mask = ChunkSize - 1;
    // 2048 records of 40 bytes: just under the 85,000 bytes at which .NET's default GC puts an array on the large
    // object heap (whose allocations count towards full collections)
    const int RecordBits = 11, RecordChunk = 1 << RecordBits, RecordMask = RecordChunk - 1;
    Node?[]?[] chunks = new Node?[]?[4];
    ScalarRecord[]?[] records = new ScalarRecord[]?[4];
    int count;

    /// <summary>Number of slots handed out.</summary>
    public int Count => Volatile.Read(ref count);

    /// <summary>Stores <paramref name="node"/> in the next slot and returns the slot.</summary>
    public int Append(Node node)
    {
        int i = Interlocked.Increment(ref count) - 1;
        NodeChunk(i)[i & Mask] = node;
        return i;
    }

    /// <summary>Stores <paramref name="record"/> in the next slot and returns the slot.</summary>
    public int Append(in ScalarRecord record)
    {
        int i = Interlocked.Increment(ref count) - 1;
        var c = Volatile.Read(ref records) is var d && i >> RecordBits < d.Length ? d[i >> RecordBits] : null;
        (c ?? RecordChunkAt(i >> RecordBits))[i & RecordMask] = record;
        return i;
    }

    Node?[] NodeChunk(int i) =>
        (Volatile.Read(ref chunks) is var c && i >> ChunkBits < c.Length ? c[i >> ChunkBits] : null) ?? Chunk(ref chunks, i >> ChunkBits, ChunkSize);

    ScalarRecord[] RecordChunkAt(int k) => Chunk(ref records, k, RecordChunk);

    /// <summary>Chunk k of a directory, created (and the directory grown) under a lock the first time a slot in it is
    /// needed. A chunk never moves, so a thread still holding the old directory writes into the same chunk.</summary>
    T[] Chunk<T>(ref T[]?[] directory, int k, int size)
    {
        lock (this)
        {
            var c = directory;
            if (k >= c.Length)
            {
                Array.Resize(ref c, Math.Max(2 * c.Length, k + 1));
                Volatile.Write(ref directory, c);
            }
            return c[k] ??= new T[size];
        }
    }

    /// <summary>The record in slot <paramref name="i"/>, if the slot holds one (false for a node, or a slot another
    /// thread has not written yet).</summary>
    public bool TryRecord(int i, out ScalarRecord record)
    {
        var d = Volatile.Read(ref records);
        if (i >> RecordBits < d.Length && d[i >> RecordBits] is { } c && c[i & RecordMask].Op != 0)
        {
            record = c[i & RecordMask];
            return true;
        }
        record = default;
        return false;
    }

    /// <summary>The node stored in slot <paramref name="i"/> (null for a record not yet viewed as a node, or a slot
    /// another thread has not written yet).</summary>
    public Node? Stored(int i)
    {
        var c = Volatile.Read(ref chunks);
        return i >> ChunkBits < c.Length && c[i >> ChunkBits] is { } chunk ? Volatile.Read(ref chunk[i & Mask]) : null;
    }

    /// <summary>The node of slot <paramref name="i"/> (null for -1, a constant): a record is viewed as a node the first
    /// time it is asked for (for inspection, or as the input of an op that is not a scalar record), once, so that a
    /// slot's node keeps its identity. Its parents are viewed lazily in turn: no recursion down a long chain.</summary>
    public Node? NodeAt(int i)
    {
        if (i < 0) return null;
        if (Stored(i) is { } n) return n;
        if (!TryRecord(i, out var r)) return null;
        var view = new Node(this, i, r);
        return Interlocked.CompareExchange(ref NodeChunk(i)[i & Mask], view, null) ?? view;
    }
}

/// <summary>
/// One application of an elementwise primitive to rank-0 CPU Float32/Float64 values that are constants for the tape's
/// tag: the values themselves and the slots of the inputs' nodes, without references, so that a taped scalar
/// chain is a few large arrays to the garbage collector, and its backward pass allocates nothing per operation.
/// </summary>
internal struct ScalarRecord
{
    /// <summary>The inputs' values (X1 unused for one input) and the result's, exact for Float32 too.</summary>
    public double X0, X1, Y;
    /// <summary><see cref="Primitive.ScalarId"/> + 1; 0 marks a slot without a record.</summary>
    public int Op;
    /// <summary>The tape slots of the nodes that produced the inputs; -1 for a constant (and Parent1 of one input).</summary>
    public int Parent0, Parent1;
    /// <summary>Float32 (values and derivatives computed in float) rather than Float64.</summary>
    public bool Single;
    /// <summary>Two inputs rather than one.</summary>
    public bool Binary;

    /// <summary>The primitive applied.</summary>
    public readonly Primitive Primitive => Primitive.ScalarOps[Op - 1];

    /// <summary>The value of a constant rank-0 Float32/Float64 CPU tensor (false for anything else).</summary>
    public static bool TryValue(Tensor t, out double value, out bool single) => TryValue(t.raw, out value, out single);

    /// <summary>The value of a rank-0 Float32/Float64 CPU storage view (false for anything else).</summary>
    public static bool TryValue(RawTensor? t, out double value, out bool single)
    {
        if (t is { Rank: 0 } raw)
        {
            switch (raw.Storage)
            {
                case CpuStorage<double> d: value = d.Data[raw.Offset]; single = false; return true;
                case CpuStorage<float> f: value = f.Data[raw.Offset]; single = true; return true;
            }
        }
        value = 0; single = false;
        return false;
    }

    /// <summary>A constant rank-0 tensor of <paramref name="value"/> (Float32 when <paramref name="single"/>).</summary>
    public static Tensor Constant(double value, bool single) => new(Raw(value, single));

    /// <summary>A rank-0 CPU storage view of <paramref name="value"/> (Float32 when <paramref name="single"/>).</summary>
    public static RawTensor Raw(double value, bool single) =>
        single ? new RawTensor(new CpuStorage<float>([(float)value]), []) : new RawTensor(new CpuStorage<double>([value]), []);
}
