namespace FunctionalAD;

/// <summary>
/// A probability distribution with a batch of parameters, as torch.distributions: a sample has shape
/// sampleShape ++ <see cref="BatchShape"/> ++ <see cref="EventShape"/>; <see cref="LogProb"/> of a value of shape
/// [..., batch, event] gives [..., batch]. Parameters are tensors, so log-probabilities, entropies, KL divergences and
/// reparameterized samples are differentiable in them at every order. Draws come from an explicit
/// <see cref="Generator"/> on the CPU, so a seed gives the same numbers on every machine and device.
/// </summary>
public abstract class Distribution
{
    readonly int[] batchShape, eventShape;

    /// <summary>Sets the name (used in messages) and the shapes.</summary>
    protected Distribution(string name, int[] batchShape, int[] eventShape)
    {
        Name = name;
        this.batchShape = batchShape;
        this.eventShape = eventShape;
    }

    /// <summary>The distribution's name, e.g. "normal".</summary>
    public string Name { get; }

    /// <summary>The shape of the batch of independent distributions (the broadcast parameters' shape, less the event).</summary>
    public int[] BatchShape => (int[])batchShape.Clone();

    /// <summary>The shape of one draw of one distribution ([] for scalar distributions, [d] for a d-variate one).</summary>
    public int[] EventShape => (int[])eventShape.Clone();

    /// <summary>The mean, of shape batch ++ event.</summary>
    /// <exception cref="NotSupportedException">the distribution has no mean (categorical).</exception>
    public abstract Tensor Mean { get; }

    /// <summary>The variance of each coordinate, of shape batch ++ event.</summary>
    /// <exception cref="NotSupportedException">the distribution has no variance (categorical).</exception>
    public abstract Tensor Variance { get; }

    /// <summary>The standard deviation, √<see cref="Variance"/>.</summary>
    public Tensor Stddev => Variance.Sqrt();

    /// <summary>Whether <see cref="Rsample"/> is available (a reparameterized sample, differentiable in the parameters).</summary>
    public virtual bool HasRsample => false;

    /// <summary>Draws of shape sampleShape ++ batch ++ event; they carry no derivative.</summary>
    public virtual Tensor Sample(Generator generator, params int[] sampleShape) => Rsample(generator, sampleShape).StopGradient();

    /// <summary>Reparameterized draws of shape sampleShape ++ batch ++ event: a differentiable function of the
    /// parameters and of noise from <paramref name="generator"/> (the pathwise gradient of a VAE).</summary>
    /// <exception cref="NotSupportedException">the distribution has no reparameterized sampler here.</exception>
    public virtual Tensor Rsample(Generator generator, params int[] sampleShape) =>
        throw new NotSupportedException($"{Name}: rsample is not supported (no reparameterized sampler for this distribution; use sample with a score-function estimator)");

    /// <summary>log p(value), of shape broadcast(value's shape less the event, batch).</summary>
    /// <exception cref="ShapeMismatchException">value does not broadcast with batch ++ event.</exception>
    public abstract Tensor LogProb(Tensor value);

    /// <summary>The (differential) entropy of each distribution of the batch, of shape batch.</summary>
    public abstract Tensor Entropy();

    /// <summary>sampleShape ++ batch ++ event.</summary>
    protected int[] ExtendedShape(int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        foreach (var s in sampleShape)
            if (s < 0) throw new TensorException(Name, $"sample shape {Shape.Format(sampleShape)} has a negative size");
        return [.. sampleShape, .. batchShape, .. eventShape];
    }

    /// <summary>
    /// KL(p ‖ q) = E_p[log p - log q] in closed form, for pairs of the same family: normal, uniform, bernoulli,
    /// categorical, multivariate normal, beta, gamma, dirichlet. Shape: the broadcast of the two batch shapes.
    /// </summary>
    /// <exception cref="NotSupportedException">no closed form is known here for the pair (the message names both).</exception>
    public static Tensor KlDivergence(Distribution p, Distribution q)
    {
        ArgumentNullException.ThrowIfNull(p); ArgumentNullException.ThrowIfNull(q);
        return (p, q) switch
        {
            (NormalDistribution a, NormalDistribution b) => NormalDistribution.Kl(a, b),
            (UniformDistribution a, UniformDistribution b) => UniformDistribution.Kl(a, b),
            (BernoulliDistribution a, BernoulliDistribution b) => BernoulliDistribution.Kl(a, b),
            (CategoricalDistribution a, CategoricalDistribution b) => CategoricalDistribution.Kl(a, b),
            (MultivariateNormalDistribution a, MultivariateNormalDistribution b) => MultivariateNormalDistribution.Kl(a, b),
            (GammaDistribution a, GammaDistribution b) => GammaDistribution.Kl(a, b),
            (BetaDistribution a, BetaDistribution b) => BetaDistribution.Kl(a, b),
            (DirichletDistribution a, DirichletDistribution b) => DirichletDistribution.Kl(a, b),
            _ => throw new NotSupportedException($"klDivergence: no closed form for KL({p.Name} ‖ {q.Name}); estimate it by Monte Carlo from samples of {p.Name}"),
        };
    }

    /// <summary>The parameter as a floating-point tensor (integers become Float32).</summary>
    internal static Tensor AsFloat(Tensor t, string dist, string param)
    {
        ArgumentNullException.ThrowIfNull(t, param);
        if (t.DType == DType.Bool) throw new DTypeMismatchException(dist, $"{param} must be a number tensor, got Bool");
        return t.DType.IsFloatingPoint() ? t : t.To(DType.Float32);
    }

    /// <summary>Refuses a parameter that is not positive everywhere (NaN included), naming it.</summary>
    internal static Tensor Positive(Tensor t, string dist, string param)
    {
        t = AsFloat(t, dist, param);
        if (t.StopGradient().Gt(0.0).All().Item() == 0)
            throw new TensorException(dist, $"{param} must be positive everywhere (shape {Shape.Format(t.Shape)})");
        return t;
    }

    /// <summary>The batch shape two parameter tensors broadcast to.</summary>
    internal static int[] Batch(string dist, Tensor a, Tensor b) => Shape.Broadcast(dist, a.Shape, b.Shape);

    /// <summary>log B(a, b) = lgamma a + lgamma b - lgamma(a + b).</summary>
    internal static Tensor LogBeta(Tensor a, Tensor b) => a.Lgamma() + b.Lgamma() - (a + b).Lgamma();

    internal const double Log2Pi = 1.8378770664093454836;

    /// <summary>Γ(α, 1) draws by Marsaglia and Tsang (2000), boosted by U^(1/α) for α &lt; 1, in Float64 on the host,
    /// one per element of <paramref name="alpha"/> repeated <paramref name="repeats"/> times (row-major, alpha fastest).</summary>
    internal static double[] GammaDraws(double[] alpha, int repeats, Generator generator)
    {
        var r = new double[alpha.Length * repeats];
        for (int s = 0, k = 0; s < repeats; s++)
            for (int i = 0; i < alpha.Length; i++) r[k++] = GammaDraw(alpha[i], generator);
        return r;
    }

    static double GammaDraw(double alpha, Generator g)
    {
        double boost = 1;
        if (alpha < 1)
        {
            double u;
            do u = g.NextDouble(); while (u <= 0);
            boost = Math.Pow(u, 1 / alpha);
            alpha += 1;
        }
        double d = alpha - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = g.NextNormal(), v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = g.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
                return d * v * boost;
        }
    }
}
