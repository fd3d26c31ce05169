/// Datasets and data loaders: seeded order, batching, collate of trees, prefetch, transforms.
module FunctionalAD.Tests.DataTests

open System
open Expecto
open FunctionalAD
open FunctionalAD.Data

let private rows n = Tensor.Arange(float n, DType.Float32).Reshape([| n; 1 |])

let private ids (batches: seq<Tensor * Tensor>) = [ for x, _ in batches -> x.ToFloatArray() |> Array.map int |> List.ofArray ]

let tests =
    testList "data" [
        testCase "the order depends only on the seed and the epoch; every example once per epoch" <| fun () ->
            let data = Dataset.ofTensors (rows 10, rows 10)
            let make seed = DataLoader.create { DataLoader.defaults with BatchSize = 3; Seed = seed } data
            let a, b = make 7UL, make 7UL
            Expect.equal (ids (a.Batches 1)) (ids (b.Batches 1)) "same seed and epoch, same batches"
            Expect.equal (a.Order 2) (b.Order 2) "order is a function of (seed, epoch)"
            Expect.notEqual (a.Order 0) (a.Order 1) "epochs differ"
            Expect.notEqual (a.Order 0) ((make 8UL).Order 0) "seeds differ"
            Expect.equal (ids (a.Batches 0) |> List.concat |> List.sort) [ 0 .. 9 ] "a permutation"
            Expect.equal (ids (a.Batches 0) |> List.map List.length) [ 3; 3; 3; 1 ] "last batch kept"
            let dropped = DataLoader.create { DataLoader.defaults with BatchSize = 3; DropLast = true } data
            Expect.equal dropped.BatchesPerEpoch 3 "drop last"
            let plain = DataLoader.create { DataLoader.defaults with BatchSize = 4; Shuffle = false } data
            Expect.equal (ids (plain.Batches 0)) [ [ 0; 1; 2; 3 ]; [ 4; 5; 6; 7 ]; [ 8; 9 ] ] "no shuffle"
            Expect.equal (ids (plain.Batches(0, 2))) [ [ 8; 9 ] ] "resume mid-epoch"
        testCase "prefetch never changes the batches; a failing batch surfaces; leaving early stops the worker" <| fun () ->
            let data = Dataset.init 50 (fun i -> Tensor.Scalar(float i), (Tensor.Full([| 2 |], float i), Tensor.Scalar(int64 i)))
            let run prefetch =
                let l = DataLoader.create { DataLoader.defaults with BatchSize = 8; Seed = 3UL; Prefetch = prefetch } data
                [ for e in 0 .. 2 do for (a, (b, c)) in l.Batches e -> a.ToDoubleArray(), b.ToDoubleArray(), c.ToArray<int64>() ]
            let serial = run 0
            Expect.equal (run 1) serial "prefetch 1"
            Expect.equal (run 4) serial "prefetch 4"
            let l = DataLoader.create { DataLoader.defaults with BatchSize = 8 } data
            let first = l.Batches 0 |> Seq.head
            let a, (b, _) = first
            Expect.equal a.Shape [| 8 |] "collated scalars"
            Expect.equal b.Shape [| 8; 2 |] "collated tree leaves"
            let failing = DataLoader.create { DataLoader.defaults with BatchSize = 4 } (Dataset.init 12 (fun i -> if i = 5 then failwith "bad example" else Tensor.Scalar 1.0))
            Expect.throwsC (fun () -> failing.Batches 0 |> Seq.iter ignore) (fun e -> Expect.stringContains e.InnerException.Message "bad example" "cause")
        testCase "Train.fitLoader learns, validates with metrics, logs the learning rate, and stops early" <| fun () ->
            let g = Generator 2UL
            let x = Tensor.Rand([| 128; 1 |], g) * 2.0 - 1.0
            let y = 3.0 * x + 2.0
            let loader = DataLoader.create { DataLoader.defaults with BatchSize = 16 } (Dataset.ofTensors (x, y))
            let validation = DataLoader.create { DataLoader.defaults with BatchSize = 64; Shuffle = false } (Dataset.ofTensors (x, y))
            let p0, apply = Model.init 0UL (nn.linear 1 1)
            let loss q (xb: Tensor, yb: Tensor) = Loss.mse (apply q xb) yb
            let epochs = ref 0
            let settings =
                { Fit.defaults 40 (Optim.sgd 0.2 |> Optim.withSchedule (Schedule.stepDecay 0.2 20 0.5)) with
                    Progress = false; Validation = Some validation
                    Metrics = [ "mae", fun q (xb, yb) -> ((apply q xb - yb).Abs().Mean()).Item() ]
                    EarlyStopping = Some(2, 1e-5)
                    Callbacks = [ EachEpoch(fun _ _ -> epochs.Value <- epochs.Value + 1) ] }
            let p, _, log = Train.fitLoader settings loss p0 loader
            let lastVal = snd (List.last log).Validation.Head
            Expect.isLessThan lastVal 1e-3 "validation loss"
            Expect.equal (List.map fst (List.last log).Validation) [ "loss"; "mae" ] "metrics"
            Expect.equal log.Head.LearningRate 0.2 "lr at first epoch"
            Expect.isLessThan log.Length 40 "stopped early"
            Expect.isLessThan (List.last log).LearningRate 0.2 "decayed lr logged"
            Expect.equal epochs.Value log.Length "callback each epoch"
            Expect.floatClose { absolute = 0.05; relative = 0.0 } (p.["w"].Item()) 3.0 "w"
        testCase "transforms are plain functions composed with >>" <| fun () ->
            let g = Generator 1UL
            let t = Transforms.normalize 1.0 2.0 >> Transforms.randomCrop g 2 2 >> Transforms.randomFlip g -1
            let img = Tensor.Arange(16.0).Reshape([| 1; 4; 4 |])
            let out = t img
            Expect.equal out.Shape [| 1; 2; 2 |] "cropped"
            Expect.equal (Fit.accuracy (Tensor.FromArray([| 0.1f; 0.9f; 0.8f; 0.2f |], 2, 2)) (Tensor.FromArray [| 1L; 1L |])) 0.5 "accuracy"
    ]
