// Tests of FunctionalAD.Distributed, run as `mpirun.mpich -np N dotnet FunctionalAD.Distributed.Tests.dll MODE`
// (or without mpirun: a world of one process). Every check is agreed on by all ranks (an all-reduce of the
// failures) and printed once, by rank 0, as "check: NAME: ok" or "check: NAME: FAILED".
open System
open System.Diagnostics
open FunctionalAD

let mutable failures = 0

/// A collective: every rank calls it with its own verdict; rank 0 prints the verdict of all.
let check (world: World) (name: string) (ok: bool) =
    let bad = world.AllReduce((if ok then 0.0 else 1.0), ReduceOp.Sum)
    if bad > 0.0 then failures <- failures + 1
    if world.IsMain then
        printfn "check: %s (np %d): %s" name world.Size (if bad = 0.0 then "ok" else sprintf "FAILED on %g rank(s)" bad |> fun s -> "FAILED")
        Console.Out.Flush()

let maxAbsDiff (a: 'T) (b: 'T) =
    Array.map2 (fun (x: Tensor) (y: Tensor) -> if x.Numel = 0 then 0.0 else (x.To(DType.Float64) - y.To(DType.Float64)).Abs().Max().Item())
        (Tree.leaves a) (Tree.leaves b)
    |> Array.fold max 0.0

// ---------------------------------------------------------------------------------------------------------------
// parity: data-parallel training equals one process on the same global batch

let mlp = nn.mlp [ 4; 16; 16; 3 ] nn.tanh
let cnn = nn.sequential [ nn.conv2d 1 4 3; nn.fn nn.relu; nn.flatten; nn.linear (4 * 4 * 4) 3 ]

let parity (world: World) (name: string) (net: Model<Tensor -> Tensor>) (inputShape: int list) (dtype: DType) (tol: float) =
    let batch = 12
    let g = Generator 11UL
    let x = Tensor.Randn(Array.ofList (batch :: inputShape), g, dtype)
    let y = Tensor.FromArray(Array.init batch (fun i -> int64 (i % 3)))
    let p0, apply = Model.init 1UL net
    let p0 = Tree.map (fun t -> t.To dtype) p0
    let opt = Optim.adam 0.01
    let loss xb yb (p: Params) = Loss.crossEntropy (apply p xb) yb
    // one process, the whole global batch
    let mutable pRef, sRef = p0, Optim.init opt p0
    for _ in 1 .. 50 do
        let _, gr = Tree.gradv (loss x y) pRef
        let p', s' = Optim.step opt sRef pRef gr
        pRef <- p'
        sRef <- s'
    // every rank its share of the rows; small buckets so that several all-reduces run during the backward pass
    let share = batch / world.Size
    let rows = Tensor.FromArray(Array.init share (fun i -> int64 (world.Rank * share + i)))
    let xs, ys = x.IndexSelect(0, rows), y.IndexSelect(0, rows)
    let p0 = Distributed.broadcast world p0
    let reducer = DataParallel(world, Tree.leaves p0, bucketBytes = 256)
    let mutable p, s = p0, Optim.init opt p0
    let mutable startedEarly = 0
    for _ in 1 .. 50 do
        let p', s', _ = Distributed.step reducer opt s (loss xs ys) p
        p <- p'
        s <- s'
        startedEarly <- startedEarly + reducer.LastStep.StartedDuringBackward
    let diff = maxAbsDiff p pRef
    if world.IsMain then printfn "  %s %A: max |data-parallel - single process| = %.3g after 50 steps (%d buckets)" name dtype diff reducer.BucketCount
    check world (sprintf "%s %A: 50 data-parallel steps equal one process on the global batch within %g" name dtype tol) (diff <= tol)
    let p0s = Distributed.broadcast world p
    check world (sprintf "%s %A: every rank holds bit-identical parameters" name dtype) (maxAbsDiff p p0s = 0.0)
    if world.Size > 1 then
        check world (sprintf "%s %A: gradient buckets start during the backward pass" name dtype) (startedEarly > 0 && reducer.BucketCount > 1)

// ---------------------------------------------------------------------------------------------------------------
// allreduce: random trees of tensors of mixed dtypes and shapes

let randomTree (structureSeed: uint64) (valueSeed: uint64) =
    let gs, gv = Generator structureSeed, Generator valueSeed
    let dtypes = [| DType.Int32; DType.Int64; DType.Float32; DType.Float64 |]
    Array.init (1 + int (gs.NextInt64(0L, 7L))) (fun _ ->
        let dtype = dtypes.[int (gs.NextInt64(0L, 4L))]
        let shape = Array.init (int (gs.NextInt64(0L, 4L))) (fun _ -> 1 + int (gs.NextInt64(0L, 5L)))
        match dtype with
        | DType.Int32 | DType.Int64 -> Tensor.Randint(-50L, 50L, shape, gv, dtype)
        | _ -> Tensor.Randn(shape, gv, dtype))

let allReduceTests (world: World) =
    for trial in 0 .. 4 do
        let seed = 1000UL + uint64 trial
        let mine = randomTree seed (uint64 (7 * world.Rank + 1))
        let everyone = Array.init world.Size (fun r -> randomTree seed (uint64 (7 * r + 1)))
        let expectedSum = everyone |> Array.reduce (Array.map2 (fun a b -> (a.To(DType.Float64) + b.To(DType.Float64)).To(a.DType)))
        let expectedMax = everyone |> Array.reduce (Array.map2 (fun a b -> a.Maximum b))
        let sum = Distributed.allReduce ReduceOp.Sum world mine
        let mx = Distributed.allReduce ReduceOp.Max world mine
        let shapesKept = Array.forall2 (fun (a: Tensor) (b: Tensor) -> a.Shape = b.Shape && a.DType = b.DType) sum mine
        let sumOk = Array.forall2 (fun (a: Tensor) (b: Tensor) -> maxAbsDiff a b <= (if a.DType = DType.Float32 then 1e-5 else 1e-12)) sum expectedSum
        check world (sprintf "allReduce sum of a random tree of %d tensors (trial %d)" mine.Length trial) (shapesKept && sumOk)
        check world (sprintf "allReduce max of a random tree (trial %d)" trial) (maxAbsDiff mx expectedMax = 0.0)
        let floats = mine |> Array.filter (fun t -> t.DType.IsFloatingPoint())
        if floats.Length > 0 then
            let mean = Distributed.allReduce ReduceOp.Mean world floats
            let expected = expectedSum |> Array.filter (fun t -> t.DType.IsFloatingPoint()) |> Array.map (fun t -> t / float world.Size)
            check world (sprintf "allReduce mean of the float tensors (trial %d)" trial) (maxAbsDiff mean expected <= 1e-5)
        let b = Distributed.broadcast world mine
        check world (sprintf "broadcast of a random tree from rank 0 (trial %d)" trial) (maxAbsDiff b everyone.[0] = 0.0)
    // Params (a tree with names) and a record-like tuple
    let p = Params.ofList [ "a.w", Tensor.Full([| 2; 3 |], float (world.Rank + 1)); "b", Tensor.FromArray([| int64 world.Rank |]) ]
    let r = Distributed.allReduce ReduceOp.Sum world p
    let n = float world.Size
    check world "allReduce of Params keeps the names and sums" (r.Names = p.Names && r.["a.w"].Sum().Item() = 6.0 * n * (n + 1.0) / 2.0 && r.["b"].Item() = n * (n - 1.0) / 2.0)
    let threw = try Distributed.allReduce ReduceOp.Sum world (Tensor.FromArray [| true |]) |> ignore; false with :? DTypeMismatchException -> true
    check world "allReduce refuses a Bool tensor by name" threw
    Distributed.barrier world
    check world "barrier returns" true
    if world.Size > 1 then
        let threw = try DataParallel(world, [| Tensor.Zeros [| world.Rank + 1 |] |]) |> ignore; false with :? DistributedException -> true
        check world "ranks with different models are refused when the DataParallel is made" threw
    if not world.UsesMpi then
        let maps = IO.File.ReadAllText "/proc/self/maps"
        check world "a single process without mpirun loads no MPI library" (not (maps.Contains "libmpi"))

// ---------------------------------------------------------------------------------------------------------------
// loader: disjoint shards, reshuffled per epoch; fit: Distributed.fit end to end

let loaderTests (world: World) =
    for n, batchSize, dropLast in [ 12, 2, false; 10, 3, false; 10, 3, true ] do
        let data = Dataset.init n (fun i -> Tensor.FromArray [| float i |])
        let loader = DataLoader.create { DataLoader.defaults with BatchSize = batchSize; Seed = 5UL; DropLast = dropLast; Prefetch = 0 } data
        for size in 1 .. 3 do
            let shards = Array.init size (fun r -> Data.DistributedLoader<_, _>(loader, r, size))
            let e0 = shards |> Array.map (fun s -> s.ShardIndices 0)
            let all = Array.concat e0
            let distinct = (Array.distinct all).Length
            let covers = if dropLast then all.Length = n / size * size && distinct = all.Length else distinct = n
            let disjoint = dropLast || all.Length - distinct = all.Length - n // only the padding repeats
            let sameBatches = shards |> Array.forall (fun s -> Seq.length (s.Batches 0) = shards.[0].BatchesPerEpoch)
            let reshuffled = shards |> Array.exists (fun s -> s.ShardIndices 1 <> s.ShardIndices 0)
            let batchesMatch =
                shards |> Array.forall (fun s ->
                    let got = s.Batches 0 |> Seq.collect (fun b -> b.ToDoubleArray() |> Seq.map int) |> Array.ofSeq
                    got = (s.ShardIndices 0).[.. got.Length - 1])
            check world (sprintf "shards of %d examples over %d ranks (batch %d, dropLast %b) are disjoint, cover the data, reshuffle per epoch, equal in batches" n size batchSize dropLast)
                (covers && disjoint && sameBatches && reshuffled && batchesMatch)

let fitTest (world: World) =
    let g = Generator 3UL
    let x = Tensor.Randn([| 48; 4 |], g)
    let y = Tensor.FromArray(Array.init 48 (fun i -> int64 (i % 3)))
    let p0, apply = Model.init (uint64 (world.Rank + 1)) mlp // different on each rank: fit broadcasts rank 0's
    let loader = DataLoader.create { DataLoader.defaults with BatchSize = 8; Seed = 9UL; Prefetch = 0 } (Dataset.ofTensors (x, y))
    let path = IO.Path.Combine(IO.Path.GetTempPath(), sprintf "functionalad-dist-%d-%d.ckpt" (Process.GetCurrentProcess().Id) world.Rank)
    let settings = { Fit.defaults 3 (Optim.adam 0.01) with Progress = false; CheckpointPath = Some path; CheckpointEachEpoch = true }
    let p, state, log = Distributed.fit world settings (fun p (xb, yb) -> Loss.crossEntropy (apply p xb) yb) p0 loader
    check world "Distributed.fit: every rank ends with identical parameters" (maxAbsDiff p (Distributed.broadcast world p) = 0.0)
    check world "Distributed.fit: every rank logs the same (rank-averaged) epoch losses" (log |> List.forall (fun l -> world.AllReduce(l.TrainLoss, ReduceOp.Max) = l.TrainLoss))
    check world "Distributed.fit: steps per epoch = shard batches" (state.Step = 3 * ((48 / world.Size + 7) / 8))
    check world "Distributed.fit: only rank 0 writes checkpoints" (IO.File.Exists path = world.IsMain)
    if IO.File.Exists path then IO.File.Delete path

// ---------------------------------------------------------------------------------------------------------------
// hook: Core's gradient-completion callback (what the buckets start from)

let hookTests (world: World) =
    let p0, apply = Model.init 1UL mlp
    let x, y = Tensor.Randn([| 6; 4 |], Generator 2UL), Tensor.FromArray(Array.init 6 (fun i -> int64 (i % 3)))
    let leaves = Tree.leaves p0
    let unused = Tensor.Ones [| 2 |]
    let xs = Array.append leaves [| unused |]
    let f (ts: Tensor[]) = Loss.crossEntropy (apply (Tree.unflatten p0 ts.[.. leaves.Length - 1]) x) y
    let struct (v0, g0) = Transform.ValueAndGrad(Func<_, _> f, xs)
    let seen = ResizeArray<int * Tensor>()
    let struct (v1, g1) = Transform.ValueAndGrad(Func<_, _> f, xs, Action<int, Tensor>(fun i g -> seen.Add((i, g))))
    let order = seen |> Seq.map fst |> Array.ofSeq
    check world "gradient hook: each input reported once, with the gradient returned" (Array.sort order = Array.init xs.Length id && seen |> Seq.forall (fun (i, g) -> obj.ReferenceEquals(g, g1.[i])))
    check world "gradient hook: the same value and gradients as without it" (v0.Item() = v1.Item() && maxAbsDiff g0 g1 = 0.0)
    check world "gradient hook: an unused input is reported last, with zeros" (order.[order.Length - 1] = xs.Length - 1 && g1.[xs.Length - 1].Abs().Sum().Item() = 0.0)
    // Params order: l0.b, l0.w, l1.b, l1.w, l2.b, l2.w; the last layer's gradients are final first
    let pos name = Array.findIndex (fun i -> i = Array.findIndex ((=) name) (p0.Names)) order
    check world "gradient hook: the last layer's gradients complete before the first layer's" (pos p0.Names.[p0.Names.Length - 1] < pos p0.Names.[0])
    let threw = try Transform.ValueAndGrad(Func<_, _>(fun (ts: Tensor[]) -> ts.[0] * 2.0), [| Tensor.Ones [| 3 |] |], Action<int, Tensor>(fun _ _ -> ())) |> ignore; false with :? ShapeMismatchException -> true
    check world "gradient hook: a non-scalar loss is refused" threw

// ---------------------------------------------------------------------------------------------------------------
// failure modes (run by the driver, which checks the exit code, the time and the processes left)

let throwAt (world: World) (failStep: int) =
    let p0, apply = Model.init 1UL mlp
    let x, y = Tensor.Randn([| 8; 4 |], Generator 1UL), Tensor.FromArray(Array.init 8 (fun i -> int64 (i % 3)))
    let reducer = Distributed.dataParallel world p0
    let mutable p, s = p0, Optim.init (Optim.sgd 0.1) p0
    for step in 0 .. 100000 do
        if step = failStep && world.Rank = world.Size - 1 then failwithf "injected failure at step %d" step
        let p', s', _ = Distributed.step reducer (Optim.sgd 0.1) s (fun q -> Loss.crossEntropy (apply q x) y) p
        p <- p'
        s <- s'

let stall (world: World) =
    world.Timeout <- Nullable(TimeSpan.FromSeconds 2.0)
    if world.Rank = 1 then Threading.Thread.Sleep 60000
    Distributed.barrier world

// ---------------------------------------------------------------------------------------------------------------
// bench: training samples/s, all-reduce bandwidth, fraction of the all-reduce hidden behind backward

let bench (world: World) =
    use _ = FunctionalAD.Backends.Parallelism.Limit world.ThreadsPerRank
    let net = nn.mlp [ 64; 256; 256; 10 ] nn.relu
    let p0, apply = Model.init 1UL net
    let perRank = 64
    let x = Tensor.Randn([| perRank; 64 |], Generator(uint64 world.Rank))
    let y = Tensor.FromArray(Array.init perRank (fun i -> int64 (i % 10)))
    let loss (q: Params) = Loss.crossEntropy (apply q x) y
    let run overlap steps =
        let reducer = DataParallel(world, Tree.leaves p0, bucketBytes = 64 * 1024, overlap = overlap)
        let mutable p, s = p0, Optim.init (Optim.sgd 0.01) p0
        let mutable exposed = 0.0
        world.Barrier()
        let sw = Stopwatch.StartNew()
        for _ in 1 .. steps do
            let p', s', _ = Distributed.step reducer (Optim.sgd 0.01) s loss p
            p <- p'
            s <- s'
            exposed <- exposed + reducer.LastStep.ExposedSeconds
        world.Barrier()
        sw.Elapsed.TotalSeconds, exposed, reducer.BucketCount
    run true 5 |> ignore // warm up
    let steps = 40
    let tOn, exposedOn, buckets = run true steps
    let tOff, exposedOff, _ = run false steps
    let samples = float (steps * perRank * world.Size)
    if world.IsMain then
        printfn "bench: MLP 64-256-256-10, %d samples per rank per step, np %d: %.0f samples/s (overlap on), %.0f samples/s (overlap off), %d buckets"
            perRank world.Size (samples / tOn) (samples / tOff) buckets
        if world.Size > 1 then
            printfn "bench: all-reduce time exposed after backward: %.2f ms/step with overlap, %.2f ms/step without: %.0f%% hidden behind backward"
                (1000.0 * exposedOn / float steps) (1000.0 * exposedOff / float steps) (100.0 * (1.0 - exposedOn / max 1e-12 exposedOff))
    let n = 1 <<< 20
    if world.Size > 1 then
        let buffer = Array.create n 1.0f
        world.AllReduce(Span buffer, ReduceOp.Sum)
        let reps = 30
        world.Barrier()
        let sw = Stopwatch.StartNew()
        for _ in 1 .. reps do world.AllReduce(Span buffer, ReduceOp.Sum)
        let t = sw.Elapsed.TotalSeconds / float reps
        if world.IsMain then
            printfn "bench: all-reduce of 1M floats (4 MiB), np %d: %.3f ms, %.2f GB/s (message bytes / time)" world.Size (1000.0 * t) (4.0 * float n / t / 1e9)

[<EntryPoint>]
let main argv =
    let mode = if argv.Length > 0 then argv.[0] else "all"
    match mode with
    | "world" ->
        let world = Distributed.init ()
        printfn "%O" world
        0
    | "throw" -> let world = Distributed.init () in throwAt world (int argv.[1]); 0
    | "stall" -> let world = Distributed.init () in stall world; 0
    | _ ->
        Distributed.run (fun world ->
            match mode with
            | "parity" ->
                parity world "MLP" mlp [ 4 ] DType.Float32 1e-5
                parity world "MLP" mlp [ 4 ] DType.Float64 1e-12
                parity world "CNN" cnn [ 1; 6; 6 ] DType.Float32 1e-5
            | "allreduce" -> allReduceTests world
            | "loader" -> loaderTests world
            | "fit" -> fitTest world
            | "hook" -> hookTests world
            | "bench" -> bench world
            | other -> failwithf "unknown mode '%s' (parity, allreduce, loader, fit, bench, world, throw N, stall)" other
            if world.IsMain then printfn "distributed %s: %d check(s) failed" mode failures
            if failures = 0 then 0 else 1)
