using System.Diagnostics;
using System.Globalization;

namespace FunctionalAD.Bench;

/// <summary>Median, min and max seconds over the timed repetitions.</summary>
readonly record struct Stats(double Median, double Min, double Max, int Reps)
{
    public static Stats Of(IList<double> xs)
    {
        var a = xs.Order().ToArray();
        double med = a.Length % 2 == 1 ? a[a.Length / 2] : 0.5 * (a[a.Length / 2 - 1] + a[a.Length / 2]);
        return new Stats(med, a[0], a[^1], a.Length);
    }
}

/// <summary>
/// Timing and output, the same protocol as the TorchSharp anchor: warm up for at least Warmup calls and WarmSeconds
/// (so tiered JIT has promoted the code), then the median of Reps timed repetitions; one TSV row per measurement.
/// </summary>
sealed class Harness
{
    public int Reps = 9, Warmup = 2;
    public double WarmSeconds = 0.5;
    public bool Quick;
    public string[] Filters = [];
    public double PeakGhz = double.NaN;

    public const string Header = "name\tthreads\tmedian_s\tmetric\tunit\tmetric2\tunit2\treps\tmin_s\tmax_s\tforeign_cpu";

    /// <summary>True when a filter selects case <paramref name="name"/>: the filter is part of the name (a prefix such
    /// as fad_matmul), or the name begins a filter that names one of the case's rows (fad_autograd_sum_sinx_x_1M_bwd).</summary>
    public bool Enabled(string name) => Filters.Length == 0 || Filters.Any(f =>
        name.Contains(f, StringComparison.OrdinalIgnoreCase) || f.StartsWith(name, StringComparison.OrdinalIgnoreCase));

    public void Emit(string name, int threads, Stats s, double metric, string unit, double metric2 = double.NaN, string unit2 = "")
    {
        static string F(double v) => double.IsNaN(v) ? "NA" : v.ToString("G5", CultureInfo.InvariantCulture);
        Console.WriteLine($"{name}\t{threads}\t{F(s.Median)}\t{F(metric)}\t{unit}\t{F(metric2)}\t{(unit2 == "" ? "NA" : unit2)}\t{s.Reps}\t{F(s.Min)}\t{F(s.Max)}\t{ForeignCores().ToString("F2", CultureInfo.InvariantCulture)}");
        Console.Error.WriteLine($"# {name} {threads}t since the first timed rep{(probeCalls > 0 ? $" ({probeCalls} calls)" : "")}: {(GC.GetTotalAllocatedBytes() - probeAllocated) / 1048576.0:F1} MiB allocated, " +
                                $"collections gen0 {GC.CollectionCount(0) - probeGen0} gen1 {GC.CollectionCount(1) - probeGen1} gen2 {GC.CollectionCount(2) - probeGen2}, " +
                                $"{MinorFaults() - probeFaults} page faults, GC pauses {(GC.GetTotalPauseDuration() - probePause).TotalMilliseconds:F1} ms, " +
                                $"{ProcessMemory()}");
    }

    /// <summary>Percent of the nominal AVX2 FMA peak (2 pipes × 256 bits) at the /proc/cpuinfo clock, as the anchor reports.</summary>
    public double PctPeak(double gflops, int threads, bool fp64 = false) => 100.0 * gflops / ((fp64 ? 16 : 32) * PeakGhz * threads);

    /// <summary>True while still warming up: fewer than Warmup repetitions or less than WarmSeconds since <paramref name="since"/>.</summary>
    public bool Warming(int r, Stopwatch since) => r < Warmup || since.Elapsed.TotalSeconds < WarmSeconds;

    /// <summary>Median seconds per call of body; short bodies are repeated within a rep so a rep lasts >= minRepSeconds.</summary>
    public Stats Measure(Action body, double minRepSeconds = 0.05)
    {
        Settle();
        var ws = Stopwatch.StartNew();
        for (int i = 0; i < 1_000_000 && (i < Warmup || ws.Elapsed.TotalSeconds < WarmSeconds); i++) body();
        BeginProbe();
        var sw = Stopwatch.StartNew();
        body();
        double t1 = sw.Elapsed.TotalSeconds;
        int inner = t1 >= minRepSeconds ? 1 : (int)Math.Min(100000, Math.Ceiling(minRepSeconds / Math.Max(t1, 1e-7)));
        var times = new double[Reps];
        probeCalls = 1 + Reps * inner;
        for (int r = 0; r < Reps; r++)
        {
            sw.Restart();
            for (int i = 0; i < inner; i++) body();
            times[r] = sw.Elapsed.TotalSeconds / inner;
        }
        return Stats.Of(times);
    }

    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    // Foreign load: cores used by OTHER processes while a row was measured (/proc/stat minus our own CPU time).
    long probeBusy; double probeOwn;
    readonly Stopwatch probeWall = new();

    static long ProcBusy()
    {
        try
        {
            var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            return f[0] + f[1] + f[2] + f[5] + f[6] + (f.Length > 7 ? f[7] : 0);
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    static double OwnCpu() { using var p = Process.GetCurrentProcess(); return p.TotalProcessorTime.TotalSeconds; }

    // What the timed reps allocated and how often the GC ran (stderr): the default GC's cost follows from these.
    long probeAllocated, probeFaults, probeCalls; TimeSpan probePause; int probeGen0, probeGen1, probeGen2;

    public void BeginProbe()
    {
        probeCalls = 0;
        probeBusy = ProcBusy(); probeOwn = OwnCpu(); probeWall.Restart();
        probeAllocated = GC.GetTotalAllocatedBytes(); probeGen0 = GC.CollectionCount(0); probeGen1 = GC.CollectionCount(1); probeGen2 = GC.CollectionCount(2);
        probeFaults = MinorFaults(); probePause = GC.GetTotalPauseDuration();
    }

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat; 0 where there is no /proc):
    /// first touches of memory the GC has just committed.</summary>
    static long MinorFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], CultureInfo.InvariantCulture); // fields after the name start at field 3
        }
        catch (IOException) { return 0; }
    }

    /// <summary>Resident memory now and at its peak (VmRSS, VmHWM from /proc/self/status), for the stderr notes.</summary>
    static string ProcessMemory()
    {
        try
        {
            string rss = "?", hwm = "?";
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = line[6..].Trim();
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = line[6..].Trim();
            }
            return $"rss {rss}, peak rss {hwm}";
        }
        catch (IOException) { return "no /proc"; }
    }

    double ForeignCores()
    {
        double wall = probeWall.Elapsed.TotalSeconds;
        if (wall < 0.05 || probeBusy == 0) return double.NaN;
        double machine = (ProcBusy() - probeBusy) / 100.0; // USER_HZ = 100
        return Math.Max(0, (machine - (OwnCpu() - probeOwn)) / wall);
    }

    /// <summary>The nominal clock from /proc/cpuinfo, in GHz (NaN when unavailable).</summary>
    public static double NominalGhz()
    {
        try
        {
            var l = File.ReadLines("/proc/cpuinfo").FirstOrDefault(x => x.StartsWith("cpu MHz", StringComparison.Ordinal));
            return l is null ? double.NaN : double.Parse(l.Split(':')[1].Trim(), CultureInfo.InvariantCulture) / 1000.0;
        }
        catch (IOException) { return double.NaN; }
    }
}
