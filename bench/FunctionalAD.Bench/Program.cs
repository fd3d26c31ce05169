// FunctionalAD's side of the TorchSharp performance anchor: the same cases and TSV columns, names prefixed fad_.
// stdout: the table; stderr: notes. See ../RESULTS.md.
using System.Globalization;
using System.Runtime.Intrinsics;
using FunctionalAD.Backends;
using FunctionalAD.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var h = new Harness();
int[] threadCounts = [1, 2];
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--reps": h.Reps = int.Parse(args[++i]); break;
        case "--warmup": h.Warmup = int.Parse(args[++i]); break;
        case "--threads": threadCounts = args[++i].Split(',').Select(int.Parse).ToArray(); break;
        case "--filter": h.Filters = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries); break;
        case "--warm-seconds": h.WarmSeconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--quick": h.Quick = true; h.Reps = 3; h.Warmup = 1; h.WarmSeconds = 0.2; break;
        default:
            Console.Error.WriteLine("usage: FunctionalAD.Bench [--reps N] [--warmup N] [--threads 1,2] [--filter a,b] [--warm-seconds S] [--quick]");
            return 2;
    }
}
#if DEBUG
Console.Error.WriteLine("WARNING: Debug build; use -c Release");
#endif
h.PeakGhz = Harness.NominalGhz();
Console.Error.WriteLine($"# .NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, Vector256 {Vector256.IsHardwareAccelerated}, " +
                        $"Vector512 {Vector512.IsHardwareAccelerated}, reps={h.Reps} warmup={h.Warmup}{(h.Quick ? " QUICK" : "")}");
Console.WriteLine(Harness.Header);
var total = System.Diagnostics.Stopwatch.StartNew();
foreach (int t in threadCounts)
{
    using var scope = Parallelism.Limit(t);
    Console.Error.WriteLine($"# ---- FunctionalAD, Parallelism.Limit({t})");
    MatMulCases.Run(h, t);
    ElementwiseCases.Run(h, t);
    AutogradCases.Run(h, t);
    TrainingCases.Run(h, t);
    LayerCases.Run(h, t);
    DualCases.Run(h, t);
    LinalgCases.Run(h, t);
    MemoryCases.Run(h, t);
    SpinCases.Run(h, t);
}
Console.Error.WriteLine($"# total wall time {total.Elapsed.TotalSeconds:F1} s");
return 0;
