namespace FunctionalAD

open System
open FunctionalAD.Data

/// Data-parallel training over MPI for F#: every process (rank) holds the model, takes its share of each batch,
/// and gradients are averaged across ranks before the optimizer step. Started without an MPI launcher, a program
/// is a world of one process and needs no MPI installed. See the README's "Distributed training" section.
[<RequireQualifiedAccess>]
module Distributed =
    /// The world of this process (MPI's COMM_WORLD): rank, size, local rank. Initialises MPI when the process was
    /// started by an MPI launcher (mpirun.mpich), else a world of size 1 without MPI. Throws DistributedException
    /// when MPI is missing, is Open MPI, or sees another world size than the launcher started (see World.Init).
    let init () : World = World.Init()

    /// `init ()` with a timeout for every collective: past it the whole job is aborted with a message naming the
    /// collective and the rank (a peer died or stopped calling collectives).
    let initWith (timeout: TimeSpan) : World = World.Init(Nullable timeout)

    /// Runs `body` on the world and finalises MPI after it; an exception in body aborts the whole job (exit code 1,
    /// the failing rank and exception on stderr) instead of leaving the other ranks waiting.
    let run (body: World -> 'T) : 'T = (init ()).Run(Func<World, 'T> body)

    /// The tree (a tensor, Params, a tuple or record of tensors...) all-reduced leaf by leaf with `op`, one
    /// collective per dtype over the flattened leaves. Every rank must pass a tree of the same structure, dtypes
    /// and shapes. Throws DTypeMismatchException for Bool leaves or Mean of integer leaves.
    let allReduce (op: ReduceOp) (world: World) (tree: 'T) : 'T =
        Tree.unflatten tree (world.AllReduce(Tree.leaves tree, op))

    /// Rank 0's tree on every rank (so that every rank starts from the same parameters).
    let broadcast (world: World) (tree: 'T) : 'T = Tree.unflatten tree (world.Broadcast(Tree.leaves tree, 0))

    /// Returns once every rank has called it.
    let barrier (world: World) = world.Barrier()

    /// This rank's share of a loader (PyTorch's DistributedSampler): disjoint shards of each epoch's shuffled
    /// order, the same number of batches on every rank, reshuffled per epoch from the loader's seed. Batches have
    /// the loader's BatchSize per rank.
    let shard (world: World) (loader: DataLoader<'T, 'B>) : DistributedLoader<'T, 'B> = DistributedLoader<'T, 'B>(loader, world)

    /// A gradient reducer for parameters shaped like `parameters` (a collective; throws DistributedException when
    /// the ranks' models differ). Buckets of at most 1 MiB, started during the backward pass.
    let dataParallel (world: World) (parameters: 'P) : DataParallel = DataParallel(world, Tree.leaves parameters)

    /// The loss of this rank's batch and the gradients averaged over the ranks, all-reduced in buckets while the
    /// backward pass runs. Every rank calls it once per step with its own batch inside `f`.
    let gradv (reducer: DataParallel) (f: 'P -> Tensor) (parameters: 'P) : Tensor * 'P =
        let struct (value, grads) = reducer.ValueAndGrad(Func<Tensor[], Tensor>(fun ts -> f (Tree.unflatten parameters ts)), Tree.leaves parameters)
        value, Tree.unflatten parameters grads

    /// One data-parallel optimizer step: averaged gradients of `loss` at `parameters`, then the same update on
    /// every rank. Returns the new parameters, the new optimizer state and this rank's loss.
    let step (reducer: DataParallel) (optimizer: Optimizer) (state: OptimizerState) (loss: 'P -> Tensor) (parameters: 'P) : 'P * OptimizerState * float =
        let value, grads = gradv reducer loss parameters
        let p, s = Optim.step optimizer state parameters grads
        p, s, value.Item()

    /// The hooks that make `TrainLoader.fitWith` data-parallel: averaged gradients, the epoch loss averaged over
    /// ranks, checkpoints written by rank 0 only.
    let hooks (world: World) (reducer: DataParallel) : FitHooks<'P> =
        { ValueAndGrad = gradv reducer
          MeanAcrossProcesses = fun x -> world.AllReduce(x, ReduceOp.Mean)
          WritesCheckpoints = world.IsMain }

    /// `Train.fitLoader` across the ranks: rank 0's parameters are broadcast, each rank trains on its shard of
    /// `loader` (per-rank batches of the loader's BatchSize, so the global batch is BatchSize × world size), the
    /// gradients are averaged in overlapped buckets, and every rank takes the same optimizer step; the epoch's
    /// training loss is averaged over ranks (so early stopping stops every rank together) and only rank 0 writes
    /// checkpoints (a resume reads CheckpointPath on every rank: use a shared file system). Validation runs on
    /// every rank over the whole validation loader. Kernels use `world.ThreadsPerRank` threads (the machine's cores
    /// shared among its ranks). Returns what `Train.fitLoader` returns, the same on every rank.
    let fit (world: World) (settings: FitSettings<'P, 'B>) (loss: 'P -> 'B -> Tensor) (parameters: 'P) (loader: DataLoader<'T, 'B>)
        : 'P * OptimizerState * EpochLog list =
        let parameters = broadcast world parameters
        let reducer = dataParallel world parameters
        let settings = if world.IsMain then settings else { settings with Progress = false }
        use _ = FunctionalAD.Backends.Parallelism.Limit world.ThreadsPerRank
        TrainLoader.fitWith (hooks world reducer) settings loss parameters (shard world loader)
