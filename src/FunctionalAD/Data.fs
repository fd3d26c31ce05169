namespace FunctionalAD

open System
open FunctionalAD.Data

/// Datasets for F#: examples are tensors or trees of tensors (tuples, records...).
module Dataset =
    type private PairDataset(x: Tensor, y: Tensor) =
        let x, y = x.StopGradient(), y.StopGradient()
        interface IBatchedDataset<Tensor * Tensor, Tensor * Tensor> with
            member _.Count = x.Shape.[0]
            member _.Item with get i = x.Select(0, i), y.Select(0, i)
            member _.GetBatch(indices) =
                let idx = Tensor.FromArray indices
                x.IndexSelect(0, idx.ToDevice x.Device), y.IndexSelect(0, idx.ToDevice y.Device)

    /// The rows of x and y as (input, target) examples; batches gather rows (one IndexSelect per tensor).
    /// Throws ShapeMismatchException when x and y have different numbers of rows.
    let ofTensors (x: Tensor, y: Tensor) : IDataset<Tensor * Tensor> =
        if x.Rank = 0 || y.Rank = 0 || x.Shape.[0] <> y.Shape.[0] then
            raise (ShapeMismatchException("Dataset.ofTensors", sprintf "x %s and y %s must have the same number of rows" (Shape.Format x.Shape) (Shape.Format y.Shape)))
        PairDataset(x, y) :> _

    /// The rows of one tensor as examples.
    let ofRows (x: Tensor) : IDataset<Tensor> =
        if x.Rank = 0 then raise (ShapeMismatchException("Dataset.ofRows", "a 0-D tensor has no rows"))
        let x = x.StopGradient()
        Dataset.FromFunc(x.Shape.[0], fun i -> x.Select(0, i))

    /// A dataset over an array (not copied).
    let ofArray (items: 'T[]) : IDataset<'T> = Dataset.FromList items

    /// n examples computed on demand by f.
    let init (n: int) (f: int -> 'T) : IDataset<'T> = Dataset.FromFunc(n, Func<int, 'T> f)

    /// The same examples passed through a transform when read (transforms compose with >>).
    let map (f: 'T -> 'U) (data: IDataset<'T>) : IDataset<'U> = data.Map(Func<'T, 'U> f)

    /// The number of examples.
    let count (data: IDataset<'T>) = data.Count

/// Settings of a DataLoader.
type LoaderConfig =
    { /// Examples per batch.
      BatchSize: int
      /// Shuffle each epoch; the order depends only on (Seed, epoch).
      Shuffle: bool
      /// Seeds the shuffle.
      Seed: uint64
      /// Drop a last, incomplete batch.
      DropLast: bool
      /// Batches prepared ahead on a worker thread (0: none).
      Prefetch: int }

/// DataLoaders for F#: batches of trees of tensors.
module DataLoader =
    /// Batches of 32, shuffled with seed 0, the last batch kept, 2 batches prefetched.
    let defaults = { BatchSize = 32; Shuffle = true; Seed = 0UL; DropLast = false; Prefetch = 2 }

    /// Stacks examples (trees of tensors of equal structure and shapes) leaf by leaf along a new first dimension.
    /// Throws ArgumentException for an empty list or examples of different structure.
    let collate (examples: Collections.Generic.IReadOnlyList<'T>) : 'T =
        if examples.Count = 0 then invalidArg "examples" "DataLoader.collate: no examples"
        let leaves = Array.init examples.Count (fun i -> Tree.leaves examples.[i])
        let n = leaves.[0].Length
        if leaves |> Array.exists (fun l -> l.Length <> n) then
            invalidArg "examples" "DataLoader.collate: the examples hold different numbers of tensors"
        Tree.unflatten examples.[0] (Array.init n (fun k -> Tensor.Stack(leaves |> Array.map (fun l -> l.[k]), 0)))

    /// A loader over a dataset, batching with `collate` (a dataset from `Dataset.ofTensors` gathers whole batches).
    let create (config: LoaderConfig) (data: IDataset<'T>) : DataLoader<'T, 'T> =
        DataLoader<'T, 'T>(data, config.BatchSize, Func<_, _> collate, config.Shuffle, config.Seed, config.DropLast, config.Prefetch)

    /// The batches of one epoch (its order depends only on the seed and the epoch).
    let epoch (e: int) (loader: DataLoader<'T, 'B>) : seq<'B> = loader.Batches(e, 0)

    /// The number of batches per epoch.
    let batchesPerEpoch (loader: DataLoader<'T, 'B>) = loader.BatchesPerEpoch

/// Data transforms as plain functions; compose them with >>.
module Transforms =
    /// (x - mean) / std.
    let normalize (mean: float) (std: float) (x: Tensor) = (x - mean) / std

    /// Reverses dimension `dim` with probability 1/2 (one draw from g).
    let randomFlip (g: Generator) (dim: int) (x: Tensor) =
        if g.NextDouble() < 0.5 then
            let d = if dim < 0 then dim + x.Rank else dim
            let n = x.Shape.[d]
            x.IndexSelect(d, Tensor.FromArray(Array.init n (fun i -> int64 (n - 1 - i))).ToDevice x.Device)
        else x

    /// A random `height` × `width` window of the last two dimensions (two draws from g).
    /// Throws ArgumentException when the window is larger than the input.
    let randomCrop (g: Generator) (height: int) (width: int) (x: Tensor) =
        let h, w = x.Shape.[x.Rank - 2], x.Shape.[x.Rank - 1]
        if height > h || width > w then invalidArg "height" (sprintf "Transforms.randomCrop: %dx%d is larger than the input's %dx%d" height width h w)
        let top = int (g.NextInt64(0L, int64 (h - height + 1)))
        let left = int (g.NextInt64(0L, int64 (w - width + 1)))
        x.Narrow(x.Rank - 2, top, height).Narrow(x.Rank - 1, left, width)

/// Ready-made datasets read from files.
module Datasets =
    /// Fashion-MNIST (or MNIST: same files) from a folder holding the four IDX files (raw or .gz), as
    /// ((train images, train labels), (test images, test labels)): images Float32 [N, 1, 28, 28] scaled to [0, 1],
    /// labels Int64 [N] (60,000 training and 10,000 test examples). `dotnet fsi build.fsx -- -t Data` fetches
    /// Fashion-MNIST into the repository's data/fashion-mnist. Throws FileNotFoundException naming the missing file
    /// and where to get it, CorruptFileException for a damaged file.
    let fashionMnist (folder: string) : (Tensor * Tensor) * (Tensor * Tensor) =
        let load train = let struct (images, labels) = FunctionalAD.Data.Mnist.Load(folder, train) in images, labels
        load true, load false

    /// The names of the ten Fashion-MNIST classes, in label order ("T-shirt/top", "Trouser", ... "Ankle boot").
    let fashionMnistClasses : string[] = Seq.toArray FunctionalAD.Data.Mnist.FashionClasses
