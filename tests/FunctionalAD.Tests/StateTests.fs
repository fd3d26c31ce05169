/// Model state and mode (batch norm's running statistics, dropout), the normalisation layers, LSTM/GRU cells and the
/// transformer block: results against loops written here from PyTorch's definitions, derivatives by the testing kit,
/// errors that name the layer and the shapes, and the initializers.
module FunctionalAD.Tests.StateTests

open System
open Expecto
open FunctionalAD
open FunctionalAD.Testing
open FunctionalAD.Tests.Support

let private arr (t: Tensor) = t.ToDoubleArray()
let private f64 (p: Params) = p |> Params.map (fun t -> t.To DType.Float64)
let private get name (p: Params) = (Params.tryGet name p).Value
let private pset name (t: Tensor) (p: Params) = Params.ofList [ for n, v in Params.toList p -> n, (if n = name then t else v) ]

/// Mean and biased/unbiased variance of channel c of a row-major [N, C, S] array.
let private channelStats (n, c, s) (x: float[]) ch =
    let vals = [| for i in 0 .. n - 1 do for j in 0 .. s - 1 -> x.[(i * c + ch) * s + j] |]
    let m = Array.average vals
    let ss = vals |> Array.sumBy (fun v -> (v - m) ** 2.0)
    m, ss / float vals.Length, ss / float (vals.Length - 1)

let private throwsNaming (layer: string) (fragments: string list) (f: unit -> unit) =
    let e = Expect.throwsC f id
    Expect.stringContains e.Message layer (sprintf "names %s: %s" layer e.Message)
    for s in fragments do Expect.stringContains e.Message s (sprintf "mentions %s: %s" s e.Message)

let private batchNorm =
    testList "batch norm" [
        testCase "train mode normalises with batch statistics and moves the running ones by momentum" <| fun () ->
            let bn = nn.batchNorm2d 3
            let p, s = Model.initWithState 1UL bn
            Expect.sequenceEqual (Params.names p) [ "bias"; "weight" ] "parameters"
            Expect.sequenceEqual (Params.names s) [ "running_mean"; "running_var" ] "state"
            let p = p |> Params.map (fun t -> t.To DType.Float64) |> pset "weight" (tensor [ 1.5; -0.5; 2.0 ]) |> pset "bias" (tensor [ 0.1; 0.2; -0.3 ])
            let s = f64 s
            let x = uniform (Generator 2UL) [| 2; 3; 2; 2 |] -2.0 3.0
            let y, s' = Model.applyWithState bn p s (Mode.Train 5UL) x
            let xs = arr x
            let w, b = arr (get "weight" p), arr (get "bias" p)
            let expected =
                Array.init 24 (fun i ->
                    let ch = i / 4 % 3
                    let m, v, _ = channelStats (2, 3, 4) xs ch
                    (xs.[i] - m) / sqrt (v + 1e-5) * w.[ch] + b.[ch])
            expectClose 1e-10 y (Tensor.FromArray(expected, [| 2; 3; 2; 2 |])) "output"
            let stats = Array.init 3 (channelStats (2, 3, 4) xs)
            expectClose 1e-12 (get "running_mean" s') (tensor [ for m, _, _ in stats -> 0.1 * m ]) "running mean = 0.9·0 + 0.1·mean"
            expectClose 1e-12 (get "running_var" s') (tensor [ for _, _, u in stats -> 0.9 + 0.1 * u ]) "running var = 0.9·1 + 0.1·unbiased var"
            // a second step starts from the new running statistics
            let _, s'' = Model.applyWithState bn p s' (Mode.Train 6UL) x
            expectClose 1e-12 (get "running_mean" s'') (tensor [ for m, _, _ in stats -> 0.19 * m ]) "second update"
        testCase "eval mode normalises with the running statistics and keeps them" <| fun () ->
            let bn = nn.batchNorm1d 2
            let p, _ = Model.initWithState 1UL bn
            let p = f64 p
            let s = Params.ofList [ "running_mean", tensor [ 0.5; -1.0 ]; "running_var", tensor [ 4.0; 0.25 ] ]
            let x = uniform (Generator 3UL) [| 3; 2; 4 |] -1.0 1.0
            let y, s' = Model.applyWithState bn p s Mode.Eval x
            let xs = arr x
            let expected = xs |> Array.mapi (fun i v -> let ch = i / 4 % 2 in (v - [| 0.5; -1.0 |].[ch]) / sqrt ([| 4.0; 0.25 |].[ch] + 1e-5))
            expectClose 1e-12 y (Tensor.FromArray(expected, [| 3; 2; 4 |])) "output"
            Expect.equal s' s "state unchanged"
            expectClose 1e-12 (Model.applyEval bn p s x) y "applyEval"
            // [N, C] input too
            let y2 = Model.applyEval bn p s (tensor [ [ 0.5; 0.0 ] ])
            expectClose 1e-4 y2 (tensor [ [ 0.0; 2.0 ] ]) "[N, C]"
        testCase "the gradient in train mode matches finite differences (orders 1 and 2)" <| fun () ->
            let bn = nn.batchNorm2d 2
            let p, s = Model.initWithState 1UL bn
            let s = f64 s
            let x = uniform (Generator 4UL) [| 2; 2; 2; 1 |] -1.0 1.0
            let w, b = tensor [ 1.2; -0.7 ], tensor [ 0.3; 0.1 ]
            Check.gradientsN (fun xs ->
                let q = Params.ofList [ "weight", xs.[1]; "bias", xs.[2] ]
                fst (Model.applyWithState bn q s (Mode.Train 1UL) xs.[0])) [| x; w; b |]
            ignore p
        testCase "state carries no derivative out of grad; training with fitWithState updates it" <| fun () ->
            let net = model {
                let! l = scope "lin" (nn.linear 2 3)
                let! bn = scope "bn" (nn.batchNorm1d 3)
                let! out = scope "out" (nn.linear 3 1)
                return l >> bn >> relu >> out }
            let p, s = Model.initWithState 3UL net
            let g = Generator 5UL
            let x = Tensor.Randn([| 64; 2 |], g)
            let y = (x.Narrow(1, 0, 1) * 2.0 - x.Narrow(1, 1, 1)).Relu()
            let loss (q: Params) (st: Params) mode xb yb =
                let out, st' = Model.applyWithState net q st mode xb
                Loss.mse out yb, st'
            let p', s', history = Train.fitWithState { Train.defaults with Epochs = 30; BatchSize = 16; Optimizer = Optim.adam 0.02; Progress = false } loss p s x y
            Expect.isLessThan history.[history.Length - 1] (history.[0] * 0.5) "the loss falls"
            Expect.notEqual (arr (get "bn.running_mean" s')) (arr (get "bn.running_mean" s)) "running mean moved"
            let evalLoss = Loss.mse (Model.applyEval net p' s' x) y
            Expect.isLessThan (evalLoss.Item()) (history.[0] * 0.5) "eval mode with the learned statistics fits too"
            Expect.isTrue (get "bn.running_mean" s').IsConstant "no derivative on the state"
        testCase "Train.fitLoaderWithState validates in eval mode and resumes bit-identically, state included" <| fun () ->
            let net = model {
                let! l = scope "lin" (nn.linear 2 4)
                let! bn = scope "bn" (nn.batchNorm1d 4)
                let! drop = nn.dropoutLayer 0.2
                let! out = scope "out" (nn.linear 4 1)
                return l >> bn >> relu >> drop >> out }
            let p0, s0 = Model.initWithState 3UL net
            let g = Generator 5UL
            let x = Tensor.Randn([| 48; 2 |], g)
            let y = x.Narrow(1, 0, 1) - x.Narrow(1, 1, 1)
            let loader = DataLoader.create { DataLoader.defaults with BatchSize = 16; Seed = 4UL } (Dataset.ofTensors (x, y))
            let whole = DataLoader.create { DataLoader.defaults with BatchSize = 48; Shuffle = false } (Dataset.ofTensors (x, y))
            let loss (q: Params) (st: Params) mode (xb: Tensor, yb: Tensor) =
                let out, st' = Model.applyWithState net q st mode xb
                Loss.mse out yb, st'
            let settings = { Fit.defaults 2 (Optim.adam 0.01) with Progress = false; Validation = Some whole }
            let p, s, _, log = Train.fitLoaderWithState settings loss p0 s0 loader
            let evalLoss = (Loss.mse (Model.applyEval net p s x) y).Item()
            Expect.floatClose Accuracy.high (snd log.[1].Validation.Head) evalLoss "validation runs in eval mode with the trained state"
            let dir = IO.Path.Combine(IO.Path.GetTempPath(), "fad-state-" + string (Guid.NewGuid()))
            IO.Directory.CreateDirectory dir |> ignore
            let path = IO.Path.Combine(dir, "run.ckpt")
            let crashing = { settings with CheckpointPath = Some path; CheckpointEverySteps = 1; Resume = true
                                           Callbacks = [ EverySteps(4, fun _ _ _ -> failwith "crash") ] }
            Expect.throws (fun () -> Train.fitLoaderWithState crashing loss p0 s0 loader |> ignore) "the run dies at step 4"
            let p', s', _, _ = Train.fitLoaderWithState { crashing with Callbacks = [] } loss p0 s0 loader
            for n in Params.names p do Expect.equal (arr p'.[n]) (arr p.[n]) (sprintf "parameter %s bit-identical" n)
            for n in Params.names s do Expect.equal (arr s'.[n]) (arr s.[n]) (sprintf "state %s bit-identical" n)
            IO.Directory.Delete(dir, true)
        testCase "the plain apply refuses a model with state, naming applyWithState" <| fun () ->
            let p, apply = Model.init 1UL (nn.batchNorm1d 2)
            let e = Expect.throwsC (fun () -> apply p (Tensor.Ones [| 2; 2 |]) |> ignore) id
            Expect.stringContains e.Message "running_mean" "names the state"
            Expect.stringContains e.Message "applyWithState" "says what to use"
        testCase "the imperative Module hides the state: Train() / Eval()" <| fun () ->
            let m = Imperative.ModelModule(nn.batchNorm1d 2, 1UL)
            Expect.isTrue m.Training "training by default"
            let x = tensor [ [ 1.0f; 2.0f ]; [ 3.0f; 6.0f ] ]
            let y = m.Forward x
            expectClose 1e-3 y (tensor [ [ -1.0f; -1.0f ]; [ 1.0f; 1.0f ] ]) "batch statistics"
            expectClose 1e-6 (get "running_mean" m.State) (tensor [ 0.2f; 0.4f ]) "running mean updated"
            m.Eval() |> ignore
            let y2 = m.Forward x
            let rm, rv = arr (get "running_mean" m.State), arr (get "running_var" m.State)
            expectClose 1e-5 y2 (tensor [ [ for c in 0 .. 1 -> (float32 [| 1.0; 2.0 |].[c] - float32 rm.[c]) / sqrt (float32 rv.[c] + 1e-5f) ]
                                          [ for c in 0 .. 1 -> (float32 [| 3.0; 6.0 |].[c] - float32 rm.[c]) / sqrt (float32 rv.[c] + 1e-5f) ] ]) "running statistics in eval"
            expectClose 1e-6 (get "running_mean" m.State) (tensor [ 0.2f; 0.4f ]) "eval does not update"
        testCase "errors name the layer and the shapes" <| fun () ->
            let p, s = Model.initWithState 1UL (nn.batchNorm2d 3)
            throwsNaming "batchNorm2d" [ "[N, C, H, W]"; "[2,3,4]" ] (fun () -> Model.applyWithState (nn.batchNorm2d 3) p s Mode.Eval (Tensor.Zeros [| 2; 3; 4 |]) |> ignore)
            throwsNaming "batchNorm2d" [ "3 features"; "[2,4,2,2]" ] (fun () -> Model.applyWithState (nn.batchNorm2d 3) p s Mode.Eval (Tensor.Zeros [| 2; 4; 2; 2 |]) |> ignore)
            let p1, s1 = Model.initWithState 1UL (nn.batchNorm1d 3)
            throwsNaming "batchNorm1d" [ "[N, C] or [N, C, L]"; "[3]" ] (fun () -> Model.applyWithState (nn.batchNorm1d 3) p1 s1 Mode.Eval (Tensor.Zeros [| 3 |]) |> ignore)
            throwsNaming "batchNorm" [ "more than 1 value per channel" ] (fun () -> Model.applyWithState (nn.batchNorm1d 3) p1 s1 (Mode.Train 0UL) (Tensor.Zeros [| 1; 3 |]) |> ignore)
            throwsNaming "running_mean" [ "[3]"; "[4]" ] (fun () -> Model.applyWithState (nn.batchNorm1d 3) p1 (s1 |> pset "running_mean" (Tensor.Zeros [| 4 |])) Mode.Eval (Tensor.Zeros [| 2; 3 |]) |> ignore)
    ]

let private groupAndDropout =
    testList "group norm and dropout" [
        testCase "groupNorm equals a loop over (sample, group)" <| fun () ->
            let gn = nn.groupNorm 2 4
            let p, apply = Model.init 1UL gn
            let p = p |> pset "weight" (tensor [ 1.0; 2.0; -1.0; 0.5 ]) |> pset "bias" (tensor [ 0.0; 0.1; 0.2; 0.3 ])
            let x = uniform (Generator 7UL) [| 2; 4; 3 |] -2.0 2.0
            let xs = arr x
            let expected =
                Array.init 24 (fun i ->
                    let n, c = i / 12, i / 3 % 4
                    let grp = [| for cc in c / 2 * 2 .. c / 2 * 2 + 1 do for j in 0 .. 2 -> xs.[(n * 4 + cc) * 3 + j] |]
                    let m = Array.average grp
                    let v = grp |> Array.averageBy (fun u -> (u - m) ** 2.0)
                    (xs.[i] - m) / sqrt (v + 1e-5) * [| 1.0; 2.0; -1.0; 0.5 |].[c] + [| 0.0; 0.1; 0.2; 0.3 |].[c])
            expectClose 1e-10 (apply p x) (Tensor.FromArray(expected, [| 2; 4; 3 |])) "group norm"
            Check.gradients (fun x -> x.GroupNorm(2)) (uniform (Generator 8UL) [| 1; 4; 2 |] -1.0 1.0)
            throwsNaming "groupNorm" [ "4 channels"; "[2,3,3]" ] (fun () -> apply p (Tensor.Zeros [| 2; 3; 3 |]) |> ignore)
            throwsNaming "nn.groupNorm" [ "3 groups"; "4 channels" ] (fun () -> nn.groupNorm 3 4 |> ignore)
        testCase "dropout: identity in eval; in train zeros about rate and keeps the expectation; masks follow the key" <| fun () ->
            let d = nn.dropoutLayer 0.3
            let x = Tensor.Ones [| 20000 |]
            let run mode = fst (Model.applyWithState d Params.empty Params.empty mode x)
            Expect.equal (arr (run Mode.Eval)) (arr x) "eval: identity"
            let y = arr (run (Mode.Train 1UL))
            let zeros = (y |> Array.filter ((=) 0.0)).Length
            Expect.isLessThan (abs (float zeros / 20000.0 - 0.3)) 0.02 "about 30% zeros"
            Expect.isLessThan (abs (Array.average y - 1.0)) 0.03 "expectation kept"
            Expect.isTrue (y |> Array.forall (fun v -> v = 0.0 || abs (v - 1.0 / 0.7) < 1e-6)) "survivors scaled by 1/(1-rate)"
            Expect.equal (arr (run (Mode.Train 1UL))) y "same key, same mask"
            Expect.notEqual (arr (run (Mode.Train 2UL))) y "another key, another mask"
            let _, apply = Model.init 0UL d
            let e = Expect.throwsC (fun () -> apply Params.empty x |> ignore) id
            Expect.stringContains e.Message "applyWithState" "the plain apply says what to use"
            // two dropout layers in one model draw different masks
            let two = model { let! a = nn.dropoutLayer 0.5 in let! b = nn.dropoutLayer 0.5 in return fun x -> Tensor.Stack([| a x; b x |]) }
            let both = arr (fst (Model.applyWithState two Params.empty Params.empty (Mode.Train 3UL) (Tensor.Ones [| 100 |])))
            Expect.notEqual both.[0..99] both.[100..] "independent masks"
    ]

let private sigmoid (v: float) = 1.0 / (1.0 + exp -v)

/// W·v for W [rows, cols] row-major.
let private matVec (w: float[]) rows cols (v: float[]) = Array.init rows (fun r -> Seq.sum (seq { for c in 0 .. cols - 1 -> w.[r * cols + c] * v.[c] }))

let private recurrent =
    testList "recurrent cells" [
        testCase "LSTM cell equals PyTorch's equations (gates i, f, g, o) and differentiates" <| fun () ->
            let i, h = 3, 2
            let p, apply = Model.init 1UL (nn.lstmCell i h)
            Expect.sequenceEqual (Params.names p) [ "bias_hh"; "bias_ih"; "weight_hh"; "weight_ih" ] "PyTorch's names"
            let p = f64 p
            let g = Generator 2UL
            let x, h0, c0 = uniform g [| 2; i |] -1.0 1.0, uniform g [| 2; h |] -1.0 1.0, uniform g [| 2; h |] -1.0 1.0
            let h1, c1 = apply p x (h0, c0)
            let wih, whh, bih, bhh = arr (get "weight_ih" p), arr (get "weight_hh" p), arr (get "bias_ih" p), arr (get "bias_hh" p)
            let expH, expC = ResizeArray(), ResizeArray()
            for b in 0 .. 1 do
                let xv, hv, cv = (arr x).[b * i .. b * i + i - 1], (arr h0).[b * h .. b * h + h - 1], (arr c0).[b * h .. b * h + h - 1]
                let gates = Array.map2 (+) (matVec wih (4 * h) i xv) (matVec whh (4 * h) h hv) |> Array.mapi (fun k v -> v + bih.[k] + bhh.[k])
                for k in 0 .. h - 1 do
                    let ig, fg, gg, og = sigmoid gates.[k], sigmoid gates.[h + k], tanh gates.[2 * h + k], sigmoid gates.[3 * h + k]
                    let c = fg * cv.[k] + ig * gg
                    expC.Add c
                    expH.Add(og * tanh c)
            expectClose 1e-12 h1 (Tensor.FromArray(expH.ToArray(), [| 2; h |])) "h'"
            expectClose 1e-12 c1 (Tensor.FromArray(expC.ToArray(), [| 2; h |])) "c'"
            Check.gradientsN (fun xs -> let struct (a, c) = Tensor.LstmCell(xs.[0], xs.[1], xs.[2], xs.[3], get "weight_hh" p) in a + c) [| x; h0; c0; get "weight_ih" p |]
        testCase "GRU cell equals PyTorch's equations (gates r, z, n) and differentiates" <| fun () ->
            let i, h = 2, 3
            let p, apply = Model.init 3UL (nn.gruCell i h)
            let p = f64 p
            let g = Generator 4UL
            let x, h0 = uniform g [| 2; i |] -1.0 1.0, uniform g [| 2; h |] -1.0 1.0
            let h1 = apply p x h0
            let wih, whh, bih, bhh = arr (get "weight_ih" p), arr (get "weight_hh" p), arr (get "bias_ih" p), arr (get "bias_hh" p)
            let expected =
                [| for b in 0 .. 1 do
                    let xv, hv = (arr x).[b * i .. b * i + i - 1], (arr h0).[b * h .. b * h + h - 1]
                    let gi = Array.map2 (+) (matVec wih (3 * h) i xv) bih
                    let gh = Array.map2 (+) (matVec whh (3 * h) h hv) bhh
                    for k in 0 .. h - 1 do
                        let r = sigmoid (gi.[k] + gh.[k])
                        let z = sigmoid (gi.[h + k] + gh.[h + k])
                        let n = tanh (gi.[2 * h + k] + r * gh.[2 * h + k])
                        yield (1.0 - z) * n + z * hv.[k] |]
            expectClose 1e-12 h1 (Tensor.FromArray(expected, [| 2; h |])) "h'"
            Check.gradientsN (fun xs -> Tensor.GruCell(xs.[0], xs.[1], xs.[2], get "weight_hh" p, xs.[3])) [| x; h0; get "weight_ih" p; get "bias_ih" p |]
        testCase "the sequence runners step the cell over time (batch first) and return the final state" <| fun () ->
            let p, run = Model.init 5UL (nn.lstm 3 4)
            Expect.sequenceEqual (Params.names p) [ "bias_hh_l0"; "bias_ih_l0"; "weight_hh_l0"; "weight_ih_l0" ] "PyTorch's nn.LSTM names"
            let x = Tensor.Rand([| 2; 5; 3 |], Generator 6UL)
            let out, (hT, cT) = run p x
            Expect.sequenceEqual out.Shape [| 2; 5; 4 |] "outputs [B, T, H]"
            let mutable hc = Tensor.Zeros [| 2; 4 |], Tensor.Zeros [| 2; 4 |]
            for t in 0 .. 4 do
                let struct (a, c) = Tensor.LstmCell(x.Select(1, t), fst hc, snd hc, get "weight_ih_l0" p, get "weight_hh_l0" p, get "bias_ih_l0" p, get "bias_hh_l0" p)
                hc <- (a, c)
                expectClose 1e-6 (out.Select(1, t)) a (sprintf "step %d" t)
            expectClose 1e-6 hT (fst hc) "final h"
            expectClose 1e-6 cT (snd hc) "final c"
            let pg, gru = Model.init 5UL (nn.gru 3 4)
            let gOut, gH = gru pg x
            Expect.sequenceEqual gOut.Shape [| 2; 5; 4 |] "GRU outputs"
            expectClose 1e-6 (gOut.Select(1, 4)) gH "GRU final h = last output"
            let p64 = f64 pg
            Check.gradients (fun x -> fst (gru p64 x)) (uniform (Generator 7UL) [| 1; 2; 3 |] -1.0 1.0)
            throwsNaming "lstm" [ "[batch, time, features]"; "[2,3]" ] (fun () -> run p (Tensor.Zeros [| 2; 3 |]) |> ignore)
            throwsNaming "gru" [ "[batch, time, features]"; "[3]" ] (fun () -> gru pg (Tensor.Zeros [| 3 |]) |> ignore)
            throwsNaming "lstmCell" [ "[2,5]" ] (fun () -> run p (Tensor.Zeros [| 2; 4; 5 |]) |> ignore)
    ]

let private transformer =
    testList "transformer block" [
        testCase "shapes, parameters, causality and gradients" <| fun () ->
            let block = nn.transformerBlock 4 2 8 true
            let p, apply = Model.init 1UL block
            Expect.sequenceEqual (Params.names p)
                [ "linear1.bias"; "linear1.weight"; "linear2.bias"; "linear2.weight"; "norm1.bias"; "norm1.weight"; "norm2.bias"; "norm2.weight"
                  "self_attn.in_proj_bias"; "self_attn.in_proj_weight"; "self_attn.out_proj.bias"; "self_attn.out_proj.weight" ] "names"
            Expect.sequenceEqual (get "linear1.weight" p).Shape [| 8; 4 |] "MLP in [hidden, E]"
            let x = Tensor.Randn([| 2; 5; 4 |], Generator 2UL)
            let y = apply p x
            Expect.sequenceEqual y.Shape [| 2; 5; 4 |] "shape kept"
            // output at t does not depend on inputs after t
            for t in 0 .. 3 do
                let bumped = x + Tensor.FromArray([| for i in 0 .. 39 -> if i % 20 / 4 > t then 1.0f else 0.0f |], [| 2; 5; 4 |])
                expectClose 1e-5 ((apply p bumped).Narrow(1, 0, t + 1)) (y.Narrow(1, 0, t + 1)) (sprintf "positions 0..%d unchanged" t)
            Expect.isFalse (close 1e-4 (arr ((apply p (x * 1.5)).Narrow(1, 4, 1))) (arr (y.Narrow(1, 4, 1)))) "the last position sees its past"
            let p64 = f64 p
            Check.gradientsWith { GradientOptions.forDType DType.Float64 with Order = 1 } (fun xs -> apply p64 xs.[0]) [| uniform (Generator 3UL) [| 1; 3; 4 |] -1.0 1.0 |]
            Check.paramGradients (fun q -> (apply q (uniform (Generator 4UL) [| 1; 2; 4 |] -1.0 1.0)).Square().Sum()) p64
        testCase "with dropout: the identity in eval, active in train, same parameters" <| fun () ->
            let plain, withDrop = nn.transformerBlock 4 2 8 true, nn.transformerBlockWith 0.3 4 2 8 true
            let p, apply = Model.init 1UL plain
            let p2, s2 = Model.initWithState 1UL withDrop
            Expect.equal (Params.names p2) (Params.names p) "same parameters"
            Expect.equal (Params.count s2) 0 "no state"
            let x = Tensor.Randn([| 2; 5; 4 |], Generator 2UL)
            expectClose 1e-6 (Model.applyEval withDrop p s2 x) (apply p x) "eval: no dropout"
            let train key = fst (Model.applyWithState withDrop p s2 (Mode.Train key) x)
            Expect.isFalse (close 1e-3 (arr (train 1UL)) (arr (apply p x))) "train: dropout changes the output"
            expectClose 0.0 (train 1UL) (train 1UL) "the same key gives the same output"
            throwsNaming "nn.transformerBlockWith" [ "[0, 1)" ] (fun () -> nn.transformerBlockWith 1.0 4 2 8 true |> ignore)
        testCase "errors: heads not dividing the embedding size, input of another shape" <| fun () ->
            throwsNaming "nn.transformerBlock" [ "10"; "3" ] (fun () -> nn.transformerBlock 10 3 16 false |> ignore)
            let p, apply = Model.init 1UL (nn.transformerBlock 4 2 8 false)
            throwsNaming "transformerBlock" [ "[N, L, 4]"; "[2,5,3]" ] (fun () -> apply p (Tensor.Zeros [| 2; 5; 3 |]) |> ignore)
    ]

let private initializers =
    testList "initializers" [
        testCase "PyTorch's fans and bounds; orthogonal is orthogonal" <| fun () ->
            let sample (init: Init) = init.Sample(Generator 9UL)
            let w = sample (Init.xavierUniform [ 30; 20; 3 ])
            let a = sqrt (6.0 / float (20 * 3 + 30 * 3))
            Expect.isTrue (arr w |> Array.forall (fun v -> abs v <= a)) "xavier uniform within √(6/(fanIn+fanOut))"
            Expect.isGreaterThan (arr w |> Array.map abs |> Array.max) (0.9 * a) "spread over the range"
            let std (t: Tensor) = let v = arr t in sqrt (v |> Array.averageBy (fun x -> x * x))
            Expect.isLessThan (abs (std (sample (Init.kaimingNormal [ 200; 50 ])) - sqrt (2.0 / 50.0))) 0.01 "kaiming normal std √(2/fanIn)"
            Expect.isLessThan (abs (std (sample (Init.xavierNormal [ 200; 50 ])) - sqrt (2.0 / 250.0))) 0.005 "xavier normal std √(2/(fanIn+fanOut))"
            let b = sqrt (6.0 / 40.0)
            let k = sample (Init.kaimingUniform [ 10; 40 ])
            Expect.isTrue (arr k |> Array.forall (fun v -> abs v <= b)) "kaiming uniform within √(6/fanIn)"
            let f = sample (Init.fanInUniform [ 10; 4; 3; 3 ])
            Expect.isTrue (arr f |> Array.forall (fun v -> abs v <= 1.0 / 6.0)) "1/√(4·3·3)"
            for shape in [ [ 3; 5 ]; [ 5; 3 ]; [ 2; 3; 2 ] ] do
                let q = (sample (Init.orthogonal shape)).Reshape(List.head shape, -1).To DType.Float64
                let rows, cols = q.Shape.[0], q.Shape.[1]
                let gram = if rows <= cols then q.MatMul q.T else q.T.MatMul q
                expectClose 1e-5 gram (Tensor.Eye(min rows cols, dtype = DType.Float64)) (sprintf "orthogonal %A" shape)
            Expect.throwsT<ArgumentException> (fun () -> Init.xavierUniform [ 5 ] |> ignore) "one dimension has no fans"
    ]

let tests = testList "state, mode and layers" [ batchNorm; groupAndDropout; recurrent; transformer; initializers ]
