namespace FunctionalAD;

// Random sampling with tensor parameters (issue 17). Every draw comes from an explicit Generator on the CPU, so a
// seed gives the same numbers on every machine and device; reparameterised samples carry derivatives in their
// parameters, discrete ones have none.
public sealed partial class Tensor
{
    /// <summary>0/1 draws with probabilities <paramref name="probabilities"/> (in [0, 1]), in their dtype and shape
    /// (Float32 for integer input). No derivative (use a relaxation such as Gumbel-softmax to differentiate).</summary>
    /// <exception cref="ArgumentException">a probability lies outside [0, 1].</exception>
    public static Tensor Bernoulli(Tensor probabilities, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(probabilities); ArgumentNullException.ThrowIfNull(generator);
        var p = probabilities.Float("bernoulli").StopGradient();
        var values = p.ToDoubleArray();
        if (values.Any(v => !(v >= 0 && v <= 1)))
            throw new TensorException("bernoulli", $"probabilities must lie in [0, 1] (shape {FunctionalAD.Shape.Format(p.shape)})");
        var draws = new double[values.Length];
        for (int i = 0; i < draws.Length; i++) draws[i] = generator.NextDouble() < values[i] ? 1 : 0;
        return FromArray(draws, p.shape).To(p.DType).ToDevice(p.Device);
    }

    /// <summary>
    /// <paramref name="samples"/> category indices (Int64) per row of non-negative <paramref name="weights"/> [k] or
    /// [n, k] (normalised per row), drawn with or without <paramref name="replacement"/>, as PyTorch's multinomial.
    /// </summary>
    /// <exception cref="ArgumentException">weights are negative, NaN, all zero in a row, not 1-D or 2-D; or more
    /// samples than categories without replacement.</exception>
    public static Tensor Multinomial(Tensor weights, int samples, bool replacement, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(weights); ArgumentNullException.ThrowIfNull(generator);
        if (weights.Rank is < 1 or > 2) throw new ShapeMismatchException("multinomial", $"weights must be [k] or [n, k], got shape {FunctionalAD.Shape.Format(weights.shape)}");
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        int k = weights.shape[^1], rows = weights.Rank == 1 ? 1 : weights.shape[0];
        if (!replacement && samples > k)
            throw new TensorException("multinomial", $"{samples} samples without replacement from {k} categories");
        var w = weights.Float("multinomial").StopGradient().ToDoubleArray();
        var result = new long[rows * samples];
        for (int r = 0; r < rows; r++)
        {
            var row = w.AsSpan(r * k, k).ToArray();
            if (row.Any(v => !(v >= 0) || double.IsInfinity(v)) || row.Sum() <= 0)
                throw new TensorException("multinomial", $"row {r} of the weights must be finite, non-negative and not all zero");
            for (int s = 0; s < samples; s++)
            {
                double total = row.Sum(), u = generator.NextDouble() * total, acc = 0;
                int pick = k - 1;
                for (int c = 0; c < k; c++) { acc += row[c]; if (u < acc && row[c] > 0) { pick = c; break; } }
                while (row[pick] == 0) pick--; // rounding at the end of the row
                result[r * samples + s] = pick;
                if (!replacement) row[pick] = 0;
            }
        }
        var t = FromArray(result, weights.Rank == 1 ? [samples] : [rows, samples]);
        return t.ToDevice(weights.Device);
    }

    /// <summary>A random permutation of 0 .. n-1 (Int64), by Fisher-Yates.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n is negative.</exception>
    public static Tensor Randperm(int n, Generator generator, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentNullException.ThrowIfNull(generator);
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)generator.NextInt64(0, i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        var t = FromArray(p, n);
        return device is { } d ? t.ToDevice(d) : t;
    }

    /// <summary>Normal draws mean + std·ε (ε standard normal), broadcasting the two parameters: reparameterised, so
    /// the result is differentiable in <paramref name="mean"/> and <paramref name="std"/>.</summary>
    /// <exception cref="ShapeMismatchException">mean and std do not broadcast.</exception>
    public static Tensor Normal(Tensor mean, Tensor std, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(mean); ArgumentNullException.ThrowIfNull(std); ArgumentNullException.ThrowIfNull(generator);
        var s = FunctionalAD.Shape.Broadcast("normal", mean.shape, std.shape);
        var dtype = DTypes.Promote(mean.Float("normal").DType, std.Float("normal").DType);
        return mean + std * Randn(s, generator, dtype, mean.Device);
    }

    /// <summary>Uniform draws low + (high - low)·u (u uniform in [0, 1)), broadcasting the bounds: differentiable in
    /// both.</summary>
    /// <exception cref="ShapeMismatchException">low and high do not broadcast.</exception>
    public static Tensor Uniform(Tensor low, Tensor high, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(low); ArgumentNullException.ThrowIfNull(high); ArgumentNullException.ThrowIfNull(generator);
        var s = FunctionalAD.Shape.Broadcast("uniform", low.shape, high.shape);
        var dtype = DTypes.Promote(low.Float("uniform").DType, high.Float("uniform").DType);
        return low + (high - low) * Rand(s, generator, dtype, low.Device);
    }
}
