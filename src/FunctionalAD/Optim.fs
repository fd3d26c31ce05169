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
/// Settings of NAdam (PyTorch semantics: Adam with Nesterov momentum and the momentum schedule ψ = MomentumDecay).
type NAdamConfig = { LearningRate: Schedule; Beta1: float; Beta2: float; Epsilon: float; WeightDecay: float; MomentumDecay: float }

/// Settings for the parameters whose names `Select` accepts (PyTorch's param_groups for the pure optimizers): a
/// learning-rate schedule and a weight decay of their own, where given. Build with `ParamGroup.prefix` /
/// `ParamGroup.where` and `ParamGroup.learningRate` / `ParamGroup.weightDecay`; apply with `Optim.withGroups`.
type ParamGroup =
    { /// Which parameter paths ("head.w") belong to the group.
      Select: string -> bool
      /// The group's learning rate (None: the optimizer's).
      LearningRate: Schedule option
      /// The group's weight decay (None: the optimizer's).
      WeightDecay: float option }

/// Building parameter groups.
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module ParamGroup =
    /// The parameters whose path satisfies `select`, with the optimizer's settings (until changed below).
    let where (select: string -> bool) = { Select = select; LearningRate = None; WeightDecay = None }
    /// The parameters at `prefix` or under it ("head" selects "head" and "head.w", not "header.w").
    let prefix (prefix: string) = where (fun name -> name = prefix || name.StartsWith(prefix + "."))
    /// The group's own constant learning rate.
    let learningRate (lr: float) (group: ParamGroup) = { group with LearningRate = Some(Schedule.constant lr) }
    /// The group's own learning-rate schedule.
    let schedule (schedule: Schedule) (group: ParamGroup) = { group with LearningRate = Some schedule }
    /// The group's own weight decay.
    let weightDecay (wd: float) (group: ParamGroup) = { group with WeightDecay = Some wd }

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
    /// NAdam.
    | NAdam of NAdamConfig
    /// An optimizer whose parameter groups (chosen by name, first match wins) have settings of their own; the
    /// parameters no group selects keep the optimizer's. Only for Params (names are needed).
    | Grouped of Optimizer * ParamGroup list
    /// The rule and its settings on one line ("Adam (LearningRate = 0.001 (at step 0), Beta1 = 0.9, ...)"); the
    /// learning-rate schedule is shown by its value at step 0. The text F# Interactive and `%A` show.
    member o.Display =
        match o with
        | Optimizer.Grouped (inner, groups) -> sprintf "%s with %d parameter group(s)" inner.Display groups.Length
        | _ ->
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
    /// NAdam (PyTorch's defaults: betas 0.9, 0.999, epsilon 1e-8, momentum decay 4e-3; PyTorch's default lr is 2e-3).
    let nadam (lr: float) =
        Optimizer.NAdam { LearningRate = Schedule.constant lr; Beta1 = 0.9; Beta2 = 0.999; Epsilon = 1e-8; WeightDecay = 0.0; MomentumDecay = 4e-3 }
    /// The same optimizer with parameter groups of their own settings (PyTorch's param_groups), e.g.
    /// `Optim.adam 1e-3 |> Optim.withGroups [ ParamGroup.prefix "head" |> ParamGroup.learningRate 1e-2 ]`.
    /// The first group that selects a parameter's path gives its settings. Only for Params trees.
    let withGroups (groups: ParamGroup list) (opt: Optimizer) =
        match opt with
        | Optimizer.Grouped(inner, existing) -> Optimizer.Grouped(inner, existing @ groups)
        | _ -> Optimizer.Grouped(opt, groups)

    /// The learning rate an optimizer uses at a step (0-based); for a grouped optimizer, that of the parameters
    /// no group selects.
    let rec learningRate (opt: Optimizer) (step: int) =
        match opt with
        | Optimizer.Sgd c -> c.LearningRate step
        | Optimizer.Adam c -> c.LearningRate step
        | Optimizer.RmsProp c -> c.LearningRate step
        | Optimizer.Adagrad c -> c.LearningRate step
        | Optimizer.Adamax c -> c.LearningRate step
        | Optimizer.Lion c -> c.LearningRate step
        | Optimizer.Adadelta c -> c.LearningRate step
        | Optimizer.NAdam c -> c.LearningRate step
        | Optimizer.Grouped(inner, _) -> learningRate inner step

    /// The same optimizer with a learning-rate schedule (for a grouped optimizer: for the parameters no group
    /// gives a learning rate of its own).
    let rec withSchedule (schedule: Schedule) (opt: Optimizer) =
        match opt with
        | Optimizer.Sgd c -> Optimizer.Sgd { c with LearningRate = schedule }
        | Optimizer.Adam c -> Optimizer.Adam { c with LearningRate = schedule }
        | Optimizer.RmsProp c -> Optimizer.RmsProp { c with LearningRate = schedule }
        | Optimizer.Adagrad c -> Optimizer.Adagrad { c with LearningRate = schedule }
        | Optimizer.Adamax c -> Optimizer.Adamax { c with LearningRate = schedule }
        | Optimizer.Lion c -> Optimizer.Lion { c with LearningRate = schedule }
        | Optimizer.Adadelta c -> Optimizer.Adadelta { c with LearningRate = schedule }
        | Optimizer.NAdam c -> Optimizer.NAdam { c with LearningRate = schedule }
        | Optimizer.Grouped(inner, groups) -> Optimizer.Grouped(withSchedule schedule inner, groups)

    /// The same optimizer with a constant learning rate (e.g. the one a `Plateau` schedule gives after an epoch:
    /// `Optim.withLearningRate plateauState.LearningRate opt`; the optimizer state carries over unchanged).
    let withLearningRate (lr: float) (opt: Optimizer) = withSchedule (Schedule.constant lr) opt

    /// The rule (the math, shared with C#: FunctionalAD.Core's UpdateRule), its learning-rate schedule and weight decay.
    let rec private rule (opt: Optimizer) : UpdateRule * Schedule * float =
        match opt with
        | Optimizer.Sgd c -> SgdRule(LearningRate = 0.0, Momentum = c.Momentum, Nesterov = c.Nesterov), c.LearningRate, c.WeightDecay
        | Optimizer.Adam c ->
            AdamRule(LearningRate = 0.0, Beta1 = c.Beta1, Beta2 = c.Beta2, Epsilon = c.Epsilon, Decoupled = c.Decoupled), c.LearningRate, c.WeightDecay
        | Optimizer.RmsProp c -> RmsPropRule(LearningRate = 0.0, Alpha = c.Alpha, Epsilon = c.Epsilon, Momentum = c.Momentum), c.LearningRate, c.WeightDecay
        | Optimizer.Adagrad c -> AdagradRule(LearningRate = 0.0, Epsilon = c.Epsilon), c.LearningRate, c.WeightDecay
        | Optimizer.Adamax c -> AdamaxRule(LearningRate = 0.0, Beta1 = c.Beta1, Beta2 = c.Beta2, Epsilon = c.Epsilon), c.LearningRate, c.WeightDecay
        | Optimizer.Lion c -> LionRule(LearningRate = 0.0, Beta1 = c.Beta1, Beta2 = c.Beta2), c.LearningRate, c.WeightDecay
        | Optimizer.Adadelta c -> AdadeltaRule(LearningRate = 0.0, Rho = c.Rho, Epsilon = c.Epsilon), c.LearningRate, c.WeightDecay
        | Optimizer.NAdam c ->
            NAdamRule(LearningRate = 0.0, Beta1 = c.Beta1, Beta2 = c.Beta2, Epsilon = c.Epsilon, MomentumDecay = c.MomentumDecay), c.LearningRate, c.WeightDecay
        | Optimizer.Grouped(inner, _) -> rule inner

    let private slotCount opt = let r, _, _ = rule opt in r.SlotCount

    /// The initial state for parameters `p` (slots of zeros).
    let init (opt: Optimizer) (p: 'P) : OptimizerState =
        let leaves = Tree.leaves p |> Array.map (fun t -> t.StopGradient())
        { Step = 0; Slots = Array.init (slotCount opt) (fun _ -> leaves |> Array.map Tensor.ZerosLike) }

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
            let update, schedule, weightDecay = rule opt
            // each leaf's learning rate and weight decay: its group's where one selects it, else the optimizer's
            let settings =
                match opt with
                | Optimizer.Grouped(_, groups) ->
                    let names =
                        match box p with
                        | :? Params as pp -> pp.Names
                        | _ -> invalidArg "p" "Optim.step: parameter groups select parameters by name, so the parameters must be a Params"
                    names |> Array.map (fun name ->
                        match groups |> List.tryFind (fun g -> g.Select name) with
                        | Some g -> (defaultArg g.LearningRate schedule) state.Step, defaultArg g.WeightDecay weightDecay
                        | None -> schedule state.Step, weightDecay)
                | _ -> Array.create ps.Length (schedule state.Step, weightDecay)
            let results = Array.init ps.Length (fun i ->
                if ps.[i].Shape <> gs.[i].Shape then
                    raise (ShapeMismatchException("Optim.step", sprintf "parameter %d has shape %s but its gradient has %s" i (Shape.Format ps.[i].Shape) (Shape.Format gs.[i].Shape)))
                let slots = state.Slots |> Array.map (fun s -> s.[i])
                let lr, wd = settings.[i]
                let value = update.UpdateRecycling(ps.[i].StopGradient(), gs.[i].StopGradient(), slots, state.Step, lr, wd)
                value, slots)
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
