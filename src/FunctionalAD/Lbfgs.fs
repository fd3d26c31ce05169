namespace FunctionalAD

open System
open System.Runtime.InteropServices

/// Settings of L-BFGS (PyTorch's torch.optim.LBFGS and its defaults, except that the strong-Wolfe line search is on
/// by default: full-batch fits want it).
type LbfgsConfig =
    { /// The step length tried first (PyTorch's lr); the first iteration scales it by min(1, 1/‖g‖₁).
      LearningRate: float
      /// The most iterations.
      MaxIter: int
      /// The most function evaluations (None: 1.25 × MaxIter, as PyTorch).
      MaxEval: int option
      /// Stop when every |gradient component| is at most this.
      ToleranceGrad: float
      /// Stop when a step or the change in loss is smaller than this.
      ToleranceChange: float
      /// How many (s, y) pairs the inverse-Hessian estimate remembers.
      HistorySize: int
      /// Strong-Wolfe line search (PyTorch's line_search_fn="strong_wolfe"); false takes fixed steps of LearningRate.
      StrongWolfe: bool }

/// What L-BFGS did: the minimizer (in the structure of the starting point) and a trace.
type LbfgsResult<'T> =
    { /// The point reached.
      Minimizer: 'T
      /// f at the minimizer.
      Loss: float
      /// The loss at the start and after each iteration.
      Trace: float[]
      /// Iterations taken.
      Iterations: int
      /// Function (and gradient) evaluations, line search included.
      FunctionEvaluations: int
      /// Why it stopped: "gradient tolerance", "change tolerance", "max iterations", "max evaluations" or
      /// "no descent direction".
      Reason: string }

/// L-BFGS for full-batch scientific fits: minimizes a scalar function of any tree of tensors (a tensor, a tuple, a
/// Params...) with gradients from `gradv`. A port of PyTorch's torch.optim.LBFGS.step (two-loop recursion, the
/// first step scaled by 1/‖g‖₁, curvature pairs kept only when yᵀs > 1e-10) with its strong-Wolfe line search
/// (cubic interpolation and zoom, c1 = 1e-4, c2 = 0.9, at most 25 evaluations per search).
module Lbfgs =

    /// PyTorch's defaults (lr 1, 20 iterations, tolerance_grad 1e-7, tolerance_change 1e-9, history 100) with the
    /// strong-Wolfe line search.
    let defaults =
        { LearningRate = 1.0; MaxIter = 20; MaxEval = None; ToleranceGrad = 1e-7; ToleranceChange = 1e-9
          HistorySize = 100; StrongWolfe = true }

    let private dot (a: Tensor) (b: Tensor) = (a * b).Sum().Item()
    let private maxAbs (a: Tensor) = if a.Numel = 0 then 0.0 else a.Abs().Max().Item()

    /// The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to the bounds (PyTorch's
    /// _cubic_interpolate).
    let private cubicInterpolate x1 f1 g1 x2 f2 g2 (bounds: (float * float) option) =
        let lo, hi = match bounds with Some b -> b | None -> (if x1 <= x2 then x1, x2 else x2, x1)
        let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
        let d2Square = d1 * d1 - g1 * g2
        if d2Square >= 0.0 then
            let d2 = sqrt d2Square
            let m =
                if x1 <= x2 then x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
                else x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
            min (max m lo) hi
        else (lo + hi) / 2.0

    /// PyTorch's _strong_wolfe: a step t along d from x satisfying the strong Wolfe conditions; returns the loss and
    /// gradient there, t and the evaluations used.
    let private strongWolfe (eval: float -> float * Tensor) (t0: float) (d: Tensor) (f: float) (g: Tensor) (gtd: float) (toleranceChange: float) =
        let c1, c2, maxLs = 1e-4, 0.9, 25
        let dNorm = maxAbs d
        let mutable t = t0
        let mutable fNew, gNew = eval t
        let mutable evals = 1
        let mutable gtdNew = dot gNew d
        let mutable tPrev, fPrev, gPrev, gtdPrev = 0.0, f, g, gtd
        let mutable fin = false
        let mutable lsIter = 0
        let bracket = ResizeArray<float>()
        let bracketF = ResizeArray<float>()
        let bracketG = ResizeArray<Tensor>()
        let bracketGtd = ResizeArray<float>()
        let setBracket (ts: float list) (fs: float list) (gs: Tensor list) (gtds: float list) =
            bracket.Clear(); bracket.AddRange ts
            bracketF.Clear(); bracketF.AddRange fs
            bracketG.Clear(); bracketG.AddRange gs
            bracketGtd.Clear(); bracketGtd.AddRange gtds
        let mutable searching = true
        while searching && lsIter < maxLs do
            if fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev) then
                setBracket [ tPrev; t ] [ fPrev; fNew ] [ gPrev; gNew ] [ gtdPrev; gtdNew ]
                searching <- false
            elif abs gtdNew <= -c2 * gtd then
                setBracket [ t ] [ fNew ] [ gNew ] [ gtdNew ]
                fin <- true
                searching <- false
            elif gtdNew >= 0.0 then
                setBracket [ tPrev; t ] [ fPrev; fNew ] [ gPrev; gNew ] [ gtdPrev; gtdNew ]
                searching <- false
            else
                // extrapolate by cubic interpolation within [t + 0.01 (t - tPrev), 10 t]
                let minStep = t + 0.01 * (t - tPrev)
                let maxStep = t * 10.0
                let tmp = t
                t <- cubicInterpolate tPrev fPrev gtdPrev t fNew gtdNew (Some(minStep, maxStep))
                tPrev <- tmp; fPrev <- fNew; gPrev <- gNew; gtdPrev <- gtdNew
                let fv, gv = eval t
                fNew <- fv; gNew <- gv; evals <- evals + 1
                gtdNew <- dot gNew d
                lsIter <- lsIter + 1
        if lsIter = maxLs then setBracket [ 0.0; t ] [ f; fNew ] [ g; gNew ] [ gtd; gtdNew ]
        // zoom: shrink the bracket until a point satisfies the strong Wolfe conditions
        let mutable insufficientProgress = false
        let order () = if bracketF.[0] <= bracketF.[bracketF.Count - 1] then 0, 1 else 1, 0
        let mutable low, high = order ()
        let mutable zooming = not fin && lsIter < maxLs
        while zooming do
            if abs (bracket.[1] - bracket.[0]) * dNorm < toleranceChange then zooming <- false
            else
                t <- cubicInterpolate bracket.[0] bracketF.[0] bracketGtd.[0] bracket.[1] bracketF.[1] bracketGtd.[1] None
                let bmax, bmin = max bracket.[0] bracket.[1], min bracket.[0] bracket.[1]
                let eps = 0.1 * (bmax - bmin)
                if min (bmax - t) (t - bmin) < eps then
                    if insufficientProgress || t >= bmax || t <= bmin then
                        t <- (if abs (t - bmax) < abs (t - bmin) then bmax - eps else bmin + eps)
                        insufficientProgress <- false
                    else insufficientProgress <- true
                else insufficientProgress <- false
                let fv, gv = eval t
                fNew <- fv; gNew <- gv; evals <- evals + 1
                gtdNew <- dot gNew d
                lsIter <- lsIter + 1
                if fNew > f + c1 * t * gtd || fNew >= bracketF.[low] then
                    bracket.[high] <- t; bracketF.[high] <- fNew; bracketG.[high] <- gNew; bracketGtd.[high] <- gtdNew
                    let l, h = order ()
                    low <- l; high <- h
                else
                    if abs gtdNew <= -c2 * gtd then fin <- true
                    elif gtdNew * (bracket.[high] - bracket.[low]) >= 0.0 then
                        bracket.[high] <- bracket.[low]; bracketF.[high] <- bracketF.[low]
                        bracketG.[high] <- bracketG.[low]; bracketGtd.[high] <- bracketGtd.[low]
                    bracket.[low] <- t; bracketF.[low] <- fNew; bracketG.[low] <- gNew; bracketGtd.[low] <- gtdNew
                if fin || lsIter >= maxLs then zooming <- false
        bracketF.[low], bracketG.[low], bracket.[low], evals

    /// Minimizes scalar-valued f from x0 (any tree of floating-point tensors) by L-BFGS; see LbfgsConfig for the
    /// settings and stopping rules. Throws ArgumentException for a setting out of range or x0 without tensors, and
    /// ShapeMismatchException when f does not return one element.
    let minimizeWith (config: LbfgsConfig) (f: 'T -> Tensor) (x0: 'T) : LbfgsResult<'T> =
        if config.MaxIter < 1 then invalidArg "config" (sprintf "lbfgs: MaxIter must be at least 1, got %d" config.MaxIter)
        if config.HistorySize < 1 then invalidArg "config" (sprintf "lbfgs: HistorySize must be at least 1, got %d" config.HistorySize)
        if not (config.LearningRate > 0.0) then invalidArg "config" (sprintf "lbfgs: LearningRate must be positive, got %g" config.LearningRate)
        let leaves = Tree.leaves x0 |> Array.map (fun t -> t.StopGradient())
        if leaves.Length = 0 then invalidArg "x0" "lbfgs: the starting point holds no tensors"
        let sizes = leaves |> Array.map (fun t -> t.Numel)
        let toTree (v: Tensor) =
            let parts = if leaves.Length = 1 then [| v |] else v.Split(sizes, 0)
            Tree.unflatten x0 (Array.init leaves.Length (fun i -> parts.[i].Reshape(leaves.[i].Shape)))
        let flat = Tensor.Concat(leaves |> Array.map (fun t -> t.Reshape(-1)), 0)
        let evaluate (v: Tensor) =
            let value, g = gradv (fun (u: Tensor) -> f (toTree u)) v
            value.Item(), g.StopGradient()
        let maxEval = defaultArg config.MaxEval (config.MaxIter * 5 / 4)
        let mutable x = flat
        let mutable loss, flatGrad = evaluate x
        let trace = ResizeArray [ loss ]
        let mutable evals = 1
        let mutable reason = ""
        if maxAbs flatGrad <= config.ToleranceGrad then reason <- "gradient tolerance"
        let oldDirs = ResizeArray<Tensor>()
        let oldSteps = ResizeArray<Tensor>()
        let ro = ResizeArray<float>()
        let mutable hDiag = 1.0
        let mutable d = flatGrad
        let mutable t = 0.0
        let mutable prevGrad = flatGrad
        let mutable iter = 0
        while reason = "" do
            iter <- iter + 1
            if iter = 1 then d <- -flatGrad
            else
                let y = flatGrad - prevGrad
                let s = d * t
                let ys = dot y s
                if ys > 1e-10 then
                    if oldDirs.Count = config.HistorySize then
                        oldDirs.RemoveAt 0; oldSteps.RemoveAt 0; ro.RemoveAt 0
                    oldDirs.Add y; oldSteps.Add s; ro.Add(1.0 / ys)
                    hDiag <- ys / dot y y
                // two-loop recursion: d = -H·g
                let al = Array.zeroCreate oldDirs.Count
                let mutable q = -flatGrad
                for i in oldDirs.Count - 1 .. -1 .. 0 do
                    al.[i] <- dot oldSteps.[i] q * ro.[i]
                    q <- q - oldDirs.[i] * al.[i]
                let mutable r = q * hDiag
                for i in 0 .. oldDirs.Count - 1 do
                    let be = dot oldDirs.[i] r * ro.[i]
                    r <- r + oldSteps.[i] * (al.[i] - be)
                d <- r
            prevGrad <- flatGrad
            let prevLoss = loss
            t <- (if iter = 1 then min 1.0 (1.0 / flatGrad.Abs().Sum().Item()) * config.LearningRate else config.LearningRate)
            let gtd = dot flatGrad d
            if gtd > -config.ToleranceChange then
                iter <- iter - 1 // no step was taken
                reason <- "no descent direction"
            else
                let mutable lsEvals = 0
                let mutable gradDone = false
                if config.StrongWolfe then
                    let xInit = x
                    let fNew, gNew, tNew, n =
                        strongWolfe (fun step -> evaluate (xInit + d * step)) t d loss flatGrad gtd config.ToleranceChange
                    loss <- fNew; flatGrad <- gNew; t <- tNew; lsEvals <- n
                    x <- xInit + d * t
                    gradDone <- maxAbs flatGrad <= config.ToleranceGrad
                else
                    x <- x + d * t
                    if iter <> config.MaxIter then
                        let l, g = evaluate x
                        loss <- l; flatGrad <- g; lsEvals <- 1
                        gradDone <- maxAbs flatGrad <= config.ToleranceGrad
                evals <- evals + lsEvals
                trace.Add loss
                if iter = config.MaxIter then reason <- "max iterations"
                elif evals >= maxEval then reason <- "max evaluations"
                elif gradDone then reason <- "gradient tolerance"
                elif maxAbs (d * t) <= config.ToleranceChange then reason <- "change tolerance"
                elif abs (loss - prevLoss) < config.ToleranceChange then reason <- "change tolerance"
        { Minimizer = toTree x; Loss = loss; Trace = trace.ToArray(); Iterations = iter; FunctionEvaluations = evals; Reason = reason }

    /// `minimizeWith defaults`: at most 20 iterations with the strong-Wolfe line search.
    let minimize (f: 'T -> Tensor) (x0: 'T) = minimizeWith defaults f x0

/// L-BFGS for C# (and any .NET language): the same algorithm as the F# `Lbfgs` module, over one tensor.
[<AbstractClass; Sealed>]
type LbfgsSolver =
    /// Minimizes scalar-valued f from x0 (settings as LbfgsConfig; the defaults are PyTorch's with the strong-Wolfe
    /// line search). Throws ArgumentException for a setting out of range.
    static member Minimize
        (
            f: Func<Tensor, Tensor>,
            x0: Tensor,
            [<Optional; DefaultParameterValue(20)>] maxIter: int,
            [<Optional; DefaultParameterValue(1.0)>] learningRate: float,
            [<Optional; DefaultParameterValue(1e-7)>] toleranceGrad: float,
            [<Optional; DefaultParameterValue(1e-9)>] toleranceChange: float,
            [<Optional; DefaultParameterValue(100)>] historySize: int,
            [<Optional; DefaultParameterValue(true)>] strongWolfe: bool
        ) : LbfgsResult<Tensor> =
        let config =
            { LearningRate = learningRate; MaxIter = maxIter; MaxEval = None; ToleranceGrad = toleranceGrad
              ToleranceChange = toleranceChange; HistorySize = historySize; StrongWolfe = strongWolfe }
        Lbfgs.minimizeWith config (fun x -> f.Invoke x) x0
