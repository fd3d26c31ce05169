namespace FunctionalAD;

/// <summary>How a loss combines its values.</summary>
public enum LossReduction
{
    /// <summary>The average.</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>One value per element / sample.</summary>
    None,
}

/// <summary>Loss functions (differentiable; the same definitions as the F# Loss module).</summary>
public static class Loss
{
    static Reduction R(LossReduction r) => r switch
    {
        LossReduction.Sum => Reduction.Sum,
        LossReduction.None => Reduction.NoReduction,
        _ => Reduction.Mean,
    };

    /// <summary>Squared error.</summary>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor Mse(Tensor prediction, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.mseWith(R(reduction), prediction, target);

    /// <summary>Absolute error.</summary>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor L1(Tensor prediction, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.l1With(R(reduction), prediction, target);

    /// <summary>Cross-entropy of logits [..., classes] against class indices (Int32/Int64, [...]) or probabilities ([..., classes]).</summary>
    /// <exception cref="ShapeMismatchException">the target's shape does not fit the logits.</exception>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.crossEntropyWith(R(reduction), logits, target);

    /// <summary>Negative log-likelihood of class indices under log-probabilities.</summary>
    public static Tensor Nll(Tensor logProbabilities, Tensor classes, LossReduction reduction = LossReduction.Mean) => LossModule.nllWith(R(reduction), logProbabilities, classes);

    /// <summary>Binary cross-entropy of probabilities in (0, 1).</summary>
    public static Tensor BinaryCrossEntropy(Tensor probabilities, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.binaryCrossEntropyWith(R(reduction), probabilities, target);

    /// <summary>Binary cross-entropy from logits, stable for any logit.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.binaryCrossEntropyWithLogitsWith(R(reduction), logits, target);

    /// <summary>Cross-entropy of logits [N, classes] against class indices with PyTorch's options: per-class weights
    /// (null: all 1), an ignored target index (null: none) and label smoothing ε in [0, 1]. With Mean the sum is
    /// divided by the total weight of the counted targets.</summary>
    /// <exception cref="ArgumentException">labelSmoothing outside [0, 1].</exception>
    /// <exception cref="ShapeMismatchException">weight is not [classes], or the classes do not fit the logits.</exception>
    public static Tensor CrossEntropy(Tensor logits, Tensor classes, Tensor? weight, long? ignoreIndex = null, double labelSmoothing = 0, LossReduction reduction = LossReduction.Mean) =>
        LossModule.crossEntropyOptions(R(reduction), weight is null ? null : Microsoft.FSharp.Core.FSharpOption<Tensor>.Some(weight),
            ignoreIndex is { } i ? Microsoft.FSharp.Core.FSharpOption<long>.Some(i) : null, labelSmoothing, logits, classes);

    /// <summary>Huber loss: 0.5·d² where |d| ≤ delta, else delta·(|d| - 0.5·delta).</summary>
    /// <exception cref="ArgumentException">delta ≤ 0.</exception>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor Huber(Tensor prediction, Tensor target, double delta = 1, LossReduction reduction = LossReduction.Mean) => LossModule.huberWith(R(reduction), delta, prediction, target);

    /// <summary>Smooth L1: 0.5·d²/beta where |d| &lt; beta, else |d| - 0.5·beta.</summary>
    /// <exception cref="ArgumentException">beta &lt; 0.</exception>
    public static Tensor SmoothL1(Tensor prediction, Tensor target, double beta = 1, LossReduction reduction = LossReduction.Mean) => LossModule.smoothL1With(R(reduction), beta, prediction, target);

    /// <summary>KL divergence of log-probabilities from target probabilities (PyTorch's kl_div).</summary>
    public static Tensor KlDiv(Tensor logInput, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.klDivWith(R(reduction), logInput, target);

    /// <summary>Cosine embedding loss over the last dimension (y = 1 similar, -1 dissimilar).</summary>
    public static Tensor CosineEmbedding(Tensor x1, Tensor x2, Tensor y, double margin = 0, LossReduction reduction = LossReduction.Mean) => LossModule.cosineEmbeddingWith(R(reduction), margin, x1, x2, y);

    /// <summary>Margin ranking loss max(0, -y·(x1 - x2) + margin).</summary>
    public static Tensor MarginRanking(Tensor x1, Tensor x2, Tensor y, double margin = 0, LossReduction reduction = LossReduction.Mean) => LossModule.marginRankingWith(R(reduction), margin, x1, x2, y);

    /// <summary>Triplet margin loss with the p-norm distance over the last dimension.</summary>
    /// <exception cref="ArgumentException">p ≤ 0.</exception>
    public static Tensor TripletMargin(Tensor anchor, Tensor positive, Tensor negative, double margin = 1, double p = 2, LossReduction reduction = LossReduction.Mean) =>
        LossModule.tripletMarginWith(R(reduction), margin, p, anchor, positive, negative);

    /// <summary>Poisson negative log-likelihood (of log-rates when logInput).</summary>
    public static Tensor PoissonNll(Tensor input, Tensor target, bool logInput = true, LossReduction reduction = LossReduction.Mean) => LossModule.poissonNllWith(R(reduction), logInput, input, target);

    /// <summary>Gaussian negative log-likelihood with a (broadcast) variance clamped below at 1e-6.</summary>
    public static Tensor GaussianNll(Tensor input, Tensor target, Tensor variance, LossReduction reduction = LossReduction.Mean) => LossModule.gaussianNllWith(R(reduction), input, target, variance);
}
