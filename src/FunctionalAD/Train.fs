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

    /// Trains `parameters` to minimise `loss parameters xBatch yBatch` over the rows of x and y (first dimension:
    /// samples), shuffling each epoch. Returns the trained parameters and the mean loss of each epoch.
    /// Throws ShapeMismatchException when x and y have different numbers of rows, ArgumentException for bad settings.
    let fit (config: TrainConfig) (loss: 'P -> Tensor -> Tensor -> Tensor) (parameters: 'P) (x: Tensor) (y: Tensor) : 'P * float[] =
        if config.Epochs < 0 || config.BatchSize < 1 then invalidArg "config" "Train.fit: Epochs must be >= 0 and BatchSize >= 1"
        if x.Rank = 0 || y.Rank = 0 || x.Shape.[0] <> y.Shape.[0] then
            raise (ShapeMismatchException("Train.fit", sprintf "x %s and y %s must have the same number of rows" (Shape.Format x.Shape) (Shape.Format y.Shape)))
        let n = x.Shape.[0]
        let g = Generator config.Seed
        let interactive = config.Progress && not Console.IsOutputRedirected
        let mutable p = parameters
        let mutable state = Optim.init config.Optimizer parameters
        let history = Array.zeroCreate config.Epochs
        for epoch in 0 .. config.Epochs - 1 do
            let order = shuffled g n
            let batches = (n + config.BatchSize - 1) / config.BatchSize
            let mutable total = 0.0
            for b in 0 .. batches - 1 do
                let idx = Tensor.FromArray(order.[b * config.BatchSize .. min n ((b + 1) * config.BatchSize) - 1]).ToDevice x.Device
                let xb, yb = x.IndexSelect(0, idx), y.IndexSelect(0, idx)
                let value, grads = gradv (fun q -> loss q xb yb) p
                let p', s' = Optim.step config.Optimizer state p grads
                p <- p'
                state <- s'
                total <- total + value.Item()
                if interactive then
                    Console.Write(sprintf "\repoch %d/%d [%s] loss %.6f " (epoch + 1) config.Epochs (bar 30 (float (b + 1) / float batches)) (total / float (b + 1)))
            history.[epoch] <- total / float batches
            // redirected output (logs, CI): about ten lines per run
            if config.Progress && not interactive && ((epoch + 1) % max 1 (config.Epochs / 10) = 0 || epoch + 1 = config.Epochs) then
                printfn "epoch %d/%d loss %.6f" (epoch + 1) config.Epochs history.[epoch]
        if interactive then Console.WriteLine()
        p, history
