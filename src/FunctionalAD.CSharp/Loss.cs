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
}
