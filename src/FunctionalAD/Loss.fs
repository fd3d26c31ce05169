namespace FunctionalAD

/// How a loss combines its per-element (or per-sample) values.
type Reduction =
    /// The average (the default).
    | Mean
    /// The sum.
    | Sum
    /// No reduction: one value per element / sample.
    | NoReduction

/// Loss functions, written with differentiable ops (so usable at any derivative order). Each `xxx` reduces by
/// Mean; `xxxWith` takes the reduction.
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Loss =

    let private reduce reduction (t: Tensor) =
        match reduction with
        | Mean -> t.Mean()
        | Sum -> t.Sum()
        | NoReduction -> t

    let private sameShape name (a: Tensor) (b: Tensor) =
        if a.Shape <> b.Shape then
            raise (ShapeMismatchException(name, sprintf "prediction shape %s and target shape %s differ; expected equal shapes" (Shape.Format a.Shape) (Shape.Format b.Shape)))

    /// Squared error (prediction - target)². Throws ShapeMismatchException for different shapes.
    let mseWith reduction (prediction: Tensor) (target: Tensor) =
        sameShape "mse" prediction target
        let d = prediction - target
        reduce reduction (d.Square())
    /// Mean squared error.
    let mse prediction target = mseWith Mean prediction target

    /// Absolute error |prediction - target|. Throws ShapeMismatchException for different shapes.
    let l1With reduction (prediction: Tensor) (target: Tensor) =
        sameShape "l1" prediction target
        reduce reduction ((prediction - target).Abs())
    /// Mean absolute error.
    let l1 prediction target = l1With Mean prediction target

    /// Binary cross-entropy of probabilities in (0, 1) (clamped to [1e-12, 1 - 1e-12]) against targets in [0, 1].
    let binaryCrossEntropyWith reduction (probabilities: Tensor) (target: Tensor) =
        sameShape "binaryCrossEntropy" probabilities target
        let p = probabilities.Clamp(1e-12, 1.0 - 1e-12)
        reduce reduction (-(target * p.Log() + (1.0 - target) * (1.0 - p).Log()))
    /// Mean binary cross-entropy of probabilities.
    let binaryCrossEntropy probabilities target = binaryCrossEntropyWith Mean probabilities target

    /// Binary cross-entropy from logits, stable for any logit: softplus(x) - x·t.
    let binaryCrossEntropyWithLogitsWith reduction (logits: Tensor) (target: Tensor) =
        sameShape "binaryCrossEntropyWithLogits" logits target
        reduce reduction (logits.Softplus() - logits * target)
    /// Mean binary cross-entropy from logits.
    let binaryCrossEntropyWithLogits logits target = binaryCrossEntropyWithLogitsWith Mean logits target

    let private pick name (logProbs: Tensor) (classes: Tensor) =
        if classes.DType <> DType.Int32 && classes.DType <> DType.Int64 then
            raise (DTypeMismatchException(name, sprintf "class indices must be Int32 or Int64, got %A" classes.DType))
        if logProbs.Rank < 1 || classes.Shape <> logProbs.Shape.[.. logProbs.Rank - 2] then
            raise (ShapeMismatchException(name, sprintf "scores of shape %s need class indices of shape %s, got %s"
                                                    (Shape.Format logProbs.Shape) (Shape.Format logProbs.Shape.[.. logProbs.Rank - 2]) (Shape.Format classes.Shape)))
        let count = logProbs.Shape.[logProbs.Rank - 1]
        if classes.Numel > 0 then
            for bound in [ classes.Min().Item(); classes.Max().Item() ] do
                if bound < 0.0 || bound >= float count then
                    raise (TensorException(name, sprintf "class %g is out of range for %d classes (indices must be in 0..%d)" bound count (count - 1)))
        -logProbs.Gather(-1, classes.Unsqueeze(-1)).Squeeze(-1)

    /// Negative log-likelihood of integer class indices under log-probabilities [..., classes].
    let nllWith reduction (logProbs: Tensor) (classes: Tensor) = reduce reduction (pick "nll" logProbs classes)
    /// Mean negative log-likelihood.
    let nll logProbs classes = nllWith Mean logProbs classes

    /// Cross-entropy of logits [..., classes] against integer class indices [...] or against target
    /// probabilities [..., classes] (soft labels).
    let crossEntropyWith reduction (logits: Tensor) (target: Tensor) =
        let logProbs = logits.LogSoftmax(-1)
        if target.DType.IsFloatingPoint() then
            if logits.Rank >= 1 && target.Shape = logits.Shape.[.. logits.Rank - 2] then
                raise (DTypeMismatchException("crossEntropy", sprintf "class indices must be integers (Int32 or Int64), got %A; floating-point targets are probabilities of the logits' shape %s" target.DType (Shape.Format logits.Shape)))
            sameShape "crossEntropy" logits target
            reduce reduction (-(target * logProbs).Sum(-1))
        else reduce reduction (pick "crossEntropy" logProbs target)
    /// Mean cross-entropy.
    let crossEntropy logits target = crossEntropyWith Mean logits target

    /// Cross-entropy of logits [N, classes] (or [classes]) against class indices with PyTorch's options: `weight`
    /// (one weight per class, or None), `ignoreIndex` (targets equal to it contribute nothing, or None) and
    /// `labelSmoothing` ε in [0, 1] (the target becomes (1 - ε)·onehot + ε/classes). With Mean, the sum is divided by
    /// the total weight of the counted targets, as in PyTorch. Throws ArgumentException for ε outside [0, 1] and
    /// ShapeMismatchException for a weight that is not [classes].
    let crossEntropyOptions reduction (weight: Tensor option) (ignoreIndex: int64 option) (labelSmoothing: float)
                            (logits: Tensor) (classes: Tensor) =
        if labelSmoothing < 0.0 || labelSmoothing > 1.0 then invalidArg "labelSmoothing" (sprintf "crossEntropy: label smoothing must be in [0, 1], got %g" labelSmoothing)
        let logProbs = logits.LogSoftmax(-1)
        let c = logits.Shape.[logits.Rank - 1]
        let w = match weight with Some w -> w.To(logits.DType) | None -> Tensor.Ones([| c |], logits.DType, logits.Device)
        if w.Shape <> [| c |] then raise (ShapeMismatchException("crossEntropy", sprintf "the class weights have shape %s; expected [%d]" (Shape.Format w.Shape) c))
        let keep = match ignoreIndex with Some i -> classes.Ne(Tensor.Scalar(i).To(classes.DType)) | None -> classes.Eq(classes)
        // ignored targets pick class 0, then get weight 0
        let safe = Tensor.Where(keep, classes, classes * 0L)
        let picked = pick "crossEntropy" logProbs safe      // checks the classes before the weights are gathered
        let wt = w.Gather(0, safe.Reshape(-1)).Reshape(safe.Shape) * keep.To(logits.DType)
        let nll = picked * wt
        let perSample =
            if labelSmoothing = 0.0 then nll
            else (1.0 - labelSmoothing) * nll + (labelSmoothing / float c) * (-(logProbs * w).Sum(-1)) * keep.To(logits.DType)
        match reduction with
        | Mean -> perSample.Sum() / wt.Sum()
        | Sum -> perSample.Sum()
        | NoReduction -> perSample

    /// Huber loss: 0.5·d² where |d| ≤ delta, else delta·(|d| - 0.5·delta), d = prediction - target.
    let huberWith reduction (delta: float) (prediction: Tensor) (target: Tensor) =
        sameShape "huber" prediction target
        if delta <= 0.0 then invalidArg "delta" (sprintf "huber: delta must be > 0, got %g" delta)
        let d = prediction - target
        let a = d.Abs()
        reduce reduction (Tensor.Where(a.Le delta, 0.5 * d.Square(), delta * (a - 0.5 * delta)))
    /// Mean Huber loss with delta 1.
    let huber prediction target = huberWith Mean 1.0 prediction target

    /// Smooth L1: 0.5·d²/beta where |d| &lt; beta, else |d| - 0.5·beta (beta = 0 is the L1 loss).
    let smoothL1With reduction (beta: float) (prediction: Tensor) (target: Tensor) =
        sameShape "smoothL1" prediction target
        if beta < 0.0 then invalidArg "beta" (sprintf "smoothL1: beta must be >= 0, got %g" beta)
        let d = prediction - target
        let a = d.Abs()
        if beta = 0.0 then reduce reduction a
        else reduce reduction (Tensor.Where(a.Lt beta, 0.5 * d.Square() / beta, a - 0.5 * beta))
    /// Mean smooth L1 with beta 1.
    let smoothL1 prediction target = smoothL1With Mean 1.0 prediction target

    /// Kullback-Leibler divergence of log-probabilities `logInput` from probabilities `target` (PyTorch's kl_div):
    /// target·(log target - logInput), 0 where target = 0. PyTorch's "batchmean" is `klDivWith Sum ... / batch`.
    let klDivWith reduction (logInput: Tensor) (target: Tensor) =
        sameShape "klDiv" logInput target
        reduce reduction (Tensor.Xlogy(target, target) - target * logInput)
    /// Mean KL divergence (per element, as PyTorch's "mean").
    let klDiv logInput target = klDivWith Mean logInput target

    let private cosine (a: Tensor) (b: Tensor) =
        let eps = 1e-8
        (a * b).Sum(-1) / ((a.Square().Sum(-1) * b.Square().Sum(-1)).Clamp(eps * eps, infinity).Sqrt())

    /// Cosine embedding loss over the last dimension: 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin)
    /// where y = -1.
    let cosineEmbeddingWith reduction (margin: float) (x1: Tensor) (x2: Tensor) (y: Tensor) =
        sameShape "cosineEmbedding" x1 x2
        let c = cosine x1 x2
        reduce reduction (Tensor.Where(y.Gt 0.0, 1.0 - c, (c - margin).Relu()))
    /// Mean cosine embedding loss with margin 0.
    let cosineEmbedding x1 x2 y = cosineEmbeddingWith Mean 0.0 x1 x2 y

    /// Margin ranking loss: max(0, -y·(x1 - x2) + margin), y = 1 when x1 should rank higher, -1 otherwise.
    let marginRankingWith reduction (margin: float) (x1: Tensor) (x2: Tensor) (y: Tensor) =
        reduce reduction ((-y * (x1 - x2) + margin).Relu())
    /// Mean margin ranking loss with margin 0.
    let marginRanking x1 x2 y = marginRankingWith Mean 0.0 x1 x2 y

    /// Triplet margin loss over the last dimension: max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance
    /// d(x, y) = ||x - y + 1e-6||_p (PyTorch's pairwise_distance).
    let tripletMarginWith reduction (margin: float) (p: float) (anchor: Tensor) (positive: Tensor) (negative: Tensor) =
        sameShape "tripletMargin" anchor positive
        sameShape "tripletMargin" anchor negative
        if p <= 0.0 then invalidArg "p" (sprintf "tripletMargin: p must be > 0, got %g" p)
        let dist (x: Tensor) (y: Tensor) = ((x - y + 1e-6).Abs().Pow(p)).Sum(-1).Pow(1.0 / p)
        reduce reduction ((dist anchor positive - dist anchor negative + margin).Relu())
    /// Mean triplet margin loss, margin 1, p = 2.
    let tripletMargin anchor positive negative = tripletMarginWith Mean 1.0 2.0 anchor positive negative

    /// Poisson negative log-likelihood (PyTorch's poisson_nll_loss without the Stirling term): exp(input) - target·input
    /// when `logInput`, else input - target·log(input + 1e-8).
    let poissonNllWith reduction (logInput: bool) (input: Tensor) (target: Tensor) =
        sameShape "poissonNll" input target
        reduce reduction (if logInput then input.Exp() - target * input else input - target * (input + 1e-8).Log())
    /// Mean Poisson NLL of log-rates.
    let poissonNll input target = poissonNllWith Mean true input target

    /// Gaussian negative log-likelihood (PyTorch's gaussian_nll_loss, full = false): 0.5·(log v + (input - target)²/v)
    /// with the variance v clamped below at 1e-6; `variance` broadcasts against the input.
    let gaussianNllWith reduction (input: Tensor) (target: Tensor) (variance: Tensor) =
        sameShape "gaussianNll" input target
        let v = variance.Clamp(1e-6, infinity)
        reduce reduction (0.5 * (v.Log() + (input - target).Square() / v))
    /// Mean Gaussian NLL.
    let gaussianNll input target variance = gaussianNllWith Mean input target variance
