namespace FunctionalAD.Ops;

/// <summary>
/// Special functions in double precision, written once for every place an op runs: the CPU's scalar and block math
/// call them (Float32 goes through double and is rounded once), and the GPU kernels compile the same code (no
/// allocation, no exceptions, no virtual calls, no recursion: only arithmetic, loops and System.Math, which ILGPU maps
/// to its own math). .NET has no erf, erfinv, lgamma or digamma, and XMath has none of these either.
/// </summary>
/// <remarks>
/// The polynomial coefficients were computed for this file with mpmath at 50 digits (a Chebyshev fit for erfc, Taylor
/// series for erf near 0 and for lgamma near 2). Accuracy, measured against mpmath: erf, erfc within a few ulp on the
/// whole line (erfc relative, also deep in its tail); erfinv within a few ulp (three Halley steps on erf/erfc);
/// lgamma and digamma within a few ulp except near their roots, where the error is absolute (about 1e-16 for lgamma
/// near 1 and 2 and for digamma near 1.4616), as in Cephes, which PyTorch uses.
/// </remarks>
internal static class Special
{
    const double TwoOverSqrtPi = 1.128379167095512574;
    const double HalfLog2Pi = 0.9189385332046727418;
    const double Ln2 = 0.6931471805599453094;

    /// <summary>log(1 + x), accurate near 0 (Kahan: the rounding of 1 + x is corrected).</summary>
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : u == double.PositiveInfinity ? u : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>The error function (2/√π)∫₀ˣ e^(-t²) dt.</summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (a <= 1.0)
        {
            double z = x * x;
            return x * (1.128379167095512574 + z * (-0.3761263890318375246 + z * (0.1128379167095512574 + z * (-0.02686617064513125176 + z * (0.005223977625442187842 + z * (-8.548327023450852833e-4 + z * (1.205533298178966425e-4 + z * (-1.492565035840625098e-5 + z * (1.64621143658892474e-6 + z * (-1.636584469123492432e-7 + z * (1.480719281587921724e-8 + z * (-1.229055530171792735e-9 + z * (9.422759064650410971e-11 + z * (-6.711366855164110378e-12 + z * (4.463224263286477345e-13 + z * (-2.783516207210921355e-14 + z * (1.634261409536715189e-15 + z * (-9.063970842808672479e-17 + z * (4.76334804051506812e-18 + z * (-2.378459885277429425e-19 + z * (1.131218725924631068e-20)))))))))))))))))))));
        }
        double r = 1.0 - ErfcPositive(a); // NaN never reaches here (a <= 1 is false for NaN, so it flows through)
        return x < 0 ? -r : r;
    }

    /// <summary>The complementary error function 1 - erf(x), with full relative accuracy for large x.</summary>
    public static double Erfc(double x)
    {
        double a = Math.Abs(x);
        if (a <= 1.0) return 1.0 - Erf(x);
        double r = ErfcPositive(a);
        return x < 0 ? 2.0 - r : r;
    }

    /// <summary>erfc(x) for x ≥ 1 (or NaN): t·exp(-x² + g(t)) with t = 2/(2 + x) and g a Chebyshev fit in t; the
    /// exponent -x² is split at a Float32-rounded s (s² is exact in double) so that it loses nothing for large x.</summary>
    static double ErfcPositive(double x)
    {
        if (x > 27.5) return double.IsNaN(x) ? x : 0.0;
        double t = 2.0 / (2.0 + x);
        double s = (float)x;
        return t * Math.Exp(-s * s) * Math.Exp((s - x) * (s + x) + ErfcLogCorrection(3.0 * t - 1.0));
    }

    /// <summary>g(u) = log(erfc(x)·e^(x²)/t), u = 3t - 1 in [-1, 1] (x from ∞ to 1): 24 Chebyshev terms, |error| &lt; 2e-18.</summary>
    static double ErfcLogCorrection(double u)
    {
        double u2 = 2.0 * u;
        double d = 0, dd = 0, t;
        t = d; d = u2 * d - dd - 6.849850386722839782e-18; dd = t;
        t = d; d = u2 * d - dd + 1.462569026933704965e-18; dd = t;
        t = d; d = u2 * d - dd + 1.564777725405396739e-16; dd = t;
        t = d; d = u2 * d - dd - 4.799610853241498101e-16; dd = t;
        t = d; d = u2 * d - dd - 2.659208623163592427e-15; dd = t;
        t = d; d = u2 * d - dd + 1.820809108745057816e-14; dd = t;
        t = d; d = u2 * d - dd + 3.162076007737252444e-14; dd = t;
        t = d; d = u2 * d - dd - 5.243997146922256396e-13; dd = t;
        t = d; d = u2 * d - dd - 5.947733609366036755e-14; dd = t;
        t = d; d = u2 * d - dd + 1.3832474975312072e-11; dd = t;
        t = d; d = u2 * d - dd - 1.14725520504738525e-11; dd = t;
        t = d; d = u2 * d - dd - 3.636939017854876223e-10; dd = t;
        t = d; d = u2 * d - dd + 4.72794743924414084e-10; dd = t;
        t = d; d = u2 * d - dd + 1.007690861649691334e-8; dd = t;
        t = d; d = u2 * d - dd - 1.256088212682562905e-8; dd = t;
        t = d; d = u2 * d - dd - 3.056195401230842696e-7; dd = t;
        t = d; d = u2 * d - dd + 1.655633288832929385e-7; dd = t;
        t = d; d = u2 * d - dd + 1.038908208495770047e-5; dd = t;
        t = d; d = u2 * d - dd + 1.104052781891194182e-5; dd = t;
        t = d; d = u2 * d - dd - 4.021475665823961639e-4; dd = t;
        t = d; d = u2 * d - dd - 0.001883191015845400319; dd = t;
        t = d; d = u2 * d - dd + 0.01715948121717183138; dd = t;
        t = d; d = u2 * d - dd + 0.412557857854068671; dd = t;
        return u * d - dd - 0.8715936894945394218;
    }

    /// <summary>The inverse error function on [-1, 1] (±∞ at ±1, NaN outside): Winitzki's closed-form estimate
    /// (relative error about 2e-3), then three Halley steps on erf(x) - y (on erfc for |y| &gt; 0.5, where 1 - |y| is
    /// exact).</summary>
    public static double Erfinv(double y)
    {
        double z = Math.Abs(y);
        if (!(z < 1.0)) return z == 1.0 ? y * double.PositiveInfinity : double.NaN;
        if (z == 0.0) return y;
        double w = Math.Log((1.0 - z) * (1.0 + z));
        const double A = 0.147;
        double b = 2.0 / (Math.PI * A) + 0.5 * w;
        double x = Math.Sqrt(Math.Sqrt(b * b - w / A) - b);
        for (int i = 0; i < 3; i++)
        {
            double f = z <= 0.5 ? Erf(x) - z : (1.0 - z) - Erfc(x);
            double d = TwoOverSqrtPi * Math.Exp(-x * x);
            x -= f / (d + x * f);
        }
        return y < 0 ? -x : x;
    }

    /// <summary>log|Γ(x)| (PyTorch's lgamma): +∞ at 0 and the negative integers.</summary>
    public static double Lgamma(double x)
    {
        if (x >= 0.5 || double.IsNaN(x)) return LgammaPositive(x);
        if (x == double.NegativeInfinity) return double.PositiveInfinity;
        // reflection: Γ(x)Γ(1 - x) = π / sin(πx); |sin(πx)| = |sin(π(x - round x))| keeps the argument small
        double s = Math.Abs(Math.Sin(Math.PI * (x - Math.Round(x))));
        return s == 0.0 ? double.PositiveInfinity : Math.Log(Math.PI / s) - LgammaPositive(1.0 - x);
    }

    /// <summary>log Γ(x) for x ≥ 0.5: Stirling's series from 10 up; below, the recurrence down to [1.5, 2.5) and the
    /// Taylor series of log Γ(2 + z) (coefficients (-1)ᵏ(ζ(k) - 1)/k), so the roots at 1 and 2 lose nothing.</summary>
    static double LgammaPositive(double x)
    {
        if (x >= 10.0)
        {
            if (x == double.PositiveInfinity) return x;
            double r = 1.0 / x, z = r * r;
            double series = r * (1.0 / 12 - z * (1.0 / 360 - z * (1.0 / 1260 - z * (1.0 / 1680 - z * (1.0 / 1188 - z * (691.0 / 360360 - z / 156))))));
            return (x - 0.5) * Math.Log(x) - x + HalfLog2Pi + series;
        }
        double p = 1.0;
        while (x >= 2.5) { x -= 1.0; p *= x; }
        double result;
        if (x >= 1.5) result = LgammaNearTwo(x - 2.0);
        else { double z = x - 1.0; result = LgammaNearTwo(z) - Log1p(z); }
        return p == 1.0 ? result : result + Math.Log(p);
    }

    /// <summary>log Γ(2 + z) for |z| ≤ 1/2 (30 terms, |error| &lt; 1e-18).</summary>
    static double LgammaNearTwo(double z) => z * (0.4227843350984671394 + z * (0.3224670334241132182 + z * (-0.06735230105319809513 + z * (0.02058080842778454788 + z * (-0.007385551028673985266 + z * (0.002890510330741523286 + z * (-0.001192753911703260977 + z * (5.096695247430424223e-4 + z * (-2.231547584535793798e-4 + z * (9.945751278180853371e-5 + z * (-4.49262367381331417e-5 + z * (2.050721277567069155e-5 + z * (-9.439488275268395904e-6 + z * (4.374866789907487804e-6 + z * (-2.039215753801366237e-6 + z * (9.551412130407419833e-7 + z * (-4.492469198764566043e-7 + z * (2.120718480555466587e-7 + z * (-1.004322482396809961e-7 + z * (4.769810169363980566e-8 + z * (-2.271109460894316491e-8 + z * (1.083865921489695409e-8 + z * (-5.183475041970046655e-9 + z * (2.483674543802478317e-9 + z * (-1.192140140586091207e-9 + z * (5.731367241678862013e-10 + z * (-2.759522885124233145e-10 + z * (1.330476437424448948e-10 + z * (-6.422964563838100022e-11 + z * (3.104424774732227276e-11))))))))))))))))))))))))))))));

    /// <summary>The digamma function ψ(x) = Γ'(x)/Γ(x): -∞ at +0 (+∞ at -0), NaN at the negative integers, as in
    /// PyTorch. Reflection below 0, the recurrence up to 10, then the asymptotic series.</summary>
    public static double Digamma(double x)
    {
        if (x == 0.0) return 1.0 / x > 0 ? double.NegativeInfinity : double.PositiveInfinity;
        double result = 0.0;
        if (x < 0.0)
        {
            double f = x - Math.Round(x);
            if (f == 0.0 || x == double.NegativeInfinity) return double.NaN;
            result = -Math.PI / Math.Tan(Math.PI * f); // ψ(x) = ψ(1 - x) - π/tan(πx)
            x = 1.0 - x;
        }
        while (x < 10.0) { result -= 1.0 / x; x += 1.0; } // NaN fails the test and flows through
        if (x == double.PositiveInfinity) return x;
        double r = 1.0 / x, z = r * r;
        double series = z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (1.0 / 132 - z * (691.0 / 32760 - z / 12))))));
        return result + Math.Log(x) - 0.5 * r - series;
    }

    /// <summary>The polygamma function ψ⁽ⁿ⁾(x) for n ≥ 1, (-1)ⁿ⁺¹ n! ζ(n + 1, x): the Hurwitz zeta summed directly up
    /// to x + k ≥ n + 12, then the Euler–Maclaurin tail (8 Bernoulli terms). ±∞ or NaN at the poles 0, -1, ...;
    /// for negative x the direct sum takes about |x| steps.</summary>
    public static double Polygamma(int n, double x)
    {
        int s = n + 1;
        double sum = 0.0, a = x, limit = n + 12.0;
        while (a < limit) { sum += InversePower(a, s); a += 1.0; }
        if (a == double.PositiveInfinity) { }
        else if (!double.IsNaN(a))
        {
            double inv = 1.0 / a, inv2 = inv * inv, powS = InversePower(a, s);
            sum += powS * a / (s - 1) + 0.5 * powS;
            double term = s * powS * inv; // s·a^(-s-1), then ·(s+2j-1)(s+2j)/a² for each further Bernoulli term
            sum += term * (1.0 / 12); term *= (s + 1) * (s + 2) * inv2;
            sum -= term * (1.0 / 720); term *= (s + 3) * (s + 4) * inv2;
            sum += term * (1.0 / 30240); term *= (s + 5) * (s + 6) * inv2;
            sum -= term * (1.0 / 1209600); term *= (s + 7) * (s + 8) * inv2;
            sum += term * (1.0 / 47900160); term *= (s + 9) * (s + 10) * inv2;
            sum -= term * (691.0 / 1307674368000); term *= (s + 11) * (s + 12) * inv2;
            sum += term * (1.0 / 74724249600); term *= (s + 13) * (s + 14) * inv2;
            sum -= term * (3617.0 / 10670622842880000);
        }
        else sum = a;
        double factorial = 1.0;
        for (int k = 2; k <= n; k++) factorial *= k;
        return (n % 2 == 1 ? factorial : -factorial) * sum;
    }

    /// <summary>a^(-s) for a positive integer s, by repeated multiplication (exact sign for negative a).</summary>
    static double InversePower(double a, int s)
    {
        double p = 1.0;
        for (int k = 0; k < s; k++) p *= a;
        return 1.0 / p;
    }

    /// <summary>asinh x, accurate near 0 (through log1p) and for large |x| (no overflow of x²).</summary>
    public static double Asinh(double x)
    {
        double a = Math.Abs(x), r;
        if (a > 268435456.0) r = Math.Log(a) + Ln2;
        else if (a > 2.0) r = Math.Log(2.0 * a + 1.0 / (Math.Sqrt(a * a + 1.0) + a));
        else r = Log1p(a + a * a / (1.0 + Math.Sqrt(1.0 + a * a)));
        return x < 0 ? -r : r;
    }

    /// <summary>acosh x (NaN below 1), accurate near 1 (through log1p) and for large x.</summary>
    public static double Acosh(double x)
    {
        if (!(x >= 1.0)) return double.NaN;
        if (x > 268435456.0) return Math.Log(x) + Ln2;
        if (x > 2.0) return Math.Log(2.0 * x - 1.0 / (x + Math.Sqrt(x * x - 1.0)));
        double t = x - 1.0;
        return Log1p(t + Math.Sqrt(2.0 * t + t * t));
    }

    /// <summary>atanh x = ½·log1p(2x/(1 - x)), accurate near 0; ±∞ at ±1, NaN beyond.</summary>
    public static double Atanh(double x)
    {
        double a = Math.Abs(x);
        double r = 0.5 * Log1p(2.0 * a / (1.0 - a));
        return x < 0 ? -r : r;
    }

    /// <summary>√(a² + b²) without overflow or underflow; ∞ if either is infinite (even with a NaN).</summary>
    public static double Hypot(double a, double b)
    {
        a = Math.Abs(a); b = Math.Abs(b);
        if (a == double.PositiveInfinity || b == double.PositiveInfinity) return double.PositiveInfinity;
        double m = a > b ? a : b, n = a > b ? b : a;
        if (double.IsNaN(m) || double.IsNaN(n)) return double.NaN;
        if (m == 0.0) return 0.0;
        double r = n / m;
        return m * Math.Sqrt(1.0 + r * r);
    }
}
