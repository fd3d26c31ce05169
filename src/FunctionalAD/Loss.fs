namespace FunctionalAD

/// How a loss combines its per-element (or per-sample) values.
type Reduction =
    /// The average (the default).
    | Mean
    /// The sum.
    | Sum
    /// No reduction: one value per element / sample.
    | NoReduction

/// The losses' math, written once in FunctionalAD.Core (C#'s `Loss` class); the F# module below is its idiomatic spelling.
type internal LossFunctions = FunctionalAD.Loss

/// Loss functions, written with differentiable ops (so usable at any derivative order). Each `xxx` reduces by
/// Mean; `xxxWith` takes the reduction. The definitions live in FunctionalAD.Core (shared with C#'s `Loss.Mse`, ...).
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Loss =

    let private r reduction =
        match reduction with
        | Mean -> LossReduction.Mean
        | Sum -> LossReduction.Sum
        | NoReduction -> LossReduction.None

    /// Squared error (prediction - target)². Throws ShapeMismatchException for different shapes.
    let mseWith reduction (prediction: Tensor) (target: Tensor) = LossFunctions.Mse(prediction, target, r reduction)
    /// Mean squared error.
    let mse prediction target = mseWith Mean prediction target

    /// Absolute error |prediction - target|. Throws ShapeMismatchException for different shapes.
    let l1With reduction (prediction: Tensor) (target: Tensor) = LossFunctions.L1(prediction, target, r reduction)
    /// Mean absolute error.
    let l1 prediction target = l1With Mean prediction target

    /// Binary cross-entropy of probabilities in (0, 1) (clamped to [1e-12, 1 - 1e-12]) against targets in [0, 1].
    let binaryCrossEntropyWith reduction (probabilities: Tensor) (target: Tensor) =
        LossFunctions.BinaryCrossEntropy(probabilities, target, r reduction)
    /// Mean binary cross-entropy of probabilities.
    let binaryCrossEntropy probabilities target = binaryCrossEntropyWith Mean probabilities target

    /// Binary cross-entropy from logits, stable for any logit: softplus(x) - x·t.
    let binaryCrossEntropyWithLogitsWith reduction (logits: Tensor) (target: Tensor) =
        LossFunctions.BinaryCrossEntropyWithLogits(logits, target, r reduction)
    /// Mean binary cross-entropy from logits.
    let binaryCrossEntropyWithLogits logits target = binaryCrossEntropyWithLogitsWith Mean logits target

    /// Negative log-likelihood of integer class indices under log-probabilities [..., classes].
    let nllWith reduction (logProbs: Tensor) (classes: Tensor) = LossFunctions.Nll(logProbs, classes, r reduction)
    /// Mean negative log-likelihood.
    let nll logProbs classes = nllWith Mean logProbs classes

    /// Cross-entropy of logits [..., classes] against integer class indices [...] or against target
    /// probabilities [..., classes] (soft labels).
    let crossEntropyWith reduction (logits: Tensor) (target: Tensor) = LossFunctions.CrossEntropy(logits, target, r reduction)
    /// Mean cross-entropy.
    let crossEntropy logits target = crossEntropyWith Mean logits target

    /// Cross-entropy of logits [N, classes] (or [classes]) against class indices with PyTorch's options: `weight`
    /// (one weight per class, or None), `ignoreIndex` (targets equal to it contribute nothing, or None) and
    /// `labelSmoothing` ε in [0, 1] (the target becomes (1 - ε)·onehot + ε/classes). With Mean, the sum is divided by
    /// the total weight of the counted targets, as in PyTorch. Throws ArgumentException for ε outside [0, 1] and
    /// ShapeMismatchException for a weight that is not [classes].
    let crossEntropyOptions reduction (weight: Tensor option) (ignoreIndex: int64 option) (labelSmoothing: float)
                            (logits: Tensor) (classes: Tensor) =
        LossFunctions.CrossEntropy(logits, classes, Option.toObj weight, Option.toNullable ignoreIndex, labelSmoothing, r reduction)

    /// Huber loss: 0.5·d² where |d| ≤ delta, else delta·(|d| - 0.5·delta), d = prediction - target.
    let huberWith reduction (delta: float) (prediction: Tensor) (target: Tensor) = LossFunctions.Huber(prediction, target, delta, r reduction)
    /// Mean Huber loss with delta 1.
    let huber prediction target = huberWith Mean 1.0 prediction target

    /// Smooth L1: 0.5·d²/beta where |d| &lt; beta, else |d| - 0.5·beta (beta = 0 is the L1 loss).
    let smoothL1With reduction (beta: float) (prediction: Tensor) (target: Tensor) = LossFunctions.SmoothL1(prediction, target, beta, r reduction)
    /// Mean smooth L1 with beta 1.
    let smoothL1 prediction target = smoothL1With Mean 1.0 prediction target

    /// Kullback-Leibler divergence of log-probabilities `logInput` from probabilities `target` (PyTorch's kl_div):
    /// target·(log target - logInput), 0 where target = 0. PyTorch's "batchmean" is `klDivWith Sum ... / batch`.
    let klDivWith reduction (logInput: Tensor) (target: Tensor) = LossFunctions.KlDiv(logInput, target, r reduction)
    /// Mean KL divergence (per element, as PyTorch's "mean").
    let klDiv logInput target = klDivWith Mean logInput target

    /// Cosine embedding loss over the last dimension: 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin)
    /// where y = -1.
    let cosineEmbeddingWith reduction (margin: float) (x1: Tensor) (x2: Tensor) (y: Tensor) =
        LossFunctions.CosineEmbedding(x1, x2, y, margin, r reduction)
    /// Mean cosine embedding loss with margin 0.
    let cosineEmbedding x1 x2 y = cosineEmbeddingWith Mean 0.0 x1 x2 y

    /// Margin ranking loss: max(0, -y·(x1 - x2) + margin), y = 1 when x1 should rank higher, -1 otherwise.
    let marginRankingWith reduction (margin: float) (x1: Tensor) (x2: Tensor) (y: Tensor) =
        LossFunctions.MarginRanking(x1, x2, y, margin, r reduction)
    /// Mean margin ranking loss with margin 0.
    let marginRanking x1 x2 y = marginRankingWith Mean 0.0 x1 x2 y

    /// Triplet margin loss over the last dimension: max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance
    /// d(x, y) = ||x - y + 1e-6||_p (PyTorch's pairwise_distance).
    let tripletMarginWith reduction (margin: float) (p: float) (anchor: Tensor) (positive: Tensor) (negative: Tensor) =
        LossFunctions.TripletMargin(anchor, positive, negative, margin, p, r reduction)
    /// Mean triplet margin loss, margin 1, p = 2.
    let tripletMargin anchor positive negative = tripletMarginWith Mean 1.0 2.0 anchor positive negative

    /// Poisson negative log-likelihood (PyTorch's poisson_nll_loss without the Stirling term): exp(input) - target·input
    /// when `logInput`, else input - target·log(input + 1e-8).
    let poissonNllWith reduction (logInput: bool) (input: Tensor) (target: Tensor) = LossFunctions.PoissonNll(input, target, logInput, r reduction)
    /// Mean Poisson NLL of log-rates.
    let poissonNll input target = poissonNllWith Mean true input target

    /// Gaussian negative log-likelihood (PyTorch's gaussian_nll_loss, full = false): 0.5·(log v + (input - target)²/v)
    /// with the variance v clamped below at 1e-6; `variance` broadcasts against the input.
    let gaussianNllWith reduction (input: Tensor) (target: Tensor) (variance: Tensor) = LossFunctions.GaussianNll(input, target, variance, r reduction)
    /// Mean Gaussian NLL.
    let gaussianNll input target variance = gaussianNllWith Mean input target variance
