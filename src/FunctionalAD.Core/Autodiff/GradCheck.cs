namespace FunctionalAD;

/// <summary>The outcome of <see cref="GradCheck.Check"/>.</summary>
/// <param name="Passed">True when every element agrees within the tolerance.</param>
/// <param name="WorstIndex">Flat index of the element with the largest disagreement.</param>
/// <param name="Analytic">The analytic derivative at that element.</param>
/// <param name="Numeric">The central finite difference at that element.</param>
/// <param name="Error">|analytic - numeric| / max(1, |numeric|) at that element.</param>
public sealed record GradCheckResult(bool Passed, int WorstIndex, double Analytic, double Numeric, double Error)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"gradcheck {(Passed ? "passed" : "FAILED")}: worst element {WorstIndex}: analytic {Analytic:G10}, numeric {Numeric:G10}, error {Error:G3}";
}

/// <summary>Compares analytic gradients with central finite differences in Float64.</summary>
public static class GradCheck
{
    /// <summary>Checks the gradient of scalar-valued f at x: computes both in Float64 and reports the worst element.</summary>
    /// <param name="f">The function (must return one element).</param>
    /// <param name="x">The point (converted to Float64).</param>
    /// <param name="eps">Finite-difference step.</param>
    /// <param name="tolerance">Largest accepted |analytic - numeric| / max(1, |numeric|).</param>
    /// <exception cref="ShapeMismatchException">f does not return one element.</exception>
    public static GradCheckResult Check(Func<Tensor, Tensor> f, Tensor x, double eps = 1e-6, double tolerance = 1e-5)
    {
        var x64 = x.StopGradient().To(DType.Float64);
        var analytic = Transform.Grad(f, x64).ToDoubleArray();
        var values = x64.ToArray<double>();
        var shape = x64.Shape;
        int worst = 0; double worstErr = -1, worstNum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            var plus = (double[])values.Clone(); plus[i] += eps;
            var minus = (double[])values.Clone(); minus[i] -= eps;
            double num = (f(Tensor.FromArray(plus, shape)).Item() - f(Tensor.FromArray(minus, shape)).Item()) / (2 * eps);
            double err = Math.Abs(analytic[i] - num) / Math.Max(1, Math.Abs(num));
            if (double.IsNaN(err)) err = double.PositiveInfinity;
            if (err > worstErr) { worstErr = err; worst = i; worstNum = num; }
        }
        if (values.Length == 0) return new GradCheckResult(true, -1, 0, 0, 0);
        return new GradCheckResult(worstErr <= tolerance, worst, analytic[worst], worstNum, worstErr);
    }
}
