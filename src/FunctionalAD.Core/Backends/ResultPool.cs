using System.Runtime.CompilerServices;

namespace FunctionalAD.Backends;

/// <summary>
/// Large result arrays of the CPU backend, recycled when the engine has proven them dead. Tensors are immutable
/// values that user code may hold, so the GC decides when most results die; but some arrays die inside the engine,
/// where it knows every reference: a kernel's copies of strided inputs, a derivative rule's temporaries, the backward
/// pass's intermediate adjoints and the contributions it has added into its own sums. Those come back here (<see cref="Return(Array)"/>) and serve the next result of the same length
/// and element type, warm: under .NET's default GC every array of 85,000 bytes or more goes to the large object
/// heap, whose budget starts full (gen2) collections and whose freed memory is decommitted, so a fresh one
/// page-faults its memory back in. Under a raised large-object threshold (the tuned GC settings) those arrays start
/// in gen0, where they die for free, so the pool takes none of them.
/// </summary>
/// <remarks>
/// Kernels take their result arrays from <see cref="Rent{T}(int)"/> (contents undefined: the kernel overwrites
/// every element) or <see cref="RentZeroed{T}(int)"/>. Smaller arrays are plain gen0 allocations, cheap under any
/// GC. What may be returned: an array nothing can reference any more (not a tensor's storage that a user, a tape,
/// a cache or another tensor's view can reach). The pool keeps at most <see cref="CapacityBytes"/>, making room by
/// dropping the arrays of the lengths least recently used. Thread-safe (one lock; only large arrays pass through it).
/// </remarks>
internal static class ResultPool
{
    /// <summary>Arrays of at least this many bytes are pooled: the large object heap's threshold.</summary>
    public const int MinBytes = 85_000;
    /// <summary>The most bytes the pool keeps.</summary>
    public const long CapacityBytes = 64L << 20;

    static readonly object gate = new();
    static readonly Dictionary<(Type, int), Bucket> free = [];
    static long held, clock;

    /// <summary>The free arrays of one element type and length, and when that length was last asked for or given back.</summary>
    sealed class Bucket
    {
        public readonly Stack<Array> Arrays = new();
        public long LastUse;
    }

    /// <summary>The arrays this thread has rented since <see cref="BeginLog"/>, in order (null when not logging).</summary>
    [ThreadStatic] static List<Array>? log;

    static bool Pooled<T>(int n) => (long)n * Unsafe.SizeOf<T>() >= MinBytes;

    /// <summary>An array of n elements whose contents are undefined (a recycled one, or a new one not zeroed).</summary>
    public static T[] Rent<T>(int n)
    {
        if (!Pooled<T>(n)) return GC.AllocateUninitializedArray<T>(n);
        var a = Take<T>(n) ?? GC.AllocateUninitializedArray<T>(n);
        log?.Add(a);
        return a;
    }

    /// <summary>An array of n zeros.</summary>
    public static T[] RentZeroed<T>(int n)
    {
        if (!Pooled<T>(n)) return new T[n];
        var a = Take<T>(n);
        if (a is null) a = new T[n];
        else Array.Clear(a);
        log?.Add(a);
        return a;
    }

    static T[]? Take<T>(int n)
    {
        lock (gate)
        {
            if (!free.TryGetValue((typeof(T), n), out var bucket)) return null;
            bucket.LastUse = ++clock;
            if (bucket.Arrays.Count == 0) return null;
            held -= (long)n * Unsafe.SizeOf<T>();
            return (T[])bucket.Arrays.Pop();
        }
    }

    /// <summary>Gives back an array that nothing references any more (see the class remarks); small arrays are left to
    /// the GC. When the pool is full, the arrays of the lengths least recently asked for or given back make room (left
    /// to the GC): a program that moves on to other shapes does not keep the old ones' arrays.</summary>
    public static void Return(Array a)
    {
        long bytes = (long)a.Length * ElementSize(a);
        // Only arrays the GC keeps in place: with a raised large-object threshold (the tuned GC settings) a large array
        // starts in gen0, where it dies for free, and keeping it would make the GC copy it to gen1.
        if (bytes < MinBytes || GC.GetGeneration(a) != GC.MaxGeneration) return;
        log?.Remove(a); // given back: no longer one of a rule's temporaries for the backward pass to give back again
        lock (gate)
        {
            if (bytes > CapacityBytes) return;
            var key = (a.GetType().GetElementType()!, a.Length);
            if (!free.TryGetValue(key, out var bucket)) free[key] = bucket = new();
            bucket.LastUse = ++clock;
            if (bucket.Arrays.Contains(a)) return; // twice in the pool would be two owners of one array
            while (held + bytes > CapacityBytes && Evict(bucket)) { }
            if (held + bytes > CapacityBytes) return;
            bucket.Arrays.Push(a);
            held += bytes;
        }
    }

    /// <summary>Drops one array of the least recently used length other than <paramref name="keep"/>'s (under the
    /// lock); false when there is none.</summary>
    static bool Evict(Bucket keep)
    {
        Bucket? oldest = null;
        foreach (var b in free.Values)
            if (b != keep && b.Arrays.Count > 0 && (oldest is null || b.LastUse < oldest.LastUse)) oldest = b;
        if (oldest is null) return false;
        var dropped = oldest.Arrays.Pop();
        held -= (long)dropped.Length * ElementSize(dropped);
        return true;
    }

    /// <summary>Bytes per element of the arrays a CPU storage holds (0 for others: not pooled).</summary>
    static int ElementSize(Array a) => a switch { float[] => 4, double[] => 8, int[] => 4, long[] => 8, bool[] => 1, _ => 0 };

    /// <summary>The CPU array behind a tensor's storage, or null for another device.</summary>
    public static Array? ArrayOf(RawTensor x) => x.Storage switch
    {
        CpuStorage<float> s => s.Data, CpuStorage<double> s => s.Data, CpuStorage<int> s => s.Data,
        CpuStorage<long> s => s.Data, CpuStorage<bool> s => s.Data, _ => null,
    };

    /// <summary>Starts recording the large arrays this thread rents (for the backward pass, which needs to know which
    /// of a rule's results are fresh); returns the previous log, to hand to <see cref="EndLog"/>.</summary>
    public static List<Array>? BeginLog() { var previous = log; log = []; return previous; }

    /// <summary>Stops recording and restores the log that <see cref="BeginLog"/> returned.</summary>
    public static void EndLog(List<Array>? previous) => log = previous;

    /// <summary>How many arrays this thread's log holds (a mark for <see cref="RentedSince"/>).</summary>
    public static int LogMark => log?.Count ?? 0;

    /// <summary>Gives back every array this thread's log holds except those in <paramref name="keep"/>, and empties the
    /// log (for a computation whose temporaries are all dead: an optimizer's update).</summary>
    public static void ReturnRentedExcept(Array?[] keep)
    {
        if (log is null) return;
        var rented = log.ToArray();
        log.Clear();
        foreach (var a in rented)
            if (Array.IndexOf(keep, a) < 0) Return(a);
    }

    /// <summary>True when <paramref name="a"/> was rented by this thread after <paramref name="mark"/>. With
    /// <paramref name="recycle"/>, every other array rented since then is given back (the caller knows they are dead:
    /// the temporaries of a derivative rule that returned <paramref name="a"/>); forgets the entries after the mark.</summary>
    public static bool RentedSince(int mark, Array? a, bool recycle = false)
    {
        if (log is null || log.Count <= mark) return false;
        bool found = false;
        // from the end: Return removes the array it is given from the log, which shifts only the entries after it (a
        // loop from the mark up skipped the entry after each one given back, and so left every other temporary to the GC)
        for (int i = log.Count - 1; i >= mark; i--)
        {
            if (ReferenceEquals(log[i], a)) found = true;
            else if (recycle) Return(log[i]);
        }
        if (log.Count > mark) log.RemoveRange(mark, log.Count - mark);
        return found;
    }
}
