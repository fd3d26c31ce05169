using System.Runtime.CompilerServices;

namespace FunctionalAD.Backends;

/// <summary>
/// Large result arrays of the CPU backend, recycled when they are proven dead. Tensors are immutable values that user
/// code may hold, so the GC decides when most results die (those come back through their sentinels, see the
/// remarks); but some arrays die inside the engine,
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
/// <para>
/// The arrays that reach user code (forward values, gradients, new parameters) come back too, once the GC has found
/// them unreachable: each large array handed out is armed with a <see cref="Sentinel"/>, kept alive by a dependent
/// handle (a <see cref="ConditionalWeakTable{TKey, TValue}"/> entry) exactly as long as the array itself is reachable
/// from anywhere else. When the GC finds the array unreachable, the sentinel is unreachable too; its finalizer brings
/// the array back here instead of letting the GC free (and decommit) its memory. That is sound by construction: the
/// array comes back only when nothing (a tensor, a view, a closure, a span or a kernel's local on any thread) can
/// reach it, which is the same proof the GC uses to free it. An array given back with <see cref="Return(Array)"/> is
/// disarmed first (its sentinel is dropped unfinalized), so no array ever has two ways back. Unreachable large
/// arrays are found only by full (gen2) collections, which the GC starts by the bytes newly allocated on the large
/// object heap; as the pool serves more of them, that trigger fires less, so <see cref="Rent{T}(int)"/> asks for a
/// background collection itself once <see cref="collectBudget"/> bytes have been armed since the last one (doubled
/// while collections find little to bring back: a program that keeps its results does not pay for collections).
/// The AppContext switch <c>FunctionalAD.RecycleUnreachableResults</c> (default true) turns this off.
/// </para>
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

    /// <summary>The sentinels of the large arrays handed out and not yet back, keyed (weakly) by their array.</summary>
    static readonly ConditionalWeakTable<Array, Sentinel> armed = new();
    static readonly bool recycleUnreachable =
        !AppContext.TryGetSwitch("FunctionalAD.RecycleUnreachableResults", out bool on) || on;
    /// <summary>The bytes armed since <see cref="Rent{T}(int)"/> last asked for a collection (or one happened), the
    /// bytes the sentinels brought back since then, and the bytes armed in the period before (under <see cref="gate"/>).</summary>
    static long armedSince, reclaimedSince, armedBefore;
    /// <summary>Bytes armed between two requested collections: half the pool to start with, doubled (up to 1 GiB)
    /// while a collection brings back less than a quarter of what was armed before it.</summary>
    static long collectBudget = CapacityBytes / 2;
    /// <summary>GC.CollectionCount(2) when the budget was last reset.</summary>
    static int gen2Seen;
    /// <summary>How many arrays the sentinels have brought back since the process started (for tests and notes).</summary>
    internal static long Reclaimed { get; private set; }

    /// <summary>Brings its array back to the pool when the GC finds both unreachable (see the class remarks).</summary>
    sealed class Sentinel(Array array)
    {
        /// <summary>Set by <see cref="Return(Array)"/>: the array came back another way, so the finalizer does nothing
        /// (belt and braces: the sentinel is also removed from <see cref="armed"/> and its finalization suppressed).</summary>
        public volatile bool Disarmed;
        ~Sentinel() { if (!Disarmed) Reclaim(array); }
    }

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
        Arm(a, (long)n * Unsafe.SizeOf<T>());
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
        Arm(a, (long)n * Unsafe.SizeOf<T>());
        log?.Add(a);
        return a;
    }

    /// <summary>Gives a large array on its way out a sentinel, so that it comes back when the GC finds it unreachable;
    /// asks for a background collection when <see cref="collectBudget"/> bytes have been armed since the last one.
    /// Only arrays the GC keeps in place (gen2: the large object heap), as in <see cref="Return(Array)"/>.</summary>
    static void Arm(Array a, long bytes)
    {
        // an array the pool could never keep is not armed: resurrecting it would only keep it one collection longer
        if (!recycleUnreachable || bytes > CapacityBytes || GC.GetGeneration(a) != GC.MaxGeneration) return;
        if (!armed.TryAdd(a, new Sentinel(a))) return; // already armed (cannot happen: a pooled array is disarmed)
        bool collect = false;
        lock (gate)
        {
            int gen2 = GC.CollectionCount(2);
            if (gen2 != gen2Seen) { gen2Seen = gen2; Adapt(); }
            armedSince += bytes;
            if (armedSince >= collectBudget) { Adapt(); collect = true; }
        }
        // not blocking: under the default (concurrent) GC a background collection; the sentinels' finalizers bring
        // the arrays back while the program goes on
        if (collect) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false);
    }

    /// <summary>Starts a new budget period (under the lock). The budget never falls below half of what the last full
    /// collection found alive (the pool's own arrays not counted): a full collection marks every live object, so a
    /// program with a large heap (an fsi session's compiler, a server's caches) is asked for one no more often than
    /// its size warrants, as the GC's own budgets grow with what survives. (Half the heap size instead fed back into
    /// itself: the garbage between collections raised the floor, which let more garbage pile up.)</summary>
    static void Adapt()
    {
        GCMemoryInfo background = GC.GetGCMemoryInfo(GCKind.Background), blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        long live = (background.Index >= blocking.Index ? background : blocking).PromotedBytes;
        long floor = Math.Max(CapacityBytes / 2, (live - held) / 2);
        collectBudget = NextBudget(collectBudget, armedBefore, reclaimedSince, floor);
        armedBefore = armedSince;
        armedSince = reclaimedSince = 0;
    }

    /// <summary>The budget of the next period, never below <paramref name="floor"/>. The arrays a collection finds come
    /// back on the finalizer thread after it, so what came back during the period just ended
    /// (<paramref name="reclaimed"/>) is measured against what the period before it armed
    /// (<paramref name="armedBefore"/>): less than a quarter (results the program keeps) doubles the budget, up to
    /// 1 GiB or the floor; more halves it back towards the floor.</summary>
    internal static long NextBudget(long budget, long armedBefore, long reclaimed, long floor) =>
        armedBefore > 0 && reclaimed < armedBefore / 4
            ? Math.Max(Math.Min(budget * 2, 1L << 30), floor)
            : Math.Max(budget / 2, floor);

    /// <summary>An array whose sentinel the GC found unreachable with it: back to the pool (on the finalizer thread).</summary>
    static void Reclaim(Array a)
    {
        armed.Remove(a); // the dependent handle outlives the array's resurrection by its sentinel
        long bytes = (long)a.Length * ElementSize(a);
        if (bytes == 0) return; // an element type the pool does not keep (none is rented today): left to the GC
        lock (gate) { reclaimedSince += bytes; Reclaimed++; }
        Push(a, bytes);
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
        if (armed.TryGetValue(a, out var sentinel))
        {
            sentinel.Disarmed = true;
            GC.SuppressFinalize(sentinel);
            armed.Remove(a);
        }
        Push(a, bytes);
    }

    /// <summary>Keeps an array nothing references in the pool (or leaves it to the GC when the pool is full).</summary>
    static void Push(Array a, long bytes)
    {
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
