namespace FunctionalAD;

/// <summary>The normal distribution N(loc, scale²) with broadcasting parameters (torch.distributions.Normal).</summary>
public sealed class NormalDistribution : Distribution
{
    /// <summary>N(loc, scale²); loc and scale broadcast to the batch shape.</summary>
    /// <exception cref="TensorException">scale is not positive everywhere.</exception>
    /// <exception cref="ShapeMismatchException">loc and scale do not broadcast.</exception>
    public NormalDistribution(Tensor loc, Tensor scale) : this(AsFloat(loc, "normal", "loc"), Positive(scale, "normal", "scale"), 0) { }

    NormalDistribution(Tensor loc, Tensor scale, int _) : base("normal", Batch("normal", loc, scale), [])
    {
        var dtype = DTypes.Promote(loc.DType, scale.DType);
        Loc = loc.To(dtype).BroadcastTo(BatchShape);
        Scale = scale.To(dtype).BroadcastTo(BatchShape);
    }

    /// <summary>The mean, broadcast to the batch shape.</summary>
    public Tensor Loc { get; }

    /// <summary>The standard deviation, broadcast to the batch shape.</summary>
    public Tensor Scale { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Loc;

    /// <inheritdoc/>
    public override Tensor Variance => Scale.Square();

    /// <inheritdoc/>
    public override bool HasRsample => true;

    /// <summary>loc + scale·ε with ε standard normal: differentiable in loc and scale.</summary>
    public override Tensor Rsample(Generator generator, params int[] sampleShape) =>
        Loc + Scale * Tensor.Randn(ExtendedShape(sampleShape), generator, Loc.DType, Loc.Device);

    /// <summary>-(x - μ)²/(2σ²) - log σ - ½ log 2π.</summary>
    public override Tensor LogProb(Tensor value)
    {
        var z = (AsFloat(value, Name, "value") - Loc) / Scale;
        return -0.5 * z.Square() - Scale.Log() - 0.5 * Log2Pi;
    }

    /// <summary>½ + ½ log 2π + log σ.</summary>
    public override Tensor Entropy() => Scale.Log() + 0.5 * (1 + Log2Pi);

    /// <summary>log(σ₂/σ₁) + (σ₁² + (μ₁ - μ₂)²)/(2σ₂²) - ½.</summary>
    internal static Tensor Kl(NormalDistribution p, NormalDistribution q)
    {
        var ratio = (p.Scale / q.Scale).Square();
        var t = ((p.Loc - q.Loc) / q.Scale).Square();
        return 0.5 * (ratio + t - 1 - ratio.Log());
    }
}

/// <summary>The continuous uniform distribution on [low, high) (torch.distributions.Uniform).</summary>
public sealed class UniformDistribution : Distribution
{
    /// <summary>Uniform on [low, high); the bounds broadcast to the batch shape.</summary>
    /// <exception cref="TensorException">low &lt; high fails somewhere.</exception>
    /// <exception cref="ShapeMismatchException">low and high do not broadcast.</exception>
    public UniformDistribution(Tensor low, Tensor high) : base("uniform", Batch("uniform", low, high), [])
    {
        low = AsFloat(low, Name, "low"); high = AsFloat(high, Name, "high");
        if (high.StopGradient().Gt(low.StopGradient()).All().Item() == 0)
            throw new TensorException(Name, "low must be less than high everywhere");
        var dtype = DTypes.Promote(low.DType, high.DType);
        Low = low.To(dtype).BroadcastTo(BatchShape);
        High = high.To(dtype).BroadcastTo(BatchShape);
    }

    /// <summary>The lower bound (inclusive), broadcast to the batch shape.</summary>
    public Tensor Low { get; }

    /// <summary>The upper bound (exclusive), broadcast to the batch shape.</summary>
    public Tensor High { get; }

    /// <inheritdoc/>
    public override Tensor Mean => (Low + High) * 0.5;

    /// <inheritdoc/>
    public override Tensor Variance => (High - Low).Square() / 12.0;

    /// <inheritdoc/>
    public override bool HasRsample => true;

    /// <summary>low + (high - low)·u with u uniform in [0, 1): differentiable in both bounds.</summary>
    public override Tensor Rsample(Generator generator, params int[] sampleShape) =>
        Low + (High - Low) * Tensor.Rand(ExtendedShape(sampleShape), generator, Low.DType, Low.Device);

    /// <summary>-log(high - low) inside [low, high), -∞ outside.</summary>
    public override Tensor LogProb(Tensor value)
    {
        value = AsFloat(value, Name, "value");
        var inside = value.Ge(Low).LogicalAnd(value.Lt(High));
        var density = -(High - Low).Log();
        var shape = Shape.Broadcast(Name, inside.Shape, density.Shape);
        return Tensor.Where(inside, density, Tensor.Full(shape, double.NegativeInfinity, density.DType, density.Device));
    }

    /// <summary>log(high - low).</summary>
    public override Tensor Entropy() => (High - Low).Log();

    /// <summary>log((h₂ - l₂)/(h₁ - l₁)) when [l₁, h₁] ⊆ [l₂, h₂], +∞ otherwise.</summary>
    internal static Tensor Kl(UniformDistribution p, UniformDistribution q)
    {
        var kl = ((q.High - q.Low) / (p.High - p.Low)).Log();
        var outside = q.Low.Gt(p.Low).LogicalOr(q.High.Lt(p.High));
        return Tensor.Where(outside, Tensor.Full(Shape.Broadcast("klDivergence", outside.Shape, kl.Shape), double.PositiveInfinity, kl.DType, kl.Device), kl);
    }
}
