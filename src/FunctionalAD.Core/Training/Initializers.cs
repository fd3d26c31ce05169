namespace FunctionalAD;

/// <summary>
/// Parameter initialisation, written once: the C# layers use these directly and they draw exactly what the F#
/// <c>Init</c> module draws (the same formulas on the same generators), so a layer seeded alike starts alike in
/// both languages.
/// </summary>
public static class Initializers
{
    /// <summary>The generator of the parameter at <paramref name="path"/> ("w", "out_proj.weight") under
    /// <paramref name="seed"/>: the seed mixed with the path's FNV-1a hash, so adding a parameter does not change
    /// the others' values (the F# <c>model { }</c> uses the same).</summary>
    public static Generator ForPath(ulong seed, string path)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in path) h = (h ^ c) * 1099511628211UL;
        return new Generator(seed ^ h);
    }

    /// <summary>Uniform in [lo, hi) (Float32).</summary>
    public static Tensor Uniform(int[] shape, double lo, double hi, Generator generator) =>
        Tensor.Rand(shape, generator) * (hi - lo) + lo;

    /// <summary>Normal(0, std²) (Float32).</summary>
    public static Tensor Normal(int[] shape, double std, Generator generator) => Tensor.Randn(shape, generator) * std;

    /// <summary>He/Kaiming normal for ReLU layers: std = √(2 / fanIn) (the F# <c>Init.kaiming</c> of <c>nn.linear</c>).</summary>
    public static Tensor KaimingNormal(int[] shape, int fanIn, Generator generator) =>
        Normal(shape, Math.Sqrt(2.0 / Math.Max(1, fanIn)), generator);

    /// <summary>U(±1/√fanIn): PyTorch's kaiming_uniform(a = √5) for conv and linear weights, and their biases' init.</summary>
    public static Tensor FanInUniform(int[] shape, int fanIn, Generator generator)
    {
        var bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
        return Uniform(shape, -bound, bound, generator);
    }

    /// <summary>Glorot/Xavier uniform: U(±√(6 / (fanIn + fanOut))).</summary>
    public static Tensor XavierUniform(int[] shape, int fanIn, int fanOut, Generator generator)
    {
        var limit = Math.Sqrt(6.0 / Math.Max(1, fanIn + fanOut));
        return Uniform(shape, -limit, limit, generator);
    }
}
