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

    /// <summary>Elements below which a kernel stays on one thread.</summary>
    internal const int Grain = 1 << 15;

    /// <summary>True when n elements are worth splitting over threads in the current scope.</summary>
    internal static bool ShouldSplit(int n) => n >= 2 * Grain && MaxThreads > 1;

    /// <summary>Runs body(0) .. body(pieces - 1) concurrently: pieces - 1 on pool threads, the last on the caller.</summary>
    internal static void Pieces(int pieces, Action<int> body)
    {
        if (pieces <= 1) { if (pieces == 1) body(0); return; }
        var others = new Task[pieces - 1];
        for (int c = 0; c < pieces - 1; c++) { int piece = c; others[c] = Task.Run(() => body(piece)); }
        body(pieces - 1);
        Task.WaitAll(others);
    }

    /// <summary>Runs body(start, count) over [0, n) in chunks, in parallel when n is large and threads allow.</summary>
    internal static void For(int n, int grain, Action<int, int> body)
    {
        int threads = MaxThreads;
        if (threads <= 1 || n < 2 * grain) { if (n > 0) body(0, n); return; }
        int chunks = Math.Min(threads * 4, n / grain);
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Parallel.For(0, chunks, options, c =>
        {
            int start = (int)((long)n * c / chunks), end = (int)((long)n * (c + 1) / chunks);
            body(start, end - start);
        });
    }
}
