namespace FunctionalAD;

/// <summary>The multivariate normal N(loc, Σ) over the last dimension (torch.distributions.MultivariateNormal), held
/// by the Cholesky factor L of Σ = L·Lᵀ: sampling is loc + L·ε and densities use triangular solves with L.</summary>
public sealed class MultivariateNormalDistribution : Distribution
{
    MultivariateNormalDistribution(Tensor loc, Tensor scaleTril, int[] batch) : base("multivariateNormal", batch, [loc.Shape[^1]])
    {
        int d = loc.Shape[^1];
        var dtype = DTypes.Promote(loc.DType, scaleTril.DType);
        Loc = loc.To(dtype).BroadcastTo([.. batch, d]);
        ScaleTril = scaleTril.To(dtype).BroadcastTo([.. batch, d, d]);
    }

    /// <summary>N(loc, covariance): loc [..., d], covariance [..., d, d] symmetric positive definite; batch dimensions
    /// broadcast. The covariance is factored by <see cref="Linalg.Cholesky"/> (derivatives flow through it).</summary>
    /// <exception cref="ShapeMismatchException">loc is 0-D, covariance is not [..., d, d], or the batches do not broadcast.</exception>
    /// <exception cref="NotPositiveDefiniteException">the covariance is not positive definite.</exception>
    public static MultivariateNormalDistribution FromCovariance(Tensor loc, Tensor covariance)
    {
        var batch = Check(loc, covariance, "covariance");
        return new MultivariateNormalDistribution(AsFloat(loc, "multivariateNormal", "loc"), Linalg.Cholesky(AsFloat(covariance, "multivariateNormal", "covariance")), batch);
    }

    /// <summary>N(loc, L·Lᵀ) from a lower-triangular factor with a positive diagonal (only the lower triangle is read).</summary>
    /// <exception cref="ShapeMismatchException">as <see cref="FromCovariance"/>.</exception>
    /// <exception cref="TensorException">the diagonal of scaleTril is not positive.</exception>
    public static MultivariateNormalDistribution FromScaleTril(Tensor loc, Tensor scaleTril)
    {
        var batch = Check(loc, scaleTril, "scaleTril");
        Positive(Linalg.Diagonal(scaleTril.StopGradient()), "multivariateNormal", "the diagonal of scaleTril");
        var lower = AsFloat(scaleTril, "multivariateNormal", "scaleTril");
        int d = lower.Shape[^1];
        var mask = new bool[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j <= i; j++) mask[i * d + j] = true;
        lower = Tensor.Where(Tensor.FromArray(mask, d, d).ToDevice(lower.Device), lower, Tensor.ZerosLike(lower));
        return new MultivariateNormalDistribution(AsFloat(loc, "multivariateNormal", "loc"), lower, batch);
    }

    static int[] Check(Tensor loc, Tensor m, string name)
    {
        ArgumentNullException.ThrowIfNull(loc); ArgumentNullException.ThrowIfNull(m);
        if (loc.Rank == 0) throw new ShapeMismatchException("multivariateNormal", "loc must be [..., d], got a 0-D tensor");
        int d = loc.Shape[^1];
        if (m.Rank < 2 || m.Shape[^1] != d || m.Shape[^2] != d)
            throw new ShapeMismatchException("multivariateNormal", $"{name} must be [..., {d}, {d}] for loc of shape {Shape.Format(loc.Shape)}, got {Shape.Format(m.Shape)}");
        return Shape.Broadcast("multivariateNormal", loc.Shape[..^1], m.Shape[..^2]);
    }

    /// <summary>The mean [..batch, d].</summary>
    public Tensor Loc { get; }

    /// <summary>The lower Cholesky factor L of the covariance [..batch, d, d].</summary>
    public Tensor ScaleTril { get; }

    /// <summary>The covariance L·Lᵀ.</summary>
    public Tensor Covariance => ScaleTril.MatMul(ScaleTril.Transpose(-1, -2));

    int Dim => Loc.Shape[^1];

    /// <inheritdoc/>
    public override Tensor Mean => Loc;

    /// <summary>The diagonal of the covariance, Σⱼ Lᵢⱼ².</summary>
    public override Tensor Variance => ScaleTril.Square().Sum([-1]);

    /// <inheritdoc/>
    public override bool HasRsample => true;

    /// <summary>loc + L·ε with ε standard normal [..sample, ..batch, d]: differentiable in loc and L (and the covariance).</summary>
    public override Tensor Rsample(Generator generator, params int[] sampleShape)
    {
        var eps = Tensor.Randn(ExtendedShape(sampleShape), generator, Loc.DType, Loc.Device);
        return Loc + ScaleTril.MatMul(eps.Unsqueeze(-1)).Squeeze(-1);
    }

    /// <summary>-½(d log 2π + ‖L⁻¹(x - μ)‖²) - Σ log Lᵢᵢ.</summary>
    /// <exception cref="ShapeMismatchException">value's last dimension is not d, or its batch does not broadcast.</exception>
    public override Tensor LogProb(Tensor value)
    {
        value = AsFloat(value, Name, "value");
        if (value.Rank == 0 || value.Shape[^1] != Dim)
            throw new ShapeMismatchException(Name, $"values must be [..., {Dim}], got {Shape.Format(value.Shape)}");
        var diff = value - Loc;
        var z = Linalg.SolveTriangular(ScaleTril, diff.Unsqueeze(-1), upper: false).Squeeze(-1);
        return -0.5 * (Dim * Log2Pi + z.Square().Sum([-1])) - HalfLogDet(this);
    }

    /// <summary>½ d (1 + log 2π) + Σ log Lᵢᵢ.</summary>
    public override Tensor Entropy() => HalfLogDet(this) + 0.5 * Dim * (1 + Log2Pi);

    static Tensor HalfLogDet(MultivariateNormalDistribution m) => Linalg.Diagonal(m.ScaleTril).Log().Sum([-1]);

    /// <summary>½(tr(Σ₂⁻¹Σ₁) + (μ₂ - μ₁)ᵀΣ₂⁻¹(μ₂ - μ₁) - d + log|Σ₂| - log|Σ₁|), with ‖L₂⁻¹L₁‖²_F for the trace.</summary>
    /// <exception cref="ShapeMismatchException">the dimensions differ.</exception>
    internal static Tensor Kl(MultivariateNormalDistribution p, MultivariateNormalDistribution q)
    {
        if (p.Dim != q.Dim) throw new ShapeMismatchException("klDivergence", $"multivariate normals of dimensions {p.Dim} and {q.Dim}");
        var m = Linalg.SolveTriangular(q.ScaleTril, p.ScaleTril, upper: false);
        var z = Linalg.SolveTriangular(q.ScaleTril, (q.Loc - p.Loc).Unsqueeze(-1), upper: false).Squeeze(-1);
        return 0.5 * (m.Square().Sum([-2, -1]) + z.Square().Sum([-1]) - p.Dim) + HalfLogDet(q) - HalfLogDet(p);
    }
}
