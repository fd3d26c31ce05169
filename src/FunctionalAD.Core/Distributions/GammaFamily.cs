namespace FunctionalAD;

/// <summary>The gamma distribution with shape α (concentration) and rate β, density βᵅ xᵅ⁻¹ e^(-βx)/Γ(α)
/// (torch.distributions.Gamma). Samples by Marsaglia and Tsang; no reparameterized sampler.</summary>
public sealed class GammaDistribution : Distribution
{
    /// <summary>Gamma(concentration, rate); the two broadcast to the batch shape.</summary>
    /// <exception cref="TensorException">a parameter is not positive everywhere.</exception>
    /// <exception cref="ShapeMismatchException">the parameters do not broadcast.</exception>
    public GammaDistribution(Tensor concentration, Tensor rate) : base("gamma", Batch("gamma", concentration, rate), [])
    {
        concentration = Positive(concentration, Name, "concentration");
        rate = Positive(rate, Name, "rate");
        var dtype = DTypes.Promote(concentration.DType, rate.DType);
        Concentration = concentration.To(dtype).BroadcastTo(BatchShape);
        Rate = rate.To(dtype).BroadcastTo(BatchShape);
    }

    /// <summary>The shape parameter α.</summary>
    public Tensor Concentration { get; }

    /// <summary>The rate β (1/scale).</summary>
    public Tensor Rate { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Concentration / Rate;

    /// <inheritdoc/>
    public override Tensor Variance => Concentration / Rate.Square();

    /// <summary>Draws (no derivative) of shape sampleShape ++ batch.</summary>
    public override Tensor Sample(Generator generator, params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var shape = ExtendedShape(sampleShape);
        var alpha = Concentration.StopGradient().To(DType.Float64).ToArray<double>();
        var draws = Tensor.FromArray(GammaDraws(alpha, Shape.Numel(sampleShape), generator), shape);
        return (draws.To(Rate.DType).ToDevice(Rate.Device) / Rate.StopGradient());
    }

    /// <summary>α log β + (α - 1) log x - βx - lgamma α.</summary>
    public override Tensor LogProb(Tensor value)
    {
        value = AsFloat(value, Name, "value");
        var a = Concentration;
        return Tensor.Xlogy(a, Rate) + Tensor.Xlogy(a - 1, value) - Rate * value - a.Lgamma();
    }

    /// <summary>α - log β + lgamma α + (1 - α) ψ(α).</summary>
    public override Tensor Entropy()
    {
        var a = Concentration;
        return a - Rate.Log() + a.Lgamma() + (1 - a) * a.Digamma();
    }

    /// <summary>(α₁ - α₂)ψ(α₁) - lgamma α₁ + lgamma α₂ + α₂(log β₁ - log β₂) + α₁(β₂ - β₁)/β₁.</summary>
    internal static Tensor Kl(GammaDistribution p, GammaDistribution q)
    {
        var (a1, b1, a2, b2) = (p.Concentration, p.Rate, q.Concentration, q.Rate);
        return (a1 - a2) * a1.Digamma() - a1.Lgamma() + a2.Lgamma() + a2 * (b1.Log() - b2.Log()) + a1 * (b2 - b1) / b1;
    }
}

/// <summary>The beta distribution on (0, 1) with density x^(α-1)(1-x)^(β-1)/B(α, β) (torch.distributions.Beta).
/// Samples as X/(X + Y) of gamma draws; no reparameterized sampler.</summary>
public sealed class BetaDistribution : Distribution
{
    /// <summary>Beta(α, β); the two broadcast to the batch shape.</summary>
    /// <exception cref="TensorException">a parameter is not positive everywhere.</exception>
    /// <exception cref="ShapeMismatchException">the parameters do not broadcast.</exception>
    public BetaDistribution(Tensor alpha, Tensor beta) : base("beta", Batch("beta", alpha, beta), [])
    {
        alpha = Positive(alpha, Name, "alpha");
        beta = Positive(beta, Name, "beta");
        var dtype = DTypes.Promote(alpha.DType, beta.DType);
        Alpha = alpha.To(dtype).BroadcastTo(BatchShape);
        Beta = beta.To(dtype).BroadcastTo(BatchShape);
    }

    /// <summary>The first shape parameter α (concentration1 in PyTorch).</summary>
    public Tensor Alpha { get; }

    /// <summary>The second shape parameter β (concentration0 in PyTorch).</summary>
    public Tensor Beta { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Alpha / (Alpha + Beta);

    /// <inheritdoc/>
    public override Tensor Variance
    {
        get { var t = Alpha + Beta; return Alpha * Beta / (t.Square() * (t + 1)); }
    }

    /// <summary>Draws (no derivative) of shape sampleShape ++ batch.</summary>
    public override Tensor Sample(Generator generator, params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var shape = ExtendedShape(sampleShape);
        int n = Shape.Numel(sampleShape);
        var a = Alpha.StopGradient().To(DType.Float64).ToArray<double>();
        var b = Beta.StopGradient().To(DType.Float64).ToArray<double>();
        var x = GammaDraws(a, n, generator);
        var y = GammaDraws(b, n, generator);
        var r = new double[x.Length];
        for (int i = 0; i < r.Length; i++) r[i] = x[i] / (x[i] + y[i]);
        return Tensor.FromArray(r, shape).To(Alpha.DType).ToDevice(Alpha.Device);
    }

    /// <summary>(α - 1) log x + (β - 1) log(1 - x) - log B(α, β).</summary>
    public override Tensor LogProb(Tensor value)
    {
        value = AsFloat(value, Name, "value");
        return Tensor.Xlogy(Alpha - 1, value) + Tensor.Xlogy(Beta - 1, 1 - value) - LogBeta(Alpha, Beta);
    }

    /// <summary>log B(α, β) - (α - 1)ψ(α) - (β - 1)ψ(β) + (α + β - 2)ψ(α + β).</summary>
    public override Tensor Entropy()
    {
        var (a, b) = (Alpha, Beta);
        return LogBeta(a, b) - (a - 1) * a.Digamma() - (b - 1) * b.Digamma() + (a + b - 2) * (a + b).Digamma();
    }

    /// <summary>log B(α₂, β₂) - log B(α₁, β₁) + (α₁ - α₂)ψ(α₁) + (β₁ - β₂)ψ(β₁) + (α₂ - α₁ + β₂ - β₁)ψ(α₁ + β₁).</summary>
    internal static Tensor Kl(BetaDistribution p, BetaDistribution q)
    {
        var (a1, b1, a2, b2) = (p.Alpha, p.Beta, q.Alpha, q.Beta);
        return LogBeta(a2, b2) - LogBeta(a1, b1) + (a1 - a2) * a1.Digamma() + (b1 - b2) * b1.Digamma()
            + (a2 - a1 + b2 - b1) * (a1 + b1).Digamma();
    }
}

/// <summary>The Dirichlet distribution on the simplex over the last dimension, with concentrations α [..., k]
/// (torch.distributions.Dirichlet). Samples as normalised gamma draws; no reparameterized sampler.</summary>
public sealed class DirichletDistribution : Distribution
{
    /// <summary>Dirichlet(α), α [..., k] positive.</summary>
    /// <exception cref="TensorException">α is 0-D or not positive everywhere.</exception>
    public DirichletDistribution(Tensor concentration) : base("dirichlet", BatchOf(concentration), [concentration.Shape[^1]])
    {
        Concentration = Positive(concentration, Name, "concentration");
    }

    static int[] BatchOf(Tensor a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rank == 0) throw new TensorException("dirichlet", "concentration must be [..., k], got a 0-D tensor");
        return a.Shape[..^1];
    }

    /// <summary>The concentrations α [..batch, k].</summary>
    public Tensor Concentration { get; }

    Tensor Total => Concentration.Sum([-1], keepDim: true);

    /// <inheritdoc/>
    public override Tensor Mean => Concentration / Total;

    /// <inheritdoc/>
    public override Tensor Variance
    {
        get { var t = Total; return Concentration * (t - Concentration) / (t.Square() * (t + 1)); }
    }

    /// <summary>Points of the simplex (no derivative), of shape sampleShape ++ batch ++ [k].</summary>
    public override Tensor Sample(Generator generator, params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var shape = ExtendedShape(sampleShape);
        var a = Concentration.StopGradient().To(DType.Float64).ToArray<double>();
        var g = Tensor.FromArray(GammaDraws(a, Shape.Numel(sampleShape), generator), shape);
        return (g / g.Sum([-1], keepDim: true)).To(Concentration.DType).ToDevice(Concentration.Device);
    }

    /// <summary>Σ (αᵢ - 1) log xᵢ + lgamma(Σ α) - Σ lgamma αᵢ.</summary>
    /// <exception cref="ShapeMismatchException">value's last dimension is not k.</exception>
    public override Tensor LogProb(Tensor value)
    {
        value = AsFloat(value, Name, "value");
        int k = Concentration.Shape[^1];
        if (value.Rank == 0 || value.Shape[^1] != k) throw new ShapeMismatchException(Name, $"values must be [..., {k}], got {Shape.Format(value.Shape)}");
        var a = Concentration;
        return Tensor.Xlogy(a - 1, value).Sum([-1]) + a.Sum([-1]).Lgamma() - a.Lgamma().Sum([-1]);
    }

    /// <summary>Σ lgamma αᵢ - lgamma α₀ - (k - α₀)ψ(α₀) - Σ (αᵢ - 1)ψ(αᵢ), α₀ = Σ αᵢ.</summary>
    public override Tensor Entropy()
    {
        var a = Concentration;
        int k = a.Shape[^1];
        var a0 = a.Sum([-1]);
        return a.Lgamma().Sum([-1]) - a0.Lgamma() - (k - a0) * a0.Digamma() - ((a - 1) * a.Digamma()).Sum([-1]);
    }

    /// <summary>lgamma α₀ - Σ lgamma αᵢ - lgamma β₀ + Σ lgamma βᵢ + Σ (αᵢ - βᵢ)(ψ(αᵢ) - ψ(α₀)).</summary>
    internal static Tensor Kl(DirichletDistribution p, DirichletDistribution q)
    {
        var (a, b) = (p.Concentration, q.Concentration);
        var a0 = a.Sum([-1], keepDim: true);
        return a0.Squeeze(-1).Lgamma() - a.Lgamma().Sum([-1]) - b.Sum([-1]).Lgamma() + b.Lgamma().Sum([-1])
            + ((a - b) * (a.Digamma() - a0.Digamma())).Sum([-1]);
    }
}
