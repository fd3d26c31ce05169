namespace FunctionalAD.Backends;

/// <summary>
/// How many threads CPU kernels may use. Scoped, not global: <c>using (Parallelism.Limit(1)) { ... }</c> applies to
/// the current async flow only.
/// </summary>
public static class Parallelism
{
    static readonly AsyncLocal<int> Limit_ = new();

    /// <summary>Threads available to kernels in the current scope (default: all processors).</summary>
    public static int MaxThreads => Limit_.Value > 0 ? Limit_.Value : Environment.ProcessorCount;

    /// <summary>Limits kernel threads until the returned value is disposed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">threads &lt; 1.</exception>
    public static IDisposable Limit(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var previous = Limit_.Value;
        Limit_.Value = threads;
        return new Restore(previous);
    }

    sealed class Restore(int previous) : IDisposable
    {
        public void Dispose() => Limit_.Value = previous;
    }

    /// <summary>The smallest piece worth a thread: kernels split only runs of at least two grains.</summary>
    internal const int Grain = 1 << 15;

    /// <summary>True when n elements are worth splitting over threads in the current scope.</summary>
    internal static bool ShouldSplit(int n) => n >= 2 * Grain && MaxThreads > 1;

    /// <summary>Marks, until disposed, a routine that splits several times with short single-threaded stretches in
    /// between (an LU factorization and its solves): the workers it will use wake now and wait for its pieces spinning
    /// rather than asleep (see <see cref="Workers"/>). Null (nothing to close) on one thread.</summary>
    internal static IDisposable? Burst()
    {
        int threads = MaxThreads;
        if (threads <= 1) return null;
        Workers.BeginBurst(threads);
        return new BurstScope(threads);
    }

    /// <summary>The scope of <see cref="Burst"/>: the first Dispose closes the burst, later ones nothing.</summary>
    sealed class BurstScope(int threads) : IDisposable
    {
        int open = 1;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref open, 0) == 1) Workers.EndBurst(threads);
        }
    }

    /// <summary>Runs body(0) .. body(pieces - 1) concurrently: pieces - 1 on workers, the last on the caller (or all
    /// on the thread pool when the workers are busy). A piece's exception reaches the caller as itself, on either path.</summary>
    internal static void Pieces(int pieces, Action<int> body)
    {
        if (pieces <= 1) { if (pieces == 1) body(0); return; }
        if (Workers.TryRun(pieces, body)) return;
        try { Parallel.For(0, pieces, new ParallelOptions { MaxDegreeOfParallelism = pieces }, body); }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    /// <summary>
    /// Runs body(start, count) over [0, n) in min(threads, n / grain) equal contiguous pieces when n is at least two
    /// grains and threads allow (the kernels split here do the same work per element), else in one call.
    /// </summary>
    internal static void For(int n, int grain, Action<int, int> body)
    {
        int threads = MaxThreads;
        if (threads <= 1 || n < 2 * grain) { if (n > 0) body(0, n); return; }
        int pieces = Math.Min(threads, n / grain);
        Pieces(pieces, c =>
        {
            int start = (int)((long)n * c / pieces), end = (int)((long)n * (c + 1) / pieces);
            body(start, end - start);
        });
    }
}
