using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace FunctionalAD.Backends;

/// <summary>
/// Threads that run the pieces of a split kernel. Between jobs each worker spins for a short while before it sleeps
/// (as OpenMP's threads do), so a kernel split over the cores starts its pieces in about a microsecond; the .NET
/// thread pool needed ~40 us to wake a worker on this VM (median of Task.Run(() => {}).Wait() after 0.3 ms of other
/// work: 41 us against 1 us), which is most of a 2-thread sum of 10M floats. One split runs at a time: a caller that
/// finds the workers busy (another thread's kernel, or a kernel called from inside a piece) gets false and falls back.
/// </summary>
internal static class Workers
{
    /// <summary>How long a worker spins for its next job before it blocks.</summary>
    static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 us

    static readonly Lazy<Worker[]> Pool = new(() =>
        Enumerable.Range(0, Math.Max(0, Environment.ProcessorCount - 1)).Select(i => new Worker(i)).ToArray());

    static int busy;

    /// <summary>Runs body(0) .. body(pieces - 1): the last on the calling thread, the others on workers. False (and
    /// nothing run) when there are too few workers or they are in use. The first exception of a piece is rethrown
    /// after every piece has finished.</summary>
    public static bool TryRun(int pieces, Action<int> body)
    {
        if (pieces - 1 > Environment.ProcessorCount - 1 || Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
        try
        {
            var pool = Pool.Value;
            for (int w = 0; w < pieces - 1; w++) pool[w].Start(body, w);
            Exception? error = null;
            try { body(pieces - 1); }
            catch (Exception e) { error = e; }
            for (int w = 0; w < pieces - 1; w++)
            {
                var e = pool[w].Join(); // every worker is joined, even after an error, before the pool is released
                error ??= e;
            }
            if (error is not null) ExceptionDispatchInfo.Throw(error);
            return true;
        }
        finally { Volatile.Write(ref busy, 0); }
    }

    sealed class Worker
    {
        const int Idle = 0, Posted = 1, Finished = 2;
        Action<int>? body;
        int piece, state, sleeping;
        Exception? error;
        readonly SemaphoreSlim wake = new(0);

        public Worker(int index) =>
            new Thread(Loop) { IsBackground = true, Name = $"FunctionalAD worker {index + 1}" }.Start();

        public void Start(Action<int> job, int index)
        {
            body = job; piece = index; error = null;
            Volatile.Write(ref state, Posted);
            // A worker that announced it is going to sleep is woken; one still spinning sees the job by itself.
            if (Interlocked.CompareExchange(ref sleeping, 0, 1) == 1) wake.Release();
        }

        public Exception? Join()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref state) != Finished) spin.SpinOnce(sleep1Threshold: -1);
            body = null;
            Volatile.Write(ref state, Idle);
            return error;
        }

        void Loop()
        {
            while (true)
            {
                long until = Stopwatch.GetTimestamp() + SpinTicks;
                var spin = new SpinWait();
                while (Volatile.Read(ref state) != Posted)
                {
                    // SpinWait yields the core every few turns: the GC can suspend this thread there, and its own
                    // thread can run (a busy loop made every collection wait out the whole spin window)
                    if (Stopwatch.GetTimestamp() < until) { spin.SpinOnce(sleep1Threshold: -1); continue; }
                    Interlocked.Exchange(ref sleeping, 1);
                    // Re-check after announcing: a job posted before the announcement must not be slept through.
                    if (Volatile.Read(ref state) == Posted && Interlocked.CompareExchange(ref sleeping, 0, 1) == 1) break;
                    wake.Wait(); // consumes the Release of the Start that cleared `sleeping`
                    until = Stopwatch.GetTimestamp() + SpinTicks;
                }
                try { body!(piece); }
                catch (Exception e) { error = e; }
                Volatile.Write(ref state, Finished);
            }
        }
    }
}
