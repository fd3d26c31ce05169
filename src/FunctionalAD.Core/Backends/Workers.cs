using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace FunctionalAD.Backends;

/// <summary>
/// Threads that run the pieces of a split kernel. Between jobs a worker may spin for a short while before it sleeps
/// (as OpenMP's threads do), so a kernel split over the cores starts its pieces in about a microsecond; the .NET
/// thread pool needed ~40 us to wake a worker on this VM (median of Task.Run(() => {}).Wait() after 0.3 ms of other
/// work: 41 us against 1 us), which is most of a 2-thread sum of 10M floats. One split runs at a time: a caller that
/// finds the workers busy (another thread's kernel, or a kernel called from inside a piece) gets false and falls back.
/// <para>Spinning is adaptive, so that a caller doing 50-300 us of serial work between small kernels (a training loop,
/// a data loader) does not pay a second core for it. The caller keeps moving averages of the gaps between its splits
/// (from the end of one to the start of the next) and of its own piece's duration: properties of the workload, not of
/// the workers' state, so that a decision does not feed on itself. Workers spin up to 200 us when recent gaps were no
/// longer than what a spin may cost (20 us, or two pieces: a spin that long costs at most two thirds of the worker's
/// time), and go to sleep at once otherwise (a longer gap would be spun through for nothing). They never spin while
/// more threads are runnable than the machine has cores (Linux: /proc/loadavg, sampled every 10 ms, two samples in a
/// row). A caller that has
/// finished its piece before a sleeping worker has woken up takes that worker's piece itself, so a split costs at
/// most the time the caller alone would take, plus the wake-up call.</para>
/// <para>A routine that knows it makes a run of splits with short single-threaded stretches between them (an LU
/// factorization: its splits come 20-60 us apart, after one-thread panel work, so the gap averages would put the
/// workers to sleep) opens a burst (<see cref="BeginBurst"/>): the workers it will use are woken at once, so that
/// their wake-up overlaps the caller's first serial stretch, and they spin between its pieces until the burst ends
/// (then at most <see cref="ShortGapTicks"/> more, for a burst that follows at once). Crowding still stops it.</para>
/// </summary>
internal static class Workers
{
    /// <summary>The longest a worker spins for its next job before it blocks.</summary>
    static readonly long MaxSpinTicks = Stopwatch.Frequency / 5000; // 200 us

    /// <summary>Gaps up to this are always spun through: shorter than a wake-up from sleep.</summary>
    static readonly long ShortGapTicks = Stopwatch.Frequency / 50_000; // 20 us

    /// <summary>The most one gap adds to the average (see TryRun).</summary>
    static readonly long GapCapTicks = Stopwatch.Frequency / 1000; // 1 ms

    static readonly Lazy<Worker[]> Pool = new(() =>
        Enumerable.Range(0, Math.Max(0, Environment.ProcessorCount - 1)).Select(i => new Worker(i)).ToArray());

    static int busy;

    // Open bursts, the most workers any of them uses, and when the last one closed (Stopwatch ticks).
    static int bursts, burstWorkers;
    static long burstEnded;

    /// <summary>Opens a burst that will split over <paramref name="threads"/> threads (see the class summary): wakes
    /// the threads - 1 workers it will use, which then spin between pieces until <see cref="EndBurst"/>.</summary>
    public static void BeginBurst(int threads)
    {
        int workers = Math.Min(threads, Environment.ProcessorCount) - 1;
        if (workers <= 0) return;
        Interlocked.Increment(ref bursts);
        int was;
        while ((was = Volatile.Read(ref burstWorkers)) < workers && Interlocked.CompareExchange(ref burstWorkers, workers, was) != was) { }
        if (Crowded()) return;
        var pool = Pool.Value;
        for (int w = 0; w < workers; w++) pool[w].Nudge();
    }

    /// <summary>Bursts open now (tests: every one opened is closed).</summary>
    internal static int OpenBursts => Volatile.Read(ref bursts);

    /// <summary>Closes a burst opened by <see cref="BeginBurst"/> with the same thread count.</summary>
    public static void EndBurst(int threads)
    {
        if (Math.Min(threads, Environment.ProcessorCount) <= 1) return;
        Volatile.Write(ref burstEnded, Stopwatch.GetTimestamp());
        if (Interlocked.Decrement(ref bursts) == 0) Volatile.Write(ref burstWorkers, 0);
    }

    /// <summary>Whether worker <paramref name="index"/> takes part in an open burst, or one that closed less than
    /// <see cref="ShortGapTicks"/> ago.</summary>
    static bool InBurst(int index) =>
        (Volatile.Read(ref bursts) > 0 && index < Volatile.Read(ref burstWorkers))
        || Stopwatch.GetTimestamp() - Volatile.Read(ref burstEnded) < ShortGapTicks;

    // Written by the caller that holds `busy`, read by the workers: moving averages (weight 1/8 to the newest) of the
    // gap before each split and of the caller's piece, in Stopwatch ticks, and the end of the last split.
    static long gapAverage, pieceAverage, lastEnd;

    /// <summary>Runs body(0) .. body(pieces - 1): the last on the calling thread, the others on workers (or on the
    /// caller, for a worker that has not started its piece by the time the caller's is done). False (and nothing run)
    /// when there are too few workers or they are in use. The first exception of a piece is rethrown after every
    /// piece has finished.</summary>
    public static bool TryRun(int pieces, Action<int> body)
    {
        if (pieces - 1 > Environment.ProcessorCount - 1 || Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
        try
        {
            long start = Stopwatch.GetTimestamp();
            // a gap counts as at most 1 ms: one pause of the program (seconds) must not keep the workers asleep for
            // the next fifty splits, only until a few short gaps have shown that the kernels come quickly again
            if (lastEnd != 0) Volatile.Write(ref gapAverage, gapAverage + (Math.Min(start - lastEnd, GapCapTicks) - gapAverage) / 8);
            var pool = Pool.Value;
            bool wake = WorthWaking();
            for (int w = 0; w < pieces - 1; w++) pool[w].Start(body, w, wake);
            Exception? error = null;
            long mine = Stopwatch.GetTimestamp();
            try { body(pieces - 1); }
            catch (Exception e) { error = e; }
            Volatile.Write(ref pieceAverage, pieceAverage + (Stopwatch.GetTimestamp() - mine - pieceAverage) / 8);
            for (int w = 0; w < pieces - 1; w++)
            {
                var e = pool[w].Join(body, w); // every piece has finished, even after an error, before the pool is released
                error ??= e;
            }
            lastEnd = Stopwatch.GetTimestamp();
            if (error is not null) ExceptionDispatchInfo.Throw(error);
            return true;
        }
        finally { Volatile.Write(ref busy, 0); }
    }

    /// <summary>How long a worker spins for its next job: the longest spin when recent gaps fit in what a spin may
    /// cost (a short gap, or one no longer than two pieces), else none.</summary>
    static long SpinTicks() => GapsAffordable() && !Crowded() ? MaxSpinTicks : 0;

    static bool GapsAffordable() =>
        Volatile.Read(ref gapAverage) <= Math.Max(ShortGapTicks, Math.Min(MaxSpinTicks, 2 * Volatile.Read(ref pieceAverage)));

    /// <summary>Whether a sleeping worker is woken for a split: when its piece takes longer than a wake-up (else the
    /// caller runs it sooner itself), or when the gaps have become short enough to spin through (so that a worker
    /// asleep since a run of long gaps takes part again).</summary>
    static bool WorthWaking() => Volatile.Read(ref pieceAverage) > ShortGapTicks || GapsAffordable() || Volatile.Read(ref bursts) > 0;

    /// <summary>True when more threads are runnable than the machine has cores (then spinning takes a core from a
    /// thread that has work). Read from /proc/loadavg at most every 10 ms by whichever worker asks; true only when two samples
    /// in a row say so (a burst, such as a collection's threads, does not stop the spinning). False where the file
    /// cannot be read.</summary>
    static bool Crowded()
    {
        long now = Stopwatch.GetTimestamp();
        if (now - Volatile.Read(ref crowdSampledAt) < Stopwatch.Frequency / 100) return crowded;
        crowdSampledAt = now;
        bool over = RunnableThreads() > MachineCores.Value;
        crowded = over && overBefore;
        overBefore = over;
        return crowded;
    }

    /// <summary>The machine's online CPUs (/sys/devices/system/cpu/online, "0-63" or "0-3,8-11"): /proc/loadavg
    /// counts the runnable threads of the whole machine, also inside a container whose CPU quota makes
    /// Environment.ProcessorCount smaller. Environment.ProcessorCount where the file cannot be read.</summary>
    static readonly Lazy<int> MachineCores = new(() =>
    {
        try
        {
            int count = 0;
            foreach (var range in File.ReadAllText("/sys/devices/system/cpu/online").Trim().Split(','))
            {
                var ends = range.Split('-');
                count += ends.Length == 2 ? int.Parse(ends[1]) - int.Parse(ends[0]) + 1 : 1;
            }
            return count > 0 ? count : Environment.ProcessorCount;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return Environment.ProcessorCount;
        }
    });

    static long crowdSampledAt;
    static bool crowded, overBefore, noLoadAvg;

    /// <summary>The kernel's count of runnable threads, the asking one included (the "3" of /proc/loadavg's
    /// "0.66 2.53 4.27 3/456 12345"); 0 when unknown.</summary>
    static int RunnableThreads()
    {
        if (noLoadAvg) return 0;
        try
        {
            Span<byte> buffer = stackalloc byte[128];
            using var file = File.OpenHandle("/proc/loadavg");
            var text = buffer[..RandomAccess.Read(file, buffer, 0)];
            int slash = text.IndexOf((byte)'/');
            if (slash < 0) return 0;
            int count = 0;
            for (int i = text[..slash].LastIndexOf((byte)' ') + 1; i < slash; i++) count = count * 10 + (text[i] - '0');
            return count;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            noLoadAvg = true;
            return 0;
        }
    }

    sealed class Worker
    {
        // Idle -> Posted (Start) -> Running (the worker claims it) -> Finished -> Idle (Join); or Posted -> Idle when the
        // caller takes the piece back in Join before the worker has claimed it.
        const int Idle = 0, Posted = 1, Finished = 2, Running = 3;
        Action<int>? body;
        int piece, state, sleeping;
        Exception? error;
        // Sleeping and waking: a monitor rather than a SemaphoreSlim, whose Wait spins before it blocks (measured: a
        // worker woken every 140 us used 0.4 s of CPU per second, most of it in that spin).
        readonly object gate = new();
        bool signaled;

        readonly int index;

        public Worker(int index)
        {
            this.index = index;
            new Thread(Loop) { IsBackground = true, Name = $"FunctionalAD worker {index + 1}" }.Start();
        }

        /// <summary>Wakes the worker if it sleeps (a burst begins: it spins for the burst's pieces).</summary>
        public void Nudge()
        {
            if (Interlocked.CompareExchange(ref sleeping, 0, 1) == 1)
                lock (gate) { signaled = true; Monitor.Pulse(gate); }
        }

        /// <summary>Posts piece <paramref name="index"/>. A worker that announced it is going to sleep is woken if
        /// <paramref name="wake"/> (else its piece waits for Join to take it back); one still spinning sees the job by itself.</summary>
        public void Start(Action<int> job, int index, bool wake)
        {
            body = job; piece = index; error = null;
            Volatile.Write(ref state, Posted);
            if (wake && Interlocked.CompareExchange(ref sleeping, 0, 1) == 1)
                lock (gate) { signaled = true; Monitor.Pulse(gate); }
        }

        /// <summary>Waits for the piece to finish, or runs it on the calling thread if the worker has not claimed it.</summary>
        public Exception? Join(Action<int> job, int index)
        {
            if (Interlocked.CompareExchange(ref state, Idle, Posted) == Posted)
            {
                body = null;
                try { job(index); }
                catch (Exception e) { return e; }
                return null;
            }
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
                long spinTicks = SpinTicks();
                // a burst grants the longest spin where the gaps would not, but only while it lasts
                bool forBurst = spinTicks == 0 && InBurst(index) && !Crowded();
                long until = Stopwatch.GetTimestamp() + (forBurst ? MaxSpinTicks : spinTicks);
                var spin = new SpinWait();
                while (Volatile.Read(ref state) != Posted || Interlocked.CompareExchange(ref state, Running, Posted) != Posted)
                {
                    // SpinWait yields the core every few turns: the GC can suspend this thread there, and its own
                    // thread can run (a busy loop made every collection wait out the whole spin window)
                    if (Stopwatch.GetTimestamp() < until && (!forBurst || InBurst(index))) { spin.SpinOnce(sleep1Threshold: -1); continue; }
                    Interlocked.Exchange(ref sleeping, 1);
                    // Re-check after announcing: a job posted before the announcement must not be slept through.
                    if (Volatile.Read(ref state) == Posted && Interlocked.CompareExchange(ref sleeping, 0, 1) == 1) continue;
                    lock (gate) // consumes the signal of the Start or Nudge that cleared `sleeping`
                    {
                        while (!signaled) Monitor.Wait(gate);
                        signaled = false;
                    }
                    // woken for a job: claim it if the caller has not taken it back, else sleep again; woken by a
                    // burst's start (or for a job within one): spin for the burst's pieces
                    forBurst = InBurst(index) && !Crowded();
                    until = forBurst ? Stopwatch.GetTimestamp() + MaxSpinTicks : 0;
                }
                try { body!(piece); }
                catch (Exception e) { error = e; }
                Volatile.Write(ref state, Finished);
            }
        }
    }
}
