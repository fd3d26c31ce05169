using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace FunctionalAD.Backends;

/// <summary>
/// Threads that run the pieces of a split kernel.
/// <para>Pieces are claimed, not assigned: the caller and any worker that is awake take the next unclaimed piece
/// until none is left, so a worker that is asleep (or descheduled) never delays a kernel; the caller runs what nobody
/// took. The .NET thread pool needed ~40 us to wake a worker on this VM, which is most of a 2-thread sum of 10M
/// floats, so between jobs an awake worker spins for a while before it blocks, as OpenMP's threads do.</para>
/// <para>The spin is adaptive. It costs CPU time that the caller's own serial work (an F# training loop, a data
/// loader's thread, another process) needs, and it pays off only when the next job comes within about the time a
/// piece takes (otherwise the caller is better off doing that piece itself). So a worker spins at most
/// <see cref="SpinFactor"/> times its recent piece duration (never more than 200 us); after a few gaps in a row that
/// were longer than that it stops spinning until a gap is short again (measured while asleep too, from the time the
/// job was posted); and it never spins while more threads are runnable than there are cores. Spinning uses
/// <see cref="Thread.SpinWait"/> (pause instructions), not yields: a yield is a system call, and yielding spinners
/// used to make the test command spend most of its time in the kernel.</para>
/// One split runs at a time: a caller that finds the workers busy (another thread's kernel, or a kernel called from
/// inside a piece) gets false and falls back.
/// </summary>
internal static class Workers
{
    /// <summary>The longest a worker spins for its next job before it blocks.</summary>
    static readonly long MaxSpinTicks = Stopwatch.Frequency / 5000; // 200 us

    /// <summary>A spin shorter than this is not worth starting.</summary>
    static readonly long MinSpinTicks = Stopwatch.Frequency / 100_000; // 10 us

    /// <summary>A worker spins up to this many times its recent piece duration: a spin that catches the next job
    /// saves about a piece of the caller's time, so waiting much longer than a piece costs more CPU than it saves
    /// (at 4x, a 100 us gap between 25 us pieces kept a worker spinning through most of every gap).</summary>
    const int SpinFactor = 2;

    /// <summary>Gaps in a row longer than the spin budget after which a worker stops spinning.</summary>
    const int MissesBeforeBlocking = 3;

    static readonly Lazy<Worker[]> Pool = new(() =>
        Enumerable.Range(0, Math.Max(0, Environment.ProcessorCount - 1)).Select(i => new Worker(i)).ToArray());

    static int busy;

    // The current job. Its fields are written before `ticket` publishes it and stay until every piece has finished.
    static Action<int>? body;
    static int pieces, finished;
    static Exception? error;
    static long postedAt;

    /// <summary>High 32 bits: the job's generation; low 32: the next unclaimed piece.</summary>
    static long ticket;

    /// <summary>Runs body(0) .. body(pieces - 1) on the caller and the workers that are awake (waking sleeping ones).
    /// False (and nothing run) when there are too few workers or they are in use. The first exception of a piece is
    /// rethrown after every piece has finished.</summary>
    public static bool TryRun(int count, Action<int> job)
    {
        if (count - 1 > Environment.ProcessorCount - 1 || Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
        try
        {
            var pool = Pool.Value;
            body = job; pieces = count; finished = 0; error = null;
            Volatile.Write(ref postedAt, Stopwatch.GetTimestamp());
            long generation = (Volatile.Read(ref ticket) >> 32) + 1;
            Volatile.Write(ref ticket, generation << 32);
            for (int w = 0; w < count - 1; w++) pool[w].Wake();
            RunPieces(generation);
            var spin = new SpinWait();
            while (Volatile.Read(ref finished) != count) spin.SpinOnce(sleep1Threshold: -1); // claimed pieces are running
            // Closed: a worker holding a stale ticket of this job can no longer claim anything once the next job's
            // fields are written.
            Volatile.Write(ref ticket, generation << 32 | int.MaxValue);
            body = null;
            if (error is not null) ExceptionDispatchInfo.Throw(error);
            return true;
        }
        finally { Volatile.Write(ref busy, 0); }
    }

    /// <summary>Claims and runs pieces of job `generation` until none is left; the number run.</summary>
    static int RunPieces(long generation)
    {
        int ran = 0;
        while (true)
        {
            long t = Volatile.Read(ref ticket);
            if (t >> 32 != generation || (int)t >= Volatile.Read(ref pieces)) return ran;
            if (Interlocked.CompareExchange(ref ticket, t + 1, t) != t) continue;
            try { body!((int)t); }
            catch (Exception e) { Interlocked.CompareExchange(ref error, e, null); }
            ran++;
            Interlocked.Increment(ref finished);
        }
    }

    /// <summary>True when more threads are runnable than there are cores (Linux's /proc/loadavg, read at most every
    /// 10 ms); spinning then only takes a core from a thread with work to do.</summary>
    static bool Overcommitted()
    {
        long now = Stopwatch.GetTimestamp();
        if (now - Volatile.Read(ref loadCheckedAt) < Stopwatch.Frequency / 100) return Volatile.Read(ref overcommitted);
        Volatile.Write(ref loadCheckedAt, now);
        bool over = false;
        try
        {
            if (OperatingSystem.IsLinux())
            {
                // "0.50 0.40 0.30 3/412 12345": the fourth field is runnable/total scheduling entities
                var fields = File.ReadAllText("/proc/loadavg").Split(' ');
                int slash = fields.Length > 3 ? fields[3].IndexOf('/') : -1;
                over = slash > 0 && int.TryParse(fields[3].AsSpan(0, slash), out int runnable) && runnable > Environment.ProcessorCount;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        Volatile.Write(ref overcommitted, over);
        return over;
    }

    static long loadCheckedAt;
    static bool overcommitted;

    sealed class Worker
    {
        int sleeping;
        readonly SemaphoreSlim wake = new(0);

        /// <summary>Recent piece duration (ticks, exponentially weighted) and long gaps in a row.</summary>
        long pieceTicks = MinSpinTicks;
        int misses;

        public Worker(int index) =>
            new Thread(Loop) { IsBackground = true, Name = $"FunctionalAD worker {index + 1}" }.Start();

        /// <summary>Wakes the worker if it announced it sleeps; one still spinning sees the job by itself.</summary>
        public void Wake()
        {
            if (Interlocked.CompareExchange(ref sleeping, 0, 1) == 1) wake.Release();
        }

        long SpinBudget() =>
            misses >= MissesBeforeBlocking ? 0 : Math.Clamp(SpinFactor * pieceTicks, MinSpinTicks, MaxSpinTicks);

        void Loop()
        {
            long seen = 0; // the last generation this worker looked at
            long idleSince = Stopwatch.GetTimestamp();
            while (true)
            {
                long budget = SpinBudget();
                if (budget > 0 && Overcommitted()) budget = 0;
                long until = idleSince + budget;
                while (Volatile.Read(ref ticket) >> 32 == seen)
                {
                    if (Stopwatch.GetTimestamp() < until) { Thread.SpinWait(30); continue; }
                    Interlocked.Exchange(ref sleeping, 1);
                    // Re-check after announcing: a job posted before the announcement must not be slept through.
                    if (Volatile.Read(ref ticket) >> 32 != seen && Interlocked.CompareExchange(ref sleeping, 0, 1) == 1) break;
                    wake.Wait(); // consumes the Release of the Wake that cleared `sleeping`
                }
                seen = Volatile.Read(ref ticket) >> 32;
                // The gap since this worker went idle, measured from the post (not the wake-up) so that a worker that
                // slept learns whether spinning would have caught the job.
                long gap = Volatile.Read(ref postedAt) - idleSince;
                misses = gap > Math.Clamp(SpinFactor * pieceTicks, MinSpinTicks, MaxSpinTicks) ? misses + 1 : 0;
                long start = Stopwatch.GetTimestamp();
                int ran = RunPieces(seen);
                idleSince = Stopwatch.GetTimestamp();
                if (ran > 0) pieceTicks = (3 * pieceTicks + (idleSince - start) / ran) / 4;
            }
        }
    }
}
