using System.Numerics;

namespace FunctionalAD.Bench;

/// <summary>
/// fad_dual_plain_double_1M and fad_dual_value_and_derivative_1M: one generic-math function evaluated on double (value only) and on Dual&lt;double&gt; (value and
/// derivative) over 1M points. The goal is Dual time &lt;= 2x double time; metric2 is that ratio. No torch row.
/// </summary>
static class DualCases
{
    static T F<T>(T x) where T : IFloatingPointIeee754<T> => T.Sin(x) * x + T.Exp(x / (T.One + T.One)) - x * x;

    public static void Run(Harness h, int threads)
    {
        if (threads != 1 || !h.Enabled("fad_dual")) return;  // scalar code: one thread
        int n = h.Quick ? 10_000 : 1_000_000;
        var xs = new double[n];
        for (int i = 0; i < n; i++) xs[i] = -2 + 4.0 * i / n;
        double sink = 0;
        var plain = h.Measure(() =>
        {
            double s = 0;
            foreach (var x in xs) s += F(x);
            sink += s;
        });
        var dual = h.Measure(() =>
        {
            double s = 0;
            foreach (var x in xs) s += F(new Dual<double>(x, 1.0)).Tangent;
            sink += s;
        });
        h.Emit("fad_dual_plain_double_1M", 1, plain, plain.Median / n * 1e9, "ns/elem");
        h.Emit("fad_dual_value_and_derivative_1M", 1, dual, dual.Median / n * 1e9, "ns/elem", dual.Median / plain.Median, "x_double");
        if (double.IsNaN(sink)) Console.Error.WriteLine("# unreachable: keeps the loops alive");
    }
}
