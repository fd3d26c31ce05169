using System.Diagnostics;

namespace FunctionalAD.Bench;

/// <summary>
/// What idle workers cost: fad_spin_alternating_100us runs a loop that alternates 100 us of serial work on the
/// calling thread with a small parallel kernel (a product of 131,072 floats, split at 2 threads), as an F# training
/// loop or a data loader does, and reports the process CPU time per second of wall time (metric; the goal is <= 1.3
/// at 2 threads: a worker that spins through every serial gap makes it ~1.9) and the time per iteration (metric2:
/// what adaptive spinning may cost the kernels that follow a gap). Each rep runs the loop for 0.5 s.
/// </summary>
static class SpinCases
{
    public static void Run(Harness h, int threads)
    {
        const string name = "fad_spin_alternating_100us";
        if (!h.Enabled(name)) return;
        var a = Tensor.Rand([131_072], new Generator(3));
        var b = Tensor.Rand([131_072], new Generator(4));
        var (ratios, iterTimes) = (new List<double>(), new List<double>());
        Harness.Settle();
        h.BeginProbe();
        for (int r = 0; r < h.Reps + 1; r++)
        {
            var (ratio, perIter) = Loop(a, b, h.Quick ? 0.1 : 0.5);
            if (r > 0) { ratios.Add(ratio); iterTimes.Add(perIter); } // the first is warm-up
        }
        var st = Stats.Of(iterTimes);
        h.Emit(name, threads, st, Stats.Of(ratios).Median, "cpu_s/s", st.Median * 1e6, "us/iter");
    }

    /// <summary>Process CPU seconds per wall second over the loop, and wall seconds per iteration.</summary>
    static (double Ratio, double PerIter) Loop(Tensor a, Tensor b, double seconds)
    {
        using var self = Process.GetCurrentProcess();
        double cpu0 = self.TotalProcessorTime.TotalSeconds;
        var wall = Stopwatch.StartNew();
        long serialTicks = Stopwatch.Frequency / 10_000; // 100 us
        int iters = 0;
        double sink = 0;
        while (wall.Elapsed.TotalSeconds < seconds)
        {
            long until = Stopwatch.GetTimestamp() + serialTicks;
            double acc = 1;
            while (Stopwatch.GetTimestamp() < until) for (int i = 0; i < 64; i++) acc = acc * 0.9999999 + 1e-9; // serial work
            sink += acc;
            var c = a * b;
            sink += c.Numel;
            iters++;
        }
        double w = wall.Elapsed.TotalSeconds;
        self.Refresh();
        double cpu = self.TotalProcessorTime.TotalSeconds - cpu0;
        if (double.IsNaN(sink)) Console.Error.WriteLine("# unreachable");
        return (cpu / w, w / iters);
    }
}
