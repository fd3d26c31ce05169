namespace FunctionalAD

open System

/// A learning rate as a function of the step number (0-based).
type Schedule = int -> float

/// Learning-rate schedules.
module Schedule =
    /// The same rate every step.
    let constant (lr: float) : Schedule = fun _ -> lr
    /// lr · gamma^(step / every).
    let stepDecay (lr: float) (every: int) (gamma: float) : Schedule = fun t -> lr * gamma ** float (t / max 1 every)
    /// lr · gamma^step.
    let exponential (lr: float) (gamma: float) : Schedule = fun t -> lr * gamma ** float t
    /// Cosine annealing from lr to minLr over `steps` steps (then minLr).
    let cosine (lr: float) (minLr: float) (steps: int) : Schedule =
        fun t -> if t >= steps then minLr else minLr + 0.5 * (lr - minLr) * (1.0 + cos (Math.PI * float t / float steps))
    /// Linear warm-up over `steps` steps into `after`.
    let warmup (steps: int) (after: Schedule) : Schedule = fun t -> if t < steps then after t * float (t + 1) / float steps else after t
    /// PyTorch's OneCycleLR (cosine annealing, pct_start 0.3, div_factor 25, final_div_factor 1e4): from maxLr/25 up
    /// to maxLr over the first 30% of `totalSteps`, then down to maxLr/25/1e4 at the last step.
    let oneCycle (maxLr: float) (totalSteps: int) : Schedule =
        let initial, final = maxLr / 25.0, maxLr / 25.0 / 1e4
        let up = float (max 1 (int (0.3 * float totalSteps) - 1))
        let down = float (max 1 (totalSteps - 1 - int up))
        let anneal (a: float) (b: float) (f: float) = b + (a - b) / 2.0 * (1.0 + cos (Math.PI * min 1.0 f))
        fun t ->
            let t = float t
            if t <= up then anneal initial maxLr (t / up) else anneal maxLr final ((t - up) / down)

/// Settings of stochastic gradient descent (PyTorch semantics).
type SgdConfig = { LearningRate: Schedule; Momentum: float; Nesterov: bool; WeightDecay: float }
/// Settings of Adam / AdamW.
type AdamConfig = { LearningRate: Schedule; Beta1: float; Beta2: float; Epsilon: float; WeightDecay: float; Decoupled: bool }
/// Settings of RMSProp.
type RmsPropConfig = { LearningRate: Schedule; Alpha: float; Epsilon: float; Momentum: float; WeightDecay: float }
/// Settings of Adagrad (PyTorch semantics, no learning-rate decay, accumulator starting at 0).
type AdagradConfig = { LearningRate: Schedule; Epsilon: float; WeightDecay: float }
/// Settings of Adamax (Adam with the infinity norm).
type AdamaxConfig = { LearningRate: Schedule; Beta1: float; Beta2: float; Epsilon: float; WeightDecay: float }
/// Settings of Adadelta (PyTorch semantics).
type AdadeltaConfig = { LearningRate: Schedule; Rho: float; Epsilon: float; WeightDecay: float }
/// Settings of Lion (sign of an interpolated momentum; decoupled weight decay).
type LionConfig = { LearningRate: Schedule; Beta1: float; Beta2: float; WeightDecay: float }

/// An optimizer: a pure value describing an update rule (optax's GradientTransformation; in PyTorch the rule and
/// its state live together in a torch.optim.Optimizer, here `FunctionalAD.Imperative.ParameterOptimizer`). Build one
/// with `Optim.sgd`, `Optim.adam`... (C#: `Optim.Sgd`, `Optim.Adam`...) and apply it with `Optim.init`/`Optim.step`.
/// Cases are qualified (`Optimizer.Sgd cfg`) so they never clash with the imperative `Sgd` and `Adam` classes.
[<RequireQualifiedAccess; StructuredFormatDisplay("{Display}")>]
type Optimizer =
    /// Stochastic gradient descent.
    | Sgd of SgdConfig
    /// Adam / AdamW.
    | Adam of AdamConfig
    /// RMSProp.
    | RmsProp of RmsPropConfig
    /// Adagrad.
    | Adagrad of AdagradConfig
    /// Adamax.
    | Adamax of AdamaxConfig
    /// Lion (Chen et al. 2023).
    | Lion of LionConfig
    /// Adadelta.
    | Adadelta of AdadeltaConfig
    /// The rule and its settings on one line ("Adam (LearningRate = 0.001 (at step 0), Beta1 = 0.9, ...)"); the
    /// learning-rate schedule is shown by its value at step 0. The text F# Interactive and `%A` show.
    member o.Display =
        let case, fields = Reflection.FSharpValue.GetUnionFields(o, typeof<Optimizer>)
        let config = fields.[0]
        let settings =
            Reflection.FSharpType.GetRecordFields(config.GetType())
            |> Array.map (fun f ->
                match f.GetValue config with
                | :? Schedule as lr -> sprintf "%s = %g (at step 0)" f.Name (lr 0)
                | :? float as x -> sprintf "%s = %g" f.Name x
                | v -> sprintf "%s = %A" f.Name v)
        sprintf "%s (%s)" case.Name (String.concat ", " settings)
    /// As Display.
    override o.ToString() = o.Display

/// An optimizer's state: the step count and per-parameter slots (momentum buffers, moment estimates), immutable;
/// each `Optim.step` returns a new one.
[<StructuredFormatDisplay("{Display}")>]
type OptimizerState =
    { /// Steps taken so far.
      Step: int
      /// Slot k holds one tensor per parameter, in `Tree.leaves` order (shaped like that parameter).
      Slots: Tensor[][] }
    /// "OptimizerState (step n, k slots of m tensors)": the text F# Interactive and `%A` show.
    member s.Display =
        match s.Slots.Length with
        | 0 -> sprintf "OptimizerState (step %d, no slots)" s.Step
        | k -> sprintf "OptimizerState (step %d, %d slot%s of %d tensors)" s.Step k (if k = 1 then "" else "s") s.Slots.[0].Length
    /// As Display.
    override s.ToString() = s.Display

/// Optimizers as pure functions (optax-style): `let p', s' = Optim.step opt s p g`. Parameters and gradients
/// are any tree of tensors (Params, tuples, records...).
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Optim =
    /// Plain SGD.
    let sgd (lr: float) = Optimizer.Sgd { LearningRate = Schedule.constant lr; Momentum = 0.0; Nesterov = false; WeightDecay = 0.0 }
    /// SGD with (heavy-ball) momentum.
    let momentum (lr: float) (beta: float) = Optimizer.Sgd { LearningRate = Schedule.constant lr; Momentum = beta; Nesterov = false; WeightDecay = 0.0 }
    /// SGD with Nesterov momentum.
    let nesterov (lr: float) (beta: float) = Optimizer.Sgd { LearningRate = Schedule.constant lr; Momentum = beta; Nesterov = true; WeightDecay = 0.0 }
    /// Adam (betas 0.9, 0.999, epsilon 1e-8).
    let adam (lr: float) = Optimizer.Adam { LearningRate = Schedule.constant lr; Beta1 = 0.9; Beta2 = 0.999; Epsilon = 1e-8; WeightDecay = 0.0; Decoupled = false }
    /// AdamW: Adam with decoupled weight decay.
    let adamW (lr: float) (weightDecay: float) =
        Optimizer.Adam { LearningRate = Schedule.constant lr; Beta1 = 0.9; Beta2 = 0.999; Epsilon = 1e-8; WeightDecay = weightDecay; Decoupled = true }
    /// RMSProp (alpha 0.99, epsilon 1e-8).
    let rmsprop (lr: float) = Optimizer.RmsProp { LearningRate = Schedule.constant lr; Alpha = 0.99; Epsilon = 1e-8; Momentum = 0.0; WeightDecay = 0.0 }

    /// Adagrad (epsilon 1e-10).
    let adagrad (lr: float) = Optimizer.Adagrad { LearningRate = Schedule.constant lr; Epsilon = 1e-10; WeightDecay = 0.0 }
    /// Adamax (betas 0.9, 0.999, epsilon 1e-8).
    let adamax (lr: float) = Optimizer.Adamax { LearningRate = Schedule.constant lr; Beta1 = 0.9; Beta2 = 0.999; Epsilon = 1e-8; WeightDecay = 0.0 }
    /// Adadelta (rho 0.9, epsilon 1e-6; PyTorch's default learning rate is 1).
    let adadelta (lr: float) = Optimizer.Adadelta { LearningRate = Schedule.constant lr; Rho = 0.9; Epsilon = 1e-6; WeightDecay = 0.0 }
    /// Lion (betas 0.9, 0.99), with decoupled weight decay.
    let lion (lr: float) (weightDecay: float) = Optimizer.Lion { LearningRate = Schedule.constant lr; Beta1 = 0.9; Beta2 = 0.99; WeightDecay = weightDecay }

    /// The learning rate an optimizer uses at a step (0-based).
    let learningRate (opt: Optimizer) (step: int) =
        match opt with
        | Optimizer.Sgd c -> c.LearningRate step
        | Optimizer.Adam c -> c.LearningRate step
        | Optimizer.RmsProp c -> c.LearningRate step
        | Optimizer.Adagrad c -> c.LearningRate step
        | Optimizer.Adamax c -> c.LearningRate step
        | Optimizer.Lion c -> c.LearningRate step
        | Optimizer.Adadelta c -> c.LearningRate step

    /// The same optimizer with a learning-rate schedule.
    let withSchedule (schedule: Schedule) (opt: Optimizer) =
        match opt with
        | Optimizer.Sgd c -> Optimizer.Sgd { c with LearningRate = schedule }
        | Optimizer.Adam c -> Optimizer.Adam { c with LearningRate = schedule }
        | Optimizer.RmsProp c -> Optimizer.RmsProp { c with LearningRate = schedule }
        | Optimizer.Adagrad c -> Optimizer.Adagrad { c with LearningRate = schedule }
        | Optimizer.Adamax c -> Optimizer.Adamax { c with LearningRate = schedule }
        | Optimizer.Lion c -> Optimizer.Lion { c with LearningRate = schedule }
        | Optimizer.Adadelta c -> Optimizer.Adadelta { c with LearningRate = schedule }

    let private slotCount opt =
        match opt with
        | Optimizer.Sgd c -> if c.Momentum = 0.0 then 0 else 1
        | Optimizer.Adam _ -> 2
        | Optimizer.RmsProp c -> if c.Momentum = 0.0 then 1 else 2
        | Optimizer.Adagrad _ -> 1
        | Optimizer.Adamax _ -> 2
        | Optimizer.Lion _ -> 1
        | Optimizer.Adadelta _ -> 2

    /// The initial state for parameters `p` (slots of zeros).
    let init (opt: Optimizer) (p: 'P) : OptimizerState =
        let leaves = Tree.leaves p |> Array.map (fun t -> t.StopGradient())
        { Step = 0; Slots = Array.init (slotCount opt) (fun _ -> leaves |> Array.map Tensor.ZerosLike) }

    let private update opt (t: int) (slots: Tensor[]) (p: Tensor) (g: Tensor) : Tensor * Tensor[] =
        match opt with
        | Optimizer.Sgd c ->
            let g = if c.WeightDecay = 0.0 then g else g + c.WeightDecay * p
            if c.Momentum = 0.0 then p - c.LearningRate t * g, slots
            else
                let buf = if t = 0 then g else c.Momentum * slots.[0] + g
                let dir = if c.Nesterov then g + c.Momentum * buf else buf
                p - c.LearningRate t * dir, [| buf |]
        | Optimizer.Adam c ->
            let lr = c.LearningRate t
            let g, p = if c.WeightDecay = 0.0 then g, p
                       elif c.Decoupled then g, p - lr * c.WeightDecay * p
                       else g + c.WeightDecay * p, p
            let m = c.Beta1 * slots.[0] + (1.0 - c.Beta1) * g
            let v = c.Beta2 * slots.[1] + (1.0 - c.Beta2) * g * g
            let mHat = m / (1.0 - c.Beta1 ** float (t + 1))
            let vHat = v / (1.0 - c.Beta2 ** float (t + 1))
            p - lr * mHat / (vHat.Sqrt() + c.Epsilon), [| m; v |]
        | Optimizer.RmsProp c ->
            let g = if c.WeightDecay = 0.0 then g else g + c.WeightDecay * p
            let v = c.Alpha * slots.[0] + (1.0 - c.Alpha) * g * g
            let step = g / (v.Sqrt() + c.Epsilon)
            if c.Momentum = 0.0 then p - c.LearningRate t * step, [| v |]
            else
                let buf = c.Momentum * slots.[1] + step
                p - c.LearningRate t * buf, [| v; buf |]
        | Optimizer.Adagrad c ->
            let g = if c.WeightDecay = 0.0 then g else g + c.WeightDecay * p
            let sum = slots.[0] + g * g
            p - c.LearningRate t * g / (sum.Sqrt() + c.Epsilon), [| sum |]
        | Optimizer.Adamax c ->
            let g = if c.WeightDecay = 0.0 then g else g + c.WeightDecay * p
            let m = c.Beta1 * slots.[0] + (1.0 - c.Beta1) * g
            let u = (c.Beta2 * slots.[1]).Maximum(g.Abs() + c.Epsilon)
            p - (c.LearningRate t / (1.0 - c.Beta1 ** float (t + 1))) * m / u, [| m; u |]
        | Optimizer.Lion c ->
            let lr = c.LearningRate t
            let direction = (c.Beta1 * slots.[0] + (1.0 - c.Beta1) * g).Sign()
            let p = if c.WeightDecay = 0.0 then p else p - lr * c.WeightDecay * p
            p - lr * direction, [| c.Beta2 * slots.[0] + (1.0 - c.Beta2) * g |]
        | Optimizer.Adadelta c ->
            let g = if c.WeightDecay = 0.0 then g else g + c.WeightDecay * p
            let v = c.Rho * slots.[0] + (1.0 - c.Rho) * g * g
            let delta = (slots.[1] + c.Epsilon).Sqrt() / (v + c.Epsilon).Sqrt() * g
            p - c.LearningRate t * delta, [| v; c.Rho * slots.[1] + (1.0 - c.Rho) * delta * delta |]

    /// One update: new parameters and new state. Gradients must have the parameters' structure and shapes (for
    /// Params: the same names). Throws ArgumentException when the names differ or the state was created for another
    /// number of tensors, ShapeMismatchException when a gradient's shape differs from its parameter's.
    let step (opt: Optimizer) (state: OptimizerState) (p: 'P) (grads: 'P) : 'P * OptimizerState =
        noGrad (fun () ->
            let ps, gs = Tree.leaves p, Tree.leaves grads
            if ps.Length <> gs.Length then invalidArg "grads" (sprintf "Optim.step: %d parameters but %d gradients" ps.Length gs.Length)
            // Params pair by name, not by position: gradients of another model must not be applied silently.
            match box p, box grads with
            | (:? Params as pp), (:? Params as gp) when pp.Names <> gp.Names ->
                let missing = Set.difference (set pp.Names) (set gp.Names) |> Set.toList
                let extra = Set.difference (set gp.Names) (set pp.Names) |> Set.toList
                invalidArg "grads" (sprintf "Optim.step: the gradients are not those of these parameters: no gradient for %A, gradients for unknown %A" missing extra)
            | _ -> ()
            if state.Slots |> Array.exists (fun s -> s.Length <> ps.Length) then
                invalidArg "state" (sprintf "Optim.step: the state was created for another set of parameters (expected %d tensors)" ps.Length)
            let results = Array.init ps.Length (fun i ->
                if ps.[i].Shape <> gs.[i].Shape then
                    raise (ShapeMismatchException("Optim.step", sprintf "parameter %d has shape %s but its gradient has %s" i (Shape.Format ps.[i].Shape) (Shape.Format gs.[i].Shape)))
                update opt state.Step (state.Slots |> Array.map (fun s -> s.[i])) (ps.[i].StopGradient()) (gs.[i].StopGradient()))
            let newP = Tree.unflatten p (results |> Array.map fst)
            let slots = Array.init state.Slots.Length (fun k -> results |> Array.map (fun (_, s) -> s.[k]))
            newP, { Step = state.Step + 1; Slots = slots })

    /// Gradients scaled so that their global 2-norm (over every tensor of the tree) is at most `maxNorm`, and that
    /// norm before clipping (PyTorch's clip_grad_norm_). Throws ArgumentException for maxNorm ≤ 0.
    let clipGradNorm (maxNorm: float) (grads: 'P) : 'P * float =
        if maxNorm <= 0.0 then invalidArg "maxNorm" (sprintf "Optim.clipGradNorm: maxNorm must be > 0, got %g" maxNorm)
        noGrad (fun () ->
            let gs = Tree.leaves grads
            let total = gs |> Array.sumBy (fun g -> (g.To(DType.Float64).Square().Sum()).Item()) |> sqrt
            let scale = maxNorm / (total + 1e-6)
            (if scale < 1.0 then Tree.unflatten grads (gs |> Array.map (fun g -> g * scale)) else grads), total)

    /// Gradients clamped elementwise to [-clip, clip] (PyTorch's clip_grad_value_). Throws ArgumentException for clip ≤ 0.
    let clipGradValue (clip: float) (grads: 'P) : 'P =
        if clip <= 0.0 then invalidArg "clip" (sprintf "Optim.clipGradValue: clip must be > 0, got %g" clip)
        noGrad (fun () -> Tree.unflatten grads (Tree.leaves grads |> Array.map (fun g -> g.Clamp(-clip, clip))))
