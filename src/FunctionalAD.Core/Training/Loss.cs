namespace FunctionalAD;

/// <summary>How a loss combines its per-element (or per-sample) values.</summary>
public enum LossReduction
{
    /// <summary>The average (the default).</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>No reduction: one value per element / sample.</summary>
    None,
}

/// <summary>
/// Loss functions, written once with differentiable tensor ops (so usable at any derivative order) for every
/// language: C# calls these directly, the F# <c>Loss</c> module (<c>Loss.mse</c>, <c>Loss.crossEntropyWith</c>...)
/// is a thin layer over them. Definitions and defaults follow PyTorch's <c>torch.nn.functional</c>.
/// </summary>
public static class Loss
{
    static Tensor Reduce(LossReduction reduction, Tensor t) => reduction switch
    {
        LossReduction.Sum => t.Sum(),
        LossReduction.None => t,
        _ => t.Mean(),
    };

    static void SameShape(string name, Tensor a, Tensor b)
    {
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ShapeMismatchException(name,
                $"prediction shape {Shape.Format(a.Shape)} and target shape {Shape.Format(b.Shape)} differ; expected equal shapes");
    }

    /// <summary>Squared error (prediction - target)².</summary>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor Mse(Tensor prediction, Tensor target, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("mse", prediction, target);
        return Reduce(reduction, (prediction - target).Square());
    }

    /// <summary>Absolute error |prediction - target|.</summary>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor L1(Tensor prediction, Tensor target, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("l1", prediction, target);
        return Reduce(reduction, (prediction - target).Abs());
    }

    /// <summary>Binary cross-entropy of probabilities in (0, 1) (clamped to [1e-12, 1 - 1e-12]) against targets in [0, 1].</summary>
    /// <exception cref="ShapeMismatchException">probabilities and target shapes differ.</exception>
    public static Tensor BinaryCrossEntropy(Tensor probabilities, Tensor target, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("binaryCrossEntropy", probabilities, target);
        var p = probabilities.Clamp(1e-12, 1.0 - 1e-12);
        return Reduce(reduction, -(target * p.Log() + (1.0 - target) * (1.0 - p).Log()));
    }

    /// <summary>Binary cross-entropy from logits, stable for any logit: softplus(x) - x·t.</summary>
    /// <exception cref="ShapeMismatchException">logits and target shapes differ.</exception>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("binaryCrossEntropyWithLogits", logits, target);
        return Reduce(reduction, logits.Softplus() - logits * target);
    }

    static Tensor Pick(string name, Tensor logProbs, Tensor classes)
    {
        if (classes.DType != DType.Int32 && classes.DType != DType.Int64)
            throw new DTypeMismatchException(name, $"class indices must be Int32 or Int64, got {classes.DType}");
        var batch = logProbs.Rank < 1 ? logProbs.Shape : logProbs.Shape[..^1];
        if (logProbs.Rank < 1 || !classes.Shape.AsSpan().SequenceEqual(batch))
            throw new ShapeMismatchException(name,
                $"scores of shape {Shape.Format(logProbs.Shape)} need class indices of shape {Shape.Format(batch)}, got {Shape.Format(classes.Shape)}");
        // checked here, so the message names this loss and the class count rather than the internal gather
        int count = logProbs.Shape[^1];
        if (classes.Numel > 0)
            foreach (var bound in new[] { classes.Min().Item(), classes.Max().Item() })
                if (bound < 0 || bound >= count)
                    throw new TensorException(name, $"class {bound:G} is out of range for {count} classes (indices must be in 0..{count - 1})");
        return -logProbs.Gather(-1, classes.Unsqueeze(-1)).Squeeze(-1);
    }

    /// <summary>Negative log-likelihood of integer class indices [...] under log-probabilities [..., classes].</summary>
    /// <exception cref="DTypeMismatchException">the classes are not Int32/Int64.</exception>
    /// <exception cref="ShapeMismatchException">the classes' shape is not the scores' shape without its last dimension.</exception>
    /// <exception cref="TensorException">a class index outside 0..classes-1.</exception>
    public static Tensor Nll(Tensor logProbabilities, Tensor classes, LossReduction reduction = LossReduction.Mean) =>
        Reduce(reduction, Pick("nll", logProbabilities, classes));

    /// <summary>Cross-entropy of logits [..., classes] against integer class indices [...] or against target
    /// probabilities [..., classes] (soft labels, any floating dtype).</summary>
    /// <exception cref="ShapeMismatchException">the target's shape does not fit the logits.</exception>
    /// <exception cref="DTypeMismatchException">floating-point class indices (a target of the logits' shape without
    /// the class dimension).</exception>
    /// <exception cref="TensorException">a class index outside 0..classes-1.</exception>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, LossReduction reduction = LossReduction.Mean)
    {
        var logProbs = logits.LogSoftmax(-1);
        if (target.DType.IsFloatingPoint())
        {
            if (logits.Rank >= 1 && target.Shape.AsSpan().SequenceEqual(logits.Shape.AsSpan(0, logits.Rank - 1)))
                throw new DTypeMismatchException("crossEntropy",
                    $"class indices must be integers (Int32 or Int64), got {target.DType}; floating-point targets are probabilities of the logits' shape {Shape.Format(logits.Shape)}");
            SameShape("crossEntropy", logits, target);
            return Reduce(reduction, -(target * logProbs).Sum(-1));
        }
        return Reduce(reduction, Pick("crossEntropy", logProbs, target));
    }

    /// <summary>Cross-entropy of logits [N, classes] (or [classes]) against class indices with PyTorch's options:
    /// per-class <paramref name="weight"/> (null: all 1), an <paramref name="ignoreIndex"/> whose targets count for
    /// nothing (null: none) and label smoothing ε in [0, 1] (the target becomes (1 - ε)·onehot + ε/classes). With
    /// Mean the sum is divided by the total weight of the counted targets, as in PyTorch.</summary>
    /// <exception cref="ArgumentException">labelSmoothing outside [0, 1].</exception>
    /// <exception cref="ShapeMismatchException">weight is not [classes], or the classes do not fit the logits.</exception>
    public static Tensor CrossEntropy(Tensor logits, Tensor classes, Tensor? weight, long? ignoreIndex = null,
        double labelSmoothing = 0, LossReduction reduction = LossReduction.Mean)
    {
        if (labelSmoothing < 0 || labelSmoothing > 1)
            throw new ArgumentException($"crossEntropy: label smoothing must be in [0, 1], got {labelSmoothing}", nameof(labelSmoothing));
        var logProbs = logits.LogSoftmax(-1);
        int c = logits.Shape[^1];
        var w = weight is null ? Tensor.Ones([c], logits.DType, logits.Device) : weight.To(logits.DType);
        if (w.Shape.Length != 1 || w.Shape[0] != c)
            throw new ShapeMismatchException("crossEntropy", $"the class weights have shape {Shape.Format(w.Shape)}; expected [{c}]");
        var keep = ignoreIndex is { } i ? classes.Ne(Tensor.Scalar(i).To(classes.DType)) : classes.Eq(classes);
        // ignored targets pick class 0, then get weight 0
        var safe = Tensor.Where(keep, classes, classes * 0L);
        var kept = keep.To(logits.DType);
        var picked = Pick("crossEntropy", logProbs, safe); // checks the classes before the weights are gathered
        var wt = w.Gather(0, safe.Reshape(-1)).Reshape(safe.Shape) * kept;
        var nll = picked * wt;
        var perSample = labelSmoothing == 0 ? nll
            : (1.0 - labelSmoothing) * nll + (labelSmoothing / c) * (-(logProbs * w).Sum(-1)) * kept;
        return reduction switch
        {
            LossReduction.Sum => perSample.Sum(),
            LossReduction.None => perSample,
            _ => perSample.Sum() / wt.Sum(),
        };
    }

    /// <summary>Huber loss: 0.5·d² where |d| ≤ delta, else delta·(|d| - 0.5·delta), d = prediction - target.</summary>
    /// <exception cref="ArgumentException">delta ≤ 0.</exception>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor Huber(Tensor prediction, Tensor target, double delta = 1, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("huber", prediction, target);
        if (delta <= 0) throw new ArgumentException($"huber: delta must be > 0, got {delta}", nameof(delta));
        var d = prediction - target;
        var a = d.Abs();
        return Reduce(reduction, Tensor.Where(a.Le(delta), 0.5 * d.Square(), delta * (a - 0.5 * delta)));
    }

    /// <summary>Smooth L1: 0.5·d²/beta where |d| &lt; beta, else |d| - 0.5·beta (beta = 0 is the L1 loss).</summary>
    /// <exception cref="ArgumentException">beta &lt; 0.</exception>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor SmoothL1(Tensor prediction, Tensor target, double beta = 1, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("smoothL1", prediction, target);
        if (beta < 0) throw new ArgumentException($"smoothL1: beta must be >= 0, got {beta}", nameof(beta));
        var d = prediction - target;
        var a = d.Abs();
        return beta == 0 ? Reduce(reduction, a)
            : Reduce(reduction, Tensor.Where(a.Lt(beta), 0.5 * d.Square() / beta, a - 0.5 * beta));
    }

    /// <summary>Kullback-Leibler divergence of log-probabilities <paramref name="logInput"/> from probabilities
    /// <paramref name="target"/> (PyTorch's kl_div): target·(log target - logInput), 0 where target = 0. Mean is per
    /// element; PyTorch's "batchmean" is the Sum divided by the batch size.</summary>
    /// <exception cref="ShapeMismatchException">the shapes differ.</exception>
    public static Tensor KlDiv(Tensor logInput, Tensor target, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("klDiv", logInput, target);
        return Reduce(reduction, Tensor.Xlogy(target, target) - target * logInput);
    }

    static Tensor Cosine(Tensor a, Tensor b)
    {
        const double eps = 1e-8;
        return (a * b).Sum(-1) / (a.Square().Sum(-1) * b.Square().Sum(-1)).Clamp(eps * eps, double.PositiveInfinity).Sqrt();
    }

    /// <summary>Cosine embedding loss over the last dimension: 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin)
    /// where y = -1.</summary>
    /// <exception cref="ShapeMismatchException">x1 and x2 shapes differ.</exception>
    public static Tensor CosineEmbedding(Tensor x1, Tensor x2, Tensor y, double margin = 0, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("cosineEmbedding", x1, x2);
        var c = Cosine(x1, x2);
        return Reduce(reduction, Tensor.Where(y.Gt(0.0), 1.0 - c, (c - margin).Relu()));
    }

    /// <summary>Margin ranking loss max(0, -y·(x1 - x2) + margin), y = 1 when x1 should rank higher, -1 otherwise.</summary>
    public static Tensor MarginRanking(Tensor x1, Tensor x2, Tensor y, double margin = 0, LossReduction reduction = LossReduction.Mean) =>
        Reduce(reduction, (-y * (x1 - x2) + margin).Relu());

    /// <summary>Triplet margin loss over the last dimension: max(d(a, p) - d(a, n) + margin, 0) with the p-norm
    /// distance d(x, y) = ‖x - y + 1e-6‖_p (PyTorch's pairwise_distance).</summary>
    /// <exception cref="ArgumentException">p ≤ 0.</exception>
    /// <exception cref="ShapeMismatchException">the three shapes differ.</exception>
    public static Tensor TripletMargin(Tensor anchor, Tensor positive, Tensor negative, double margin = 1, double p = 2,
        LossReduction reduction = LossReduction.Mean)
    {
        SameShape("tripletMargin", anchor, positive);
        SameShape("tripletMargin", anchor, negative);
        if (p <= 0) throw new ArgumentException($"tripletMargin: p must be > 0, got {p}", nameof(p));
        Tensor Dist(Tensor x, Tensor y) => (x - y + 1e-6).Abs().Pow(p).Sum(-1).Pow(1.0 / p);
        return Reduce(reduction, (Dist(anchor, positive) - Dist(anchor, negative) + margin).Relu());
    }

    /// <summary>Poisson negative log-likelihood (PyTorch's poisson_nll_loss without the Stirling term):
    /// exp(input) - target·input when <paramref name="logInput"/>, else input - target·log(input + 1e-8).</summary>
    /// <exception cref="ShapeMismatchException">the shapes differ.</exception>
    public static Tensor PoissonNll(Tensor input, Tensor target, bool logInput = true, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("poissonNll", input, target);
        return Reduce(reduction, logInput ? input.Exp() - target * input : input - target * (input + 1e-8).Log());
    }

    /// <summary>Gaussian negative log-likelihood (PyTorch's gaussian_nll_loss, full = false):
    /// 0.5·(log v + (input - target)²/v) with the variance v clamped below at 1e-6; variance broadcasts.</summary>
    /// <exception cref="ShapeMismatchException">input and target shapes differ.</exception>
    public static Tensor GaussianNll(Tensor input, Tensor target, Tensor variance, LossReduction reduction = LossReduction.Mean)
    {
        SameShape("gaussianNll", input, target);
        var v = variance.Clamp(1e-6, double.PositiveInfinity);
        return Reduce(reduction, 0.5 * (v.Log() + (input - target).Square() / v));
    }
}
