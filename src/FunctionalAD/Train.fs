namespace FunctionalAD

open System

/// Settings of `Train.fit`.
type TrainConfig =
    { Epochs: int
      BatchSize: int
      /// Seeds the shuffling of the samples each epoch.
      Seed: uint64
      Optimizer: Optimizer
      /// Show a progress bar with the running loss on the terminal (a line per epoch when output is redirected).
      Progress: bool }

/// What `Train.fitLoader` reports after each epoch.
type EpochLog =
    { /// The epoch (0-based).
      Epoch: int
      /// Optimizer steps taken so far in the run.
      Step: int
      /// Mean training loss over the epoch's batches.
      TrainLoss: float
      /// The learning rate of the epoch's last step (from the optimizer's schedule).
      LearningRate: float
      /// Validation metrics (name, mean over the validation batches); "loss" first when there is a validation loader.
      Validation: (string * float) list }

/// When `Train.fitLoader` calls back.
type Callback<'P> =
    /// After every epoch, with its log and the parameters.
    | EachEpoch of (EpochLog -> 'P -> unit)
    /// Every n optimizer steps, with the step number, the batch loss and the parameters.
    | EverySteps of int * (int -> float -> 'P -> unit)

/// Settings of `Train.fitLoader`.
type FitSettings<'P, 'B> =
    { Epochs: int
      Optimizer: Optimizer
      /// A progress bar per epoch on the terminal (a line per epoch when output is redirected).
      Progress: bool
      /// Evaluated after each epoch: the loss and `Metrics` averaged over its batches.
      Validation: FunctionalAD.Data.IBatchSource<'B> option
      /// Extra validation metrics, each a mean over validation batches (see `Train.accuracy`).
      Metrics: (string * ('P -> 'B -> float)) list
      /// Stop when the monitored value (validation loss, else training loss) has not improved by MinDelta for
      /// Patience epochs.
      EarlyStopping: (int * float) option
      Callbacks: Callback<'P> list
      /// The checkpoint file; None: no checkpoints.
      CheckpointPath: string option
      /// Checkpoint every n optimizer steps (0: never).
      CheckpointEverySteps: int
      /// Checkpoint after each epoch.
      CheckpointEachEpoch: bool
      /// Continue from the checkpoint at CheckpointPath when it exists.
      Resume: bool }

/// Training over data loaders, with validation, callbacks, early stopping and checkpoints.
module Fit =
    /// No validation, metrics, early stopping, callbacks or checkpoints; progress shown.
    let defaults (epochs: int) (optimizer: Optimizer) : FitSettings<'P, 'B> =
        { Epochs = epochs; Optimizer = optimizer; Progress = true; Validation = None; Metrics = []; EarlyStopping = None
          Callbacks = []; CheckpointPath = None; CheckpointEverySteps = 0; CheckpointEachEpoch = false; Resume = false }

    /// The learning rate an optimizer uses at a step (0-based).
    let learningRate (opt: Optimizer) (step: int) = Optim.learningRate opt step

    /// Classification accuracy for a validation metric: the fraction of rows where argmax of `logits` (last dim)
    /// equals the integer `labels`.
    let accuracy (logits: Tensor) (labels: Tensor) =
        let pred = logits.StopGradient().ToDoubleArray()
        let k = logits.Shape.[logits.Rank - 1]
        let y = labels.ToDoubleArray()
        let hits = y |> Array.mapi (fun i label -> let row = pred.[i * k .. i * k + k - 1] in if float (Array.findIndex ((=) (Array.max row)) row) = label then 1 else 0) |> Array.sum
        float hits / float (max 1 y.Length)


/// How `TrainLoader.fitWith` computes gradients and shares results: the seam a data-parallel trainer
/// (FunctionalAD.Distributed) plugs into; `TrainLoader.fit` uses the local defaults.
type FitHooks<'P> =
    { /// The loss value and the gradients at the parameters (local: `gradv`; data-parallel: averaged over ranks).
      ValueAndGrad: ('P -> Tensor) -> 'P -> Tensor * 'P
      /// A number averaged over the processes (the epoch's training loss, so early stopping decides the same
      /// everywhere); the identity for one process.
      MeanAcrossProcesses: float -> float
      /// Whether this process writes checkpoints (data-parallel: rank 0 only).
      WritesCheckpoints: bool }

/// Training over data loaders (`Train.fitLoader` is this module's `fit`).
module TrainLoader =
    /// One process: `Tree.gradv`, no averaging, checkpoints written.
    let localHooks<'P> : FitHooks<'P> = { ValueAndGrad = Tree.gradv; MeanAcrossProcesses = id; WritesCheckpoints = true }

    /// Trains `parameters` to minimise `loss parameters batch` over the loader's batches for `settings.Epochs`
    /// epochs. Returns the parameters, the optimizer state and the log of each epoch (including epochs before a
    /// resume). With CheckpointPath set, checkpoints hold everything needed so that a run stopped at any step and
    /// resumed (Resume = true) ends with bit-identical parameters to an uninterrupted one.
    /// Throws ArgumentException for bad settings; checkpoint errors as `Checkpoint.load`.
    let private run (hooks: FitHooks<'P>) (settings: FitSettings<'P * 'S, 'B>) (loss: 'P -> 'S -> Mode -> 'B -> Tensor * 'S) (parameters: 'P) (modelState: 'S)
                    (stateLeaves: 'S -> Tensor[]) (restoreState: 'S -> Tensor[] -> 'S) (loader: FunctionalAD.Data.IBatchSource<'B>)
        : 'P * 'S * OptimizerState * EpochLog list =
        if settings.Epochs < 0 then invalidArg "settings" "Train.fitLoader: Epochs must be >= 0"
        if settings.CheckpointEverySteps < 0 then invalidArg "settings" "Train.fitLoader: CheckpointEverySteps must be >= 0"
        let inv = Globalization.CultureInfo.InvariantCulture
        let r (x: float) = x.ToString("R", inv)
        let parse (s: string) = Double.Parse(s, inv)
        let mutable p = parameters
        let mutable ms = modelState
        let mutable state = Optim.init settings.Optimizer parameters
        let mutable epoch0, batch0 = 0, 0
        let mutable sum, count = 0.0, 0
        let mutable best, wait = Double.PositiveInfinity, 0
        let history = ResizeArray<EpochLog>()
        let mutable stopped = false
        let resumeFrom =
            match settings.CheckpointPath with
            | Some path when settings.Resume -> Checkpoint.tryLoad parameters path
            | _ -> None
        match resumeFrom with
        | Some c ->
            if c.Optimizer.Slots.Length <> state.Slots.Length then
                invalidArg "settings" (sprintf "Train.fitLoader: the checkpoint's optimizer has %d state slots but %A needs %d" c.Optimizer.Slots.Length settings.Optimizer state.Slots.Length)
            let leaves = stateLeaves modelState
            if c.ModelState.Length <> leaves.Length then
                invalidArg "settings" (sprintf "Train.fitLoader: the checkpoint holds %d model-state tensors but the model has %d" c.ModelState.Length leaves.Length)
            p <- c.Params
            ms <- restoreState modelState c.ModelState
            state <- c.Optimizer
            epoch0 <- c.Position.Epoch
            batch0 <- c.Position.Batch
            let m k = c.Metadata.TryFind k |> Option.defaultValue ""
            sum <- parse (m "fit.epoch_loss_sum")
            count <- int (m "fit.epoch_batches")
            best <- parse (m "fit.best")
            wait <- int (m "fit.wait")
            stopped <- m "fit.stopped" = "true"
            for line in (m "fit.history").Split('\n', StringSplitOptions.RemoveEmptyEntries) do
                let f = line.Split ';'
                history.Add { Epoch = int f.[0]; Step = int f.[1]; TrainLoss = parse f.[2]; LearningRate = parse f.[3]
                              Validation = [ for kv in f.[4..] -> let i = kv.LastIndexOf '=' in kv.Substring(0, i), parse (kv.Substring(i + 1)) ] }
        | None -> ()
        let checkpoint (pos: FunctionalAD.Data.LoaderPosition) =
            match settings.CheckpointPath with
            | None -> ()
            | Some _ when not hooks.WritesCheckpoints -> ()
            | Some path ->
                let hist =
                    [ for h in history -> String.Join(";", [ string h.Epoch; string h.Step; r h.TrainLoss; r h.LearningRate ] @ [ for n, v in h.Validation -> n + "=" + r v ]) ]
                Checkpoint.save path
                    { Params = p; Optimizer = state; ModelState = stateLeaves ms; Position = pos; Generator = None
                      Metadata = Map.ofList [ "fit.epoch_loss_sum", r sum; "fit.epoch_batches", string count; "fit.best", r best
                                              "fit.wait", string wait; "fit.stopped", (if stopped then "true" else "false")
                                              "fit.history", String.Join("\n", hist) ] }
        let interactive = settings.Progress && not Console.IsOutputRedirected
        let batches = loader.BatchesPerEpoch
        let mutable epoch = epoch0
        while epoch < settings.Epochs && not stopped do
            let mutable b = if epoch = epoch0 then batch0 else 0
            for batch in loader.Batches(epoch, b) do
                let mode = Mode.TrainStep(0UL, state.Step)
                let next = ref ms
                let value, grads = hooks.ValueAndGrad (fun q -> let l, s' = loss q ms mode batch in next.Value <- s'; l) p
                let p', s' = Optim.step settings.Optimizer state p grads
                p <- p'
                ms <- next.Value
                state <- s'
                b <- b + 1
                let v = value.Item()
                sum <- sum + v
                count <- count + 1
                if settings.CheckpointEverySteps > 0 && state.Step % settings.CheckpointEverySteps = 0 then
                    checkpoint (FunctionalAD.Data.LoaderPosition(epoch, b))
                for cb in settings.Callbacks do
                    match cb with
                    | EverySteps(n, f) when n > 0 && state.Step % n = 0 -> f state.Step v (p, ms)
                    | _ -> ()
                if interactive then
                    Console.Write(sprintf "\repoch %d/%d [%s] loss %.6f " (epoch + 1) settings.Epochs (String('#', 30 * b / max 1 batches) + String('.', 30 - 30 * b / max 1 batches)) (sum / float count))
            let validation =
                match settings.Validation with
                | None -> []
                | Some v ->
                    let totals = Array.zeroCreate (1 + settings.Metrics.Length)
                    let mutable n = 0
                    for batch in v.Batches(0, 0) do
                        totals.[0] <- totals.[0] + noGrad (fun () -> (fst (loss p ms Mode.Eval batch)).Item())
                        settings.Metrics |> List.iteri (fun i (_, m) -> totals.[i + 1] <- totals.[i + 1] + m (p, ms) batch)
                        n <- n + 1
                    ("loss" :: List.map fst settings.Metrics) |> List.mapi (fun i name -> name, totals.[i] / float (max 1 n))
            let log = { Epoch = epoch; Step = state.Step; TrainLoss = hooks.MeanAcrossProcesses (sum / float (max 1 count))
                        LearningRate = Fit.learningRate settings.Optimizer (max 0 (state.Step - 1)); Validation = validation }
            history.Add log
            if interactive then Console.WriteLine()
            elif settings.Progress then
                printfn "epoch %d/%d loss %.6f lr %g%s" (epoch + 1) settings.Epochs log.TrainLoss log.LearningRate
                    (String.Join("", [ for n, x in validation -> sprintf " val_%s %.6f" n x ]))
            for cb in settings.Callbacks do
                match cb with
                | EachEpoch f -> f log (p, ms)
                | _ -> ()
            match settings.EarlyStopping with
            | Some(patience, minDelta) ->
                let monitored = match validation with (_, x) :: _ -> x | [] -> log.TrainLoss
                if monitored < best - minDelta then
                    best <- monitored
                    wait <- 0
                else
                    wait <- wait + 1
                    if wait >= patience then stopped <- true
            | None -> ()
            epoch <- epoch + 1
            sum <- 0.0
            count <- 0
            if settings.CheckpointEachEpoch then checkpoint (FunctionalAD.Data.LoaderPosition(epoch, 0))
        p, ms, state, List.ofSeq history

    /// `fit` with its gradient computation and its cross-process steps given by `hooks` (see FitHooks; the
    /// data-parallel trainer of FunctionalAD.Distributed plugs in here). Throws as `fit`.
    let fitWith (hooks: FitHooks<'P>) (settings: FitSettings<'P, 'B>) (loss: 'P -> 'B -> Tensor) (parameters: 'P) (loader: FunctionalAD.Data.IBatchSource<'B>)
        : 'P * OptimizerState * EpochLog list =
        let lifted : FitSettings<'P * unit, 'B> =
            { Epochs = settings.Epochs; Optimizer = settings.Optimizer; Progress = settings.Progress
              Validation = settings.Validation; EarlyStopping = settings.EarlyStopping
              Metrics = [ for name, m in settings.Metrics -> name, (fun (p, ()) b -> m p b) ]
              Callbacks =
                [ for cb in settings.Callbacks ->
                    match cb with
                    | EachEpoch f -> EachEpoch(fun log (p, ()) -> f log p)
                    | EverySteps(n, f) -> EverySteps(n, fun step v (p, ()) -> f step v p) ]
              CheckpointPath = settings.CheckpointPath; CheckpointEverySteps = settings.CheckpointEverySteps
              CheckpointEachEpoch = settings.CheckpointEachEpoch; Resume = settings.Resume }
        let p, (), opt, log = run hooks lifted (fun q () _ batch -> loss q batch, ()) parameters () (fun () -> [||]) (fun () _ -> ()) loader
        p, opt, log

    /// Trains a model with state and mode (batch norm, dropout) over the loader's batches: as `fit`, but the loss gets
    /// the parameters, the model state, the mode and a batch and returns (loss, new state), usually through
    /// `Model.applyWithState`. Training steps run in Mode.Train with a key per step (`Mode.TrainStep(0UL, step)`, so
    /// a resumed run draws the same masks), the validation loss in Mode.Eval; metrics and callbacks receive (parameters, state); checkpoints hold
    /// the state too. Returns the parameters, the state, the optimizer state and the log of each epoch.
    let fitWithState (settings: FitSettings<'P * 'S, 'B>) (loss: 'P -> 'S -> Mode -> 'B -> Tensor * 'S) (parameters: 'P) (modelState: 'S)
                     (loader: FunctionalAD.Data.IBatchSource<'B>) : 'P * 'S * OptimizerState * EpochLog list =
        run localHooks settings loss parameters modelState Tree.leaves Tree.unflatten loader

    /// Trains `parameters` to minimise `loss parameters batch` over the loader's batches for `settings.Epochs`
    /// epochs. Returns the parameters, the optimizer state and the log of each epoch (including epochs before a
    /// resume). With CheckpointPath set, checkpoints hold everything needed so that a run stopped at any step and
    /// resumed (Resume = true) ends with bit-identical parameters to an uninterrupted one.
    /// Throws ArgumentException for bad settings; checkpoint errors as `Checkpoint.load`.
    let fit (settings: FitSettings<'P, 'B>) (loss: 'P -> 'B -> Tensor) (parameters: 'P) (loader: FunctionalAD.Data.IBatchSource<'B>)
        : 'P * OptimizerState * EpochLog list =
        fitWith localHooks settings loss parameters loader

/// Training loops over mini-batches.
module Train =
    /// Default settings: 100 epochs, batches of 32, seed 0, SGD 0.01, progress shown.
    let defaults = { Epochs = 100; BatchSize = 32; Seed = 0UL; Optimizer = Optim.sgd 0.01; Progress = true }

    let private shuffled (g: Generator) n =
        let idx = Array.init n int64
        for i in n - 1 .. -1 .. 1 do
            let j = int (g.NextInt64(0L, int64 i + 1L))
            let t = idx.[i]
            idx.[i] <- idx.[j]
            idx.[j] <- t
        idx

    let private bar (width: int) (fraction: float) =
        let filled = int (fraction * float width)
        String('#', filled) + String('.', width - filled)

    /// Trains a model with state and mode (batch norm, dropout) over the rows of x and y, shuffling each epoch: the
    /// loss gets the parameters, the model state, the mode and a batch and returns (loss, new state), usually through
    /// `Model.applyWithState`; each step runs in Mode.Train with its own key (`Mode.TrainStep(config.Seed, step)`).
    /// Returns the trained parameters, the final state and the mean loss of each epoch. Evaluate afterwards in
    /// Mode.Eval (`Model.applyEval`). Throws ShapeMismatchException when x and y have different numbers of rows,
    /// ArgumentException for bad settings.
    let fitWithState (config: TrainConfig) (loss: 'P -> 'S -> Mode -> Tensor -> Tensor -> Tensor * 'S) (parameters: 'P) (modelState: 'S)
                     (x: Tensor) (y: Tensor) : 'P * 'S * float[] =
        if config.Epochs < 0 || config.BatchSize < 1 then invalidArg "config" "Train.fit: Epochs must be >= 0 and BatchSize >= 1"
        if x.Rank = 0 || y.Rank = 0 || x.Shape.[0] <> y.Shape.[0] then
            raise (ShapeMismatchException("Train.fit", sprintf "x %s and y %s must have the same number of rows" (Shape.Format x.Shape) (Shape.Format y.Shape)))
        let n = x.Shape.[0]
        let g = Generator config.Seed
        let interactive = config.Progress && not Console.IsOutputRedirected
        let mutable p = parameters
        let mutable ms = modelState
        let mutable state = Optim.init config.Optimizer parameters
        let history = Array.zeroCreate config.Epochs
        for epoch in 0 .. config.Epochs - 1 do
            let order = shuffled g n
            let batches = (n + config.BatchSize - 1) / config.BatchSize
            let mutable total = 0.0
            for b in 0 .. batches - 1 do
                let idx = Tensor.FromArray(order.[b * config.BatchSize .. min n ((b + 1) * config.BatchSize) - 1]).ToDevice x.Device
                let xb, yb = x.IndexSelect(0, idx), y.IndexSelect(0, idx)
                let mode = Mode.TrainStep(config.Seed, state.Step)
                let next = ref ms
                let value, grads = Tree.gradv (fun q -> let l, s' = loss q ms mode xb yb in next.Value <- s'; l) p
                let p', s' = Optim.step config.Optimizer state p grads
                p <- p'
                ms <- next.Value
                state <- s'
                total <- total + value.Item()
                if interactive then
                    Console.Write(sprintf "\repoch %d/%d [%s] loss %.6f " (epoch + 1) config.Epochs (bar 30 (float (b + 1) / float batches)) (total / float (b + 1)))
            history.[epoch] <- total / float batches
            // redirected output (logs, CI): about ten lines per run
            if config.Progress && not interactive && ((epoch + 1) % max 1 (config.Epochs / 10) = 0 || epoch + 1 = config.Epochs) then
                printfn "epoch %d/%d loss %.6f" (epoch + 1) config.Epochs history.[epoch]
        if interactive then Console.WriteLine()
        p, ms, history

    /// Trains `parameters` to minimise `loss parameters xBatch yBatch` over the rows of x and y (first dimension:
    /// samples), shuffling each epoch. Returns the trained parameters and the mean loss of each epoch.
    /// Throws ShapeMismatchException when x and y have different numbers of rows, ArgumentException for bad settings.
    let fit (config: TrainConfig) (loss: 'P -> Tensor -> Tensor -> Tensor) (parameters: 'P) (x: Tensor) (y: Tensor) : 'P * float[] =
        let p, (), history = fitWithState config (fun q () _ xb yb -> loss q xb yb, ()) parameters () x y
        p, history

    /// Trains over a data loader (see `TrainLoader.fit`): validation and metrics, callbacks, early stopping,
    /// checkpoints and resume. Returns the parameters, the optimizer state and the log of each epoch.
    let fitLoader (settings: FitSettings<'P, 'B>) (loss: 'P -> 'B -> Tensor) (parameters: 'P) (loader: FunctionalAD.Data.IBatchSource<'B>) =
        TrainLoader.fit settings loss parameters loader

    /// Trains a model with state and mode over a data loader (see `TrainLoader.fitWithState`): training steps in
    /// Mode.Train, validation in Mode.Eval. Returns the parameters, the model state, the optimizer state and the log.
    let fitLoaderWithState (settings: FitSettings<'P * 'S, 'B>) (loss: 'P -> 'S -> Mode -> 'B -> Tensor * 'S) (parameters: 'P) (modelState: 'S)
                           (loader: FunctionalAD.Data.IBatchSource<'B>) =
        TrainLoader.fitWithState settings loss parameters modelState loader
