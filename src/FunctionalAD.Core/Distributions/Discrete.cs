namespace FunctionalAD;

/// <summary>The Bernoulli distribution on {0, 1} with success probability p, held as logits log(p/(1-p))
/// (torch.distributions.Bernoulli).</summary>
public sealed class BernoulliDistribution : Distribution
{
    BernoulliDistribution(Tensor probs, Tensor logits) : base("bernoulli", probs.Shape, [])
    {
        Probs = probs;
        Logits = logits;
    }

    /// <summary>Bernoulli(p) from probabilities in [0, 1] (clamped away from 0 and 1 by the dtype's epsilon for the logits,
    /// as PyTorch's).</summary>
    /// <exception cref="TensorException">a probability lies outside [0, 1].</exception>
    public BernoulliDistribution(Tensor probs) : this(CheckedProbs(probs), LogitsOf(AsFloat(probs, "bernoulli", "probs"))) { }

    /// <summary>Bernoulli(σ(logits)).</summary>
    public static BernoulliDistribution FromLogits(Tensor logits)
    {
        logits = AsFloat(logits, "bernoulli", "logits");
        return new BernoulliDistribution(logits.Sigmoid(), logits);
    }

    static Tensor CheckedProbs(Tensor probs)
    {
        probs = AsFloat(probs, "bernoulli", "probs");
        var p = probs.StopGradient();
        if (p.Ge(0.0).LogicalAnd(p.Le(1.0)).All().Item() == 0) throw new TensorException("bernoulli", "probs must lie in [0, 1]");
        return probs;
    }

    static Tensor LogitsOf(Tensor p)
    {
        double eps = p.DType == DType.Float32 ? 1.1920928955078125e-07 : 2.220446049250313e-16;
        var c = p.Clamp(eps, 1 - eps);
        return c.Log() - (-c).Log1p();
    }

    /// <summary>The success probabilities.</summary>
    public Tensor Probs { get; }

    /// <summary>The log-odds log(p/(1-p)).</summary>
    public Tensor Logits { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Probs;

    /// <inheritdoc/>
    public override Tensor Variance => Probs * (1 - Probs);

    /// <summary>0/1 draws (in the parameters' dtype); no derivative.</summary>
    public override Tensor Sample(Generator generator, params int[] sampleShape) =>
        Tensor.Bernoulli(Probs.StopGradient().BroadcastTo(ExtendedShape(sampleShape)), generator);

    /// <summary>x·logits - softplus(logits) (the negative binary cross-entropy with logits).</summary>
    public override Tensor LogProb(Tensor value) => AsFloat(value, Name, "value") * Logits - Logits.Softplus();

    /// <summary>softplus(logits) - p·logits.</summary>
    public override Tensor Entropy() => Logits.Softplus() - Probs * Logits;

    /// <summary>p₁(log p₁ - log p₂) + (1 - p₁)(log(1 - p₁) - log(1 - p₂)), with 0·log 0 = 0.</summary>
    internal static Tensor Kl(BernoulliDistribution p, BernoulliDistribution q)
    {
        var p1 = p.Probs;
        var logQ = -(-q.Logits).Softplus();
        var log1mQ = -q.Logits.Softplus();
        return Tensor.Xlogy(p1, p1) + Tensor.Xlogy(1 - p1, 1 - p1) - p1 * logQ - (1 - p1) * log1mQ;
    }
}

/// <summary>The categorical distribution over k classes, the last dimension of its parameters
/// (torch.distributions.Categorical): samples and values are Int64 class indices of the batch shape.</summary>
public sealed class CategoricalDistribution : Distribution
{
    CategoricalDistribution(Tensor probs, Tensor logits) : base("categorical", logits.Shape[..^1], [])
    {
        Probs = probs;
        Logits = logits;
    }

    CategoricalDistribution(Tensor logits, bool _) : this(logits.Softmax(-1), logits - logits.LogSumExp(-1, keepDim: true)) { }

    /// <summary>Categorical over the last dimension of non-negative weights [..., k] (normalised to sum to 1); the
    /// logits are the logs of the probabilities clamped to [ε, 1 - ε] (ε the dtype's epsilon), as PyTorch's.</summary>
    /// <exception cref="TensorException">probs is 0-D, or negative or all zero somewhere.</exception>
    public CategoricalDistribution(Tensor probs) : this(Normalised(probs), true, 0) { }

    CategoricalDistribution(Tensor probs, bool _, int __) : this(probs, ClampedLog(probs)) { }

    static Tensor ClampedLog(Tensor p)
    {
        double eps = p.DType == DType.Float32 ? 1.1920928955078125e-07 : 2.220446049250313e-16;
        return p.Clamp(eps, 1 - eps).Log();
    }

    /// <summary>Categorical with probabilities softmax(logits) over the last dimension.</summary>
    /// <exception cref="TensorException">logits is 0-D.</exception>
    public static CategoricalDistribution FromLogits(Tensor logits)
    {
        logits = AsFloat(logits, "categorical", "logits");
        if (logits.Rank == 0) throw new TensorException("categorical", "logits must have at least one dimension (the classes), got a 0-D tensor");
        return new CategoricalDistribution(logits, true);
    }

    static Tensor Normalised(Tensor probs)
    {
        probs = AsFloat(probs, "categorical", "probs");
        if (probs.Rank == 0) throw new TensorException("categorical", "probs must have at least one dimension (the classes), got a 0-D tensor");
        var p = probs.StopGradient();
        if (p.Ge(0.0).All().Item() == 0 || p.Sum([-1]).Gt(0.0).All().Item() == 0)
            throw new TensorException("categorical", "probs must be non-negative and not all zero along the last dimension");
        return probs / probs.Sum([-1], keepDim: true);
    }

    /// <summary>The normalised log-probabilities [..., k].</summary>
    public Tensor Logits { get; }

    /// <summary>The probabilities [..., k].</summary>
    public Tensor Probs { get; }

    /// <summary>The number of classes k.</summary>
    public int Classes => Logits.Shape[^1];

    /// <summary>Not defined for class labels.</summary>
    /// <exception cref="NotSupportedException">always.</exception>
    public override Tensor Mean => throw new NotSupportedException("categorical: the mean of class labels is not defined (use Probs)");

    /// <summary>Not defined for class labels.</summary>
    /// <exception cref="NotSupportedException">always.</exception>
    public override Tensor Variance => throw new NotSupportedException("categorical: the variance of class labels is not defined (use Probs)");

    /// <summary>Class indices (Int64) of shape sampleShape ++ batch; no derivative.</summary>
    public override Tensor Sample(Generator generator, params int[] sampleShape)
    {
        var shape = ExtendedShape(sampleShape);
        int n = Shape.Numel(sampleShape), rows = Shape.Numel(BatchShape);
        if (n == 0 || rows == 0) return Tensor.Zeros(shape, DType.Int64, Logits.Device);
        var draws = Tensor.Multinomial(Probs.StopGradient().Reshape(rows, Classes), n, true, generator);
        return draws.Transpose(0, 1).Reshape(shape);
    }

    /// <summary>The log-probability of Int32/Int64 class indices (broadcast with the batch shape).</summary>
    /// <exception cref="DTypeMismatchException">value is not an integer tensor.</exception>
    /// <exception cref="TensorException">a class index is out of range.</exception>
    public override Tensor LogProb(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.DType is not (DType.Int32 or DType.Int64)) throw new DTypeMismatchException(Name, $"values must be Int32/Int64 class indices, got {value.DType}");
        var s = Shape.Broadcast(Name, value.Shape, BatchShape);
        return Logits.BroadcastTo([.. s, Classes]).Gather(-1, value.To(DType.Int64).BroadcastTo(s).Unsqueeze(-1)).Squeeze(-1);
    }

    /// <summary>-Σ p log p over the classes (0·log 0 = 0: the logits are clamped to the lowest finite value,
    /// as PyTorch's, so a class of probability 0 gives no NaN, in the value or its derivative).</summary>
    public override Tensor Entropy() => -(Probs * Finite(Logits)).Sum([-1]);

    /// <summary>The logits with -∞ replaced by the dtype's lowest finite value.</summary>
    static Tensor Finite(Tensor logits) =>
        logits.Clamp(logits.DType == DType.Float32 ? float.MinValue : double.MinValue, double.PositiveInfinity);

    /// <summary>Σ p₁ (log p₁ - log p₂) over the classes: 0 where p₁ = 0, +∞ where p₁ &gt; 0 = p₂.</summary>
    internal static Tensor Kl(CategoricalDistribution p, CategoricalDistribution q)
    {
        var terms = p.Probs * (Finite(p.Logits) - Finite(q.Logits));
        var infinite = Tensor.Full(terms.Shape, double.PositiveInfinity, terms.DType, terms.Device);
        terms = Tensor.Where(q.Probs.Eq(0.0), infinite, terms);
        return Tensor.Where(p.Probs.Eq(0.0), Tensor.ZerosLike(terms), terms).Sum([-1]);
    }
}
