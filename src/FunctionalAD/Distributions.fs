namespace FunctionalAD

/// Probability distributions with batch shapes as torch.distributions: `Distributions.normal loc scale`, then
/// `sample`, `rsample` (reparameterized: differentiable in the parameters), `logProb`, `entropy`, `mean`, `variance`
/// and `klDivergence p q`. Each constructor returns the Core class of the same name (NormalDistribution, ...; their
/// XML docs give formulas and exceptions), so C# uses the same objects. Draws come from an explicit Generator.
[<RequireQualifiedAccess>]
module Distributions =

    /// N(loc, scale²), parameters broadcasting.
    let normal (loc: Tensor) (scale: Tensor) = NormalDistribution(loc, scale)

    /// Uniform on [low, high).
    let uniform (low: Tensor) (high: Tensor) = UniformDistribution(low, high)

    /// Bernoulli with success probabilities probs.
    let bernoulli (probs: Tensor) = BernoulliDistribution(probs)

    /// Bernoulli with success probabilities sigmoid(logits).
    let bernoulliLogits (logits: Tensor) = BernoulliDistribution.FromLogits logits

    /// Categorical over the last dimension of non-negative weights (normalised).
    let categorical (probs: Tensor) = CategoricalDistribution(probs)

    /// Categorical with probabilities softmax(logits) over the last dimension.
    let categoricalLogits (logits: Tensor) = CategoricalDistribution.FromLogits logits

    /// N(loc, covariance) over the last dimension (loc [..., d], covariance [..., d, d]).
    let multivariateNormal (loc: Tensor) (covariance: Tensor) = MultivariateNormalDistribution.FromCovariance(loc, covariance)

    /// N(loc, L·Lᵀ) from a lower-triangular factor L with a positive diagonal.
    let multivariateNormalTril (loc: Tensor) (scaleTril: Tensor) = MultivariateNormalDistribution.FromScaleTril(loc, scaleTril)

    /// Beta(alpha, beta) on (0, 1).
    let beta (alpha: Tensor) (beta: Tensor) = BetaDistribution(alpha, beta)

    /// Gamma with shape `concentration` and `rate`.
    let gamma (concentration: Tensor) (rate: Tensor) = GammaDistribution(concentration, rate)

    /// Dirichlet over the last dimension of `concentration`.
    let dirichlet (concentration: Tensor) = DirichletDistribution(concentration)

    /// Draws of shape sampleShape @ batch @ event, without derivative.
    let sample (generator: Generator) (sampleShape: int list) (d: #Distribution) = d.Sample(generator, List.toArray sampleShape)

    /// Reparameterized draws (normal, uniform, multivariateNormal): differentiable in the parameters. Throws
    /// NotSupportedException naming the distribution for the others.
    let rsample (generator: Generator) (sampleShape: int list) (d: #Distribution) = d.Rsample(generator, List.toArray sampleShape)

    /// log p(value), of the batch shape (broadcast with value's leading dimensions).
    let logProb (value: Tensor) (d: #Distribution) = d.LogProb value

    /// The entropy of each distribution of the batch.
    let entropy (d: #Distribution) = d.Entropy()

    /// The mean (batch @ event).
    let mean (d: #Distribution) = d.Mean

    /// The variance (batch @ event).
    let variance (d: #Distribution) = d.Variance

    /// KL(p ‖ q) in closed form for two distributions of the same family. Throws NotSupportedException otherwise.
    let klDivergence (p: #Distribution) (q: #Distribution) = Distribution.KlDivergence(p, q)
