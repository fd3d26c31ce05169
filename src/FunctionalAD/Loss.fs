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
            sameShape "crossEntropy" logits target
            reduce reduction (-(target * logProbs).Sum(-1))
        else reduce reduction (pick "crossEntropy" logProbs target)
    /// Mean cross-entropy.
    let crossEntropy logits target = crossEntropyWith Mean logits target
