/// The F# API for models: Params, model { }, nn, losses, optimizers, the imperative shell, Train.fit.
module FunctionalAD.Tests.ApiTests

open System
open System.Collections.Generic
open Expecto
open FunctionalAD
open FunctionalAD.Imperative
open FunctionalAD.Tests.Support

let private linReg = model {
    let! w = param "w" (Init.zeros [ 1; 1 ])
    let! b = param "b" (Init.zeros [ 1 ])
    return fun (x: Tensor) -> x.MatMul w + b }

let private near = { absolute = 0.05; relative = 0.0 }

let private data () =
    let g = Generator 3UL
    let x = Tensor.Rand([| 200; 1 |], g) * 2.0 - 1.0
    x, 3.0 * x + 2.0 + 0.05 * Tensor.Randn([| 200; 1 |], g)

let models =
    testList "model { } and Params" [
        testCase "init gives stable paths and shapes; apply is pure" <| fun () ->
            let net = nn.mlp [ 2; 8; 3 ] nn.relu
            let p, apply = Model.init 7UL net
            Expect.equal (Params.names p) [ "l0.b"; "l0.w"; "l1.b"; "l1.w" ] "paths"
            Expect.sequenceEqual p.["l0.w"].shape [| 2; 8 |] "weight shape"
            let x = Tensor.randn ([ 5; 2 ], 1UL)
            Expect.sequenceEqual (apply p x).shape [| 5; 3 |] "output"
            expectClose 0.0 (apply p x) (apply p x) "pure"
            let p2, _ = Model.init 7UL net
            expectClose 0.0 p2.["l1.w"] p.["l1.w"] "same seed, same parameters"
        testCase "Params, models, optimizers and optimizer states print by themselves (as F# Interactive shows them)" <| fun () ->
            // %A goes through the same StructuredFormatDisplay as F# Interactive's echo
            let p = Params.ofList [ "w", Tensor.zeros [ 2; 3 ]; "b", Tensor.zeros [ 3 ] ]
            let table = "Params (2 tensors, 9 elements)\n  b                        [3]            Float32\n  w                        [2,3]          Float32"
            Expect.equal (sprintf "%A" p) table "Params with %A"
            Expect.equal (string p) table "Params with ToString"
            let net = model { let! l1 = scope "l1" (nn.linear 2 4) in return l1 >> nn.relu }
            let expected = "Model (2 tensors, 12 elements)\n  l1.w                     [2,4]          Float32\n  l1.b                     [4]            Float32"
            Expect.equal (sprintf "%A" net) expected "a model lists its parameters, not <fun:...>"
            Expect.equal (string net) expected "model ToString"
            let opt = Optim.adam 0.01
            Expect.equal (sprintf "%A" opt) "Adam (LearningRate = 0.01 (at step 0), Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-08, WeightDecay = 0, Decoupled = false)" "optimizer"
            Expect.equal (sprintf "%A" (Optim.init opt p)) "OptimizerState (step 0, 2 slots of 2 tensors)" "Adam's state"
            Expect.equal (sprintf "%A" (Optim.init (Optim.sgd 0.1) p)) "OptimizerState (step 0, no slots)" "plain SGD's state"
            // a multi-row tensor starts on a line of its own, so its rows line up after `val t: Tensor =` too
            let t = tensor [ [ 1; 2 ]; [ 3; 4 ] ]
            Expect.equal (sprintf "%A" t) "\ntensor([[1, 2],\n        [3, 4]], dtype=Int32)" "2-D tensor with %A"
            Expect.equal (sprintf "%A" (tensor [ 1; 2 ])) "tensor([1, 2], dtype=Int32)" "1-D stays on one line"
        testCase "grad over Params returns Params of the same names" <| fun () ->
            let p, apply = Model.init 0UL (nn.linear 3 2)
            let x = Tensor.randn ([ 4; 3 ], 2UL)
            let g = Tree.grad (fun p -> (apply p x).Sum()) p
            Expect.equal (Params.names g) (Params.names p) "names"
            expectClose 1e-5 g.["b"] (Tensor.Full([| 2 |], 4.0)) "d sum / d b = batch size"
            expectClose 1e-5 g.["w"] (x.Sum(0).Unsqueeze(1).Expand(3, 2)) "d sum / d w"
        testCase "mistakes give clear errors" <| fun () ->
            let twice = model {
                let! a = param "w" (Init.zeros [ 1 ])
                let! b = param "w" (Init.zeros [ 1 ])
                return a + b }
            // each error names what is wrong, not only its type
            let message (f: unit -> unit) =
                try f (); failtest "expected an exception" with
                | :? AssertException -> reraise ()
                | e -> e.GetType(), e.Message
            let t, m = message (fun () -> Model.init 0UL twice |> ignore)
            Expect.equal t typeof<InvalidOperationException> "duplicate"
            Expect.stringContains m "'w' is declared twice" "the duplicate's name"
            let p, apply = Model.init 0UL (nn.linear 3 2)
            let wrong = Params.ofList [ "w", Tensor.zeros [ 2; 2 ]; "b", Tensor.zeros [ 2 ] ]
            Expect.throwsT<ShapeMismatchException> (fun () -> apply wrong |> ignore) "shape mismatch"
            let t, m = message (fun () -> apply (Params.ofList [ "w", p.["w"] ]) |> ignore)
            Expect.equal t typeof<KeyNotFoundException> "missing"
            Expect.stringContains m "'b'" "the missing parameter's name"
            let t, m = message (fun () -> apply (Params.ofList [ "w", p.["w"]; "b", p.["b"]; "c", p.["b"] ]) |> ignore)
            Expect.equal t typeof<ArgumentException> "extra"
            Expect.stringContains m "declare: c" "the extra parameter's name"
        testCase "layers: sequential, layerNorm, embedding, dropout, activations" <| fun () ->
            let p, apply = Model.init 1UL (nn.sequential [ nn.linear 4 4; nn.fn nn.gelu; nn.layerNorm 4 ])
            Expect.equal (Params.names p) [ "0.b"; "0.w"; "2.bias"; "2.weight" ] "scoped by position"
            let y = apply p (Tensor.randn ([ 3; 4 ], 5UL))
            expectClose 1e-5 (y.Mean(-1)) (Tensor.zeros [ 3 ]) "layer norm centres"
            let pe, emb = Model.init 1UL (nn.embedding 10 3)
            Expect.sequenceEqual (emb pe (tensor [ [ 1L; 2L ]; [ 3L; 9L ] ])).shape [| 2; 2; 3 |] "embedding shape"
            let d = nn.dropout 0.5 (Generator 9UL) (Tensor.ones [ 1000 ])
            let kept = (d.Gt 0.0).To(DType.Float32).Mean().Item()
            Expect.isTrue (kept > 0.4 && kept < 0.6) "about half kept"
            Expect.floatClose Accuracy.medium (d.Max().Item()) 2.0 "rescaled by 1/(1-rate)"
            expectClose 1e-12 ((nn.softmax (tensor [ [ 1.0; 2.0 ] ])).Sum(-1)) (tensor [ 1.0 ]) "softmax"
    ]

let losses =
    testList "losses (values from PyTorch)" [
        testCase "mse, l1" <| fun () ->
            Expect.floatClose Accuracy.veryHigh ((Loss.mse (tensor [ 1.0; 2.0; 3.0 ]) (tensor [ 1.0; 1.0; 1.0 ])).Item()) (5.0 / 3.0) "mse"
            Expect.floatClose Accuracy.veryHigh ((Loss.l1With Sum (tensor [ 1.0; -2.0 ]) (tensor [ 0.0; 0.0 ])).Item()) 3.0 "l1 sum"
            Expect.sequenceEqual (Loss.mseWith NoReduction (tensor [ 1.0; 2.0 ]) (tensor [ 0.0; 0.0 ])).shape [| 2 |] "none"
            Expect.throwsT<ShapeMismatchException> (fun () -> Loss.mse (tensor [ 1.0 ]) (tensor [ 1.0; 2.0 ]) |> ignore) "shapes"
        testCase "cross-entropy with class indices and with probabilities; nll" <| fun () ->
            let logits = tensor [ [ 1.0; 2.0; 3.0 ]; [ 1.0; 0.0; -1.0 ] ]
            let ce = Loss.crossEntropy logits (tensor [ 2L; 0L ])
            // torch.nn.functional.cross_entropy(tensor([[1.,2,3],[1,0,-1]]), tensor([2,0])) = 0.4076059644
            Expect.floatClose Accuracy.high (ce.Item()) 0.4076059644 "indices"
            let soft = Loss.crossEntropy logits (tensor [ [ 0.0; 0.0; 1.0 ]; [ 1.0; 0.0; 0.0 ] ])
            Expect.floatClose Accuracy.high (soft.Item()) 0.4076059644 "one-hot probabilities"
            Expect.floatClose Accuracy.high ((Loss.nll (logits.LogSoftmax(-1)) (tensor [ 2L; 0L ])).Item()) 0.4076059644 "nll"
            Expect.throwsT<ShapeMismatchException> (fun () -> Loss.crossEntropy logits (tensor [ 1L ]) |> ignore) "index shape"
        testCase "binary cross-entropy, stable with logits" <| fun () ->
            // mean of log(1 + e^-0.5) and log(1 + e^-1)
            let expected = (log (1.0 + exp -0.5) + log (1.0 + exp -1.0)) / 2.0
            Expect.floatClose Accuracy.high ((Loss.binaryCrossEntropyWithLogits (tensor [ 0.5; -1.0 ]) (tensor [ 1.0; 0.0 ])).Item()) expected "logits"
            Expect.floatClose Accuracy.high ((Loss.binaryCrossEntropy (tensor [ 0.5; -1.0 ] |> sigmoid) (tensor [ 1.0; 0.0 ])).Item()) expected "probabilities"
            Expect.floatClose Accuracy.high ((Loss.binaryCrossEntropyWithLogits (tensor [ 1000.0; -1000.0 ]) (tensor [ 0.0; 1.0 ])).Item()) 1000.0 "no overflow"
            let g = grad (fun x -> Loss.binaryCrossEntropyWithLogits x (tensor [ 1.0 ])) (tensor [ 0.3 ])
            expectClose 1e-12 g (sigmoid (tensor [ 0.3 ]) - 1.0) "gradient sigmoid(x) - t"
        testCase "the everyday losses against their definitions" <| fun () ->
            let v (t: Tensor) = t.Item()
            let close what (a: float) (b: float) = Expect.floatClose Accuracy.high a b what
            let p, t = tensor [ 0.5; 2.0 ], tensor [ 0.0; 0.0 ]
            close "huber" (v (Loss.huber p t)) ((0.125 + 1.5) / 2.0)
            close "smoothL1 beta 1 = huber delta 1" (v (Loss.smoothL1 p t)) ((0.125 + 1.5) / 2.0)
            close "smoothL1 beta 0.5" (v (Loss.smoothL1With Mean 0.5 (tensor [ 0.3; 2.0 ]) t)) ((0.09 + 1.75) / 2.0)
            close "smoothL1 beta 0 is l1" (v (Loss.smoothL1With Sum 0.0 p t)) 2.5
            close "klDiv" (v (Loss.klDivWith Sum ((tensor [ 0.25; 0.25; 0.5 ]).Log()) (tensor [ 0.5; 0.5; 0.0 ]))) (log 2.0)
            close "cosineEmbedding" (v (Loss.cosineEmbeddingWith Sum 0.0 (tensor [ [ 1.0; 0.0 ]; [ 1.0; 0.0 ] ]) (tensor [ [ 0.0; 1.0 ]; [ 1.0; 0.0 ] ]) (tensor [ 1.0; -1.0 ]))) 2.0
            close "marginRanking" (v (Loss.marginRanking (tensor [ 1.0; 2.0 ]) (tensor [ 2.0; 1.0 ]) (tensor [ 1.0; 1.0 ]))) 0.5
            let a, pos = tensor [ [ 0.0; 0.0 ] ], tensor [ [ 1.0; 0.0 ] ]
            close "tripletMargin" (v (Loss.tripletMargin a pos (tensor [ [ 1.5; 0.0 ] ]))) 0.5
            close "tripletMargin, easy negative" (v (Loss.tripletMargin a pos (tensor [ [ 3.0; 0.0 ] ]))) 0.0
            close "poissonNll" (v (Loss.poissonNll (tensor [ 0.0; log 2.0 ]) (tensor [ 1.0; 2.0 ]))) ((1.0 + 2.0 - 2.0 * log 2.0) / 2.0)
            close "gaussianNll" (v (Loss.gaussianNll (tensor [ 0.0 ]) (tensor [ 1.0 ]) (tensor [ 2.0 ]))) (0.5 * (log 2.0 + 0.5))
        testCase "cross-entropy with class weights, an ignored index and label smoothing (PyTorch's definitions)" <| fun () ->
            let logits = tensor [ [ 1.0; 2.0; 3.0 ]; [ 1.0; 0.0; -1.0 ] ]
            let logp (row: float list) = let m = row |> List.map exp |> List.sum |> log in row |> List.map (fun x -> x - m)
            let l0, l1 = logp [ 1.0; 2.0; 3.0 ], logp [ 1.0; 0.0; -1.0 ]
            let w = tensor [ 1.0; 2.0; 3.0 ]
            let weighted = Loss.crossEntropyOptions Mean (Some w) None 0.0 logits (tensor [ 2L; 0L ])
            Expect.floatClose Accuracy.high (weighted.Item()) ((3.0 * -l0.[2] + 1.0 * -l1.[0]) / 4.0) "weighted mean divides by the weights"
            let ignored = Loss.crossEntropyOptions Mean None (Some -100L) 0.0 logits (tensor [ 2L; -100L ])
            Expect.floatClose Accuracy.high (ignored.Item()) (-l0.[2]) "the ignored target counts for nothing"
            let smooth = Loss.crossEntropyOptions Mean None None 0.1 logits (tensor [ 2L; 0L ])
            let s (l: float list) y = 0.9 * -l.[y] + 0.1 / 3.0 * -(List.sum l)
            Expect.floatClose Accuracy.high (smooth.Item()) ((s l0 2 + s l1 0) / 2.0) "label smoothing"
            let plain = Loss.crossEntropyOptions Mean None None 0.0 logits (tensor [ 2L; 0L ])
            Expect.floatClose Accuracy.veryHigh (plain.Item()) ((Loss.crossEntropy logits (tensor [ 2L; 0L ])).Item()) "no options = crossEntropy"
            let r = gradcheck (fun x -> Loss.crossEntropyOptions Mean (Some w) (Some 1L) 0.2 x (tensor [ 2L; 1L ])) logits
            Expect.isTrue r.Passed (sprintf "gradient = finite differences (%A)" r)
            let r = gradcheck (fun x -> Loss.huberWith Sum 0.7 x (tensor [ 0.0; 0.0 ])) (tensor [ 0.3; -1.2 ])
            Expect.isTrue r.Passed "huber gradient"
    ]

let optimizers =
    testList "optimizers" [
        testCase "Adagrad, Adamax and Lion follow PyTorch's updates; gradient clipping" <| fun () ->
            let p, g = tensor [ 1.0 ], tensor [ 0.5 ]
            let twoSteps opt =
                let p1, s1 = Optim.step opt (Optim.init opt p) p g
                let p2, _ = Optim.step opt s1 p1 g
                p1.Item(), p2.Item()
            let a1, a2 = twoSteps (Optim.adagrad 0.1)
            Expect.floatClose Accuracy.high a1 0.9 "adagrad step 1"
            Expect.floatClose Accuracy.high a2 (0.9 - 0.1 * 0.5 / sqrt 0.5) "adagrad step 2"
            let m1, _ = twoSteps (Optim.adamax 0.1)
            Expect.floatClose Accuracy.medium m1 0.9 "adamax step 1"
            let l1, l2 = twoSteps (Optim.lion 0.1 0.0)
            Expect.floatClose Accuracy.veryHigh l1 0.9 "lion step 1 moves by lr·sign"
            Expect.floatClose Accuracy.veryHigh l2 0.8 "lion step 2"
            let clipped, norm = Optim.clipGradNorm 1.0 (tensor [ 3.0 ], tensor [ 4.0 ])
            Expect.floatClose Accuracy.veryHigh norm 5.0 "the norm before clipping"
            Expect.floatClose Accuracy.veryHigh ((fst clipped).Item()) (3.0 / (5.0 + 1e-6)) "scaled by maxNorm / (norm + 1e-6), as PyTorch"
            Expect.sequenceEqual ((Optim.clipGradValue 0.5 (tensor [ -2.0; 0.1; 3.0 ])).ToDoubleArray()) [| -0.5; 0.1; 0.5 |] "clip by value"
            Expect.throwsT<ArgumentException> (fun () -> Optim.clipGradNorm 0.0 (tensor [ 1.0 ]) |> ignore) "maxNorm > 0"
            // Adadelta step 1: v = 0.1·0.25, delta = sqrt(1e-6)/sqrt(v + 1e-6)·0.5
            let d1, _ = twoSteps (Optim.adadelta 1.0)
            Expect.floatClose Accuracy.high d1 (1.0 - sqrt 1e-6 / sqrt (0.025 + 1e-6) * 0.5) "adadelta step 1"
        testCase "oneCycle: warm up to the maximum at 30%, anneal to maxLr/25/1e4" <| fun () ->
            let s = Schedule.oneCycle 1.0 100
            Expect.floatClose Accuracy.veryHigh (s 0) 0.04 "starts at maxLr / 25"
            Expect.floatClose Accuracy.veryHigh (s 29) 1.0 "peaks at step 29 (PyTorch: int(0.3·100) - 1)"
            Expect.floatClose Accuracy.high (s 99) 4e-6 "ends at maxLr / 25 / 1e4"
            Expect.isTrue (s 10 < s 20 && s 50 > s 70) "rises, then falls"
        testCase "SGD, momentum and Nesterov follow PyTorch's update" <| fun () ->
            let p, g = tensor [ 1.0; -2.0 ], tensor [ 0.5; 0.25 ]
            let p1, s1 = Optim.step (Optim.sgd 0.1) (Optim.init (Optim.sgd 0.1) p) p g
            expectClose 1e-12 p1 (p - 0.1 * g) "sgd"
            let opt = Optim.momentum 0.1 0.9
            let q1, t1 = Optim.step opt (Optim.init opt p) p g
            let q2, _ = Optim.step opt t1 q1 g
            expectClose 1e-12 q2 (p - 0.1 * g - 0.1 * (0.9 * g + g)) "momentum buffer"
            let nopt = Optim.nesterov 0.1 0.9
            let n1, _ = Optim.step nopt (Optim.init nopt p) p g
            expectClose 1e-12 n1 (p - 0.1 * (g + 0.9 * g)) "nesterov"
            Expect.equal s1.Step 1 "step count"
        testCase "Adam's first step moves each weight by about lr; AdamW decays decoupled" <| fun () ->
            let p, g = tensor [ 1.0; -2.0 ], tensor [ 0.5; -0.25 ]
            let opt = Optim.adam 0.01
            let p1, _ = Optim.step opt (Optim.init opt p) p g
            expectClose 1e-6 p1 (tensor [ 0.99; -1.99 ]) "sign step"
            let w = Optim.adamW 0.01 0.1
            let p2, _ = Optim.step w (Optim.init w p) p (Tensor.ZerosLike p)
            expectClose 1e-12 p2 (p * (1.0 - 0.01 * 0.1)) "decoupled decay with zero gradient"
        testCase "RMSProp and schedules" <| fun () ->
            let opt = Optim.rmsprop 0.01
            let p1, _ = Optim.step opt (Optim.init opt (scalar 1.0)) (scalar 1.0) (scalar 2.0)
            Expect.floatClose Accuracy.high (p1.Item()) (1.0 - 0.01 * 2.0 / (sqrt (0.01 * 4.0) + 1e-8)) "rmsprop"
            Expect.floatClose Accuracy.veryHigh (Schedule.cosine 1.0 0.0 10 5) 0.5 "cosine midpoint"
            Expect.floatClose Accuracy.veryHigh (Schedule.stepDecay 1.0 10 0.5 25) 0.25 "step decay"
        testCase "optimizers work on any tree; the state is an immutable value" <| fun () ->
            let p = (tensor [ 1.0 ], tensor [ 2.0 ])
            let opt = Optim.sgd 0.5
            let s0 = Optim.init opt p
            let (a, b), s1 = Optim.step opt s0 p (tensor [ 1.0 ], tensor [ 2.0 ])
            Expect.equal [ a.Item(); b.Item() ] [ 0.5; 1.0 ] "tuple"
            Expect.equal s0.Step 0 "old state unchanged"
        testCase "nadam follows PyTorch's NAdam (momentum decay 4e-3)" <| fun () ->
            // p = 1, g = 0.5 then -0.25, lr 0.1: see OptimizerTests.cs (C#) for the worked first step, 0.8943548
            let opt = Optim.nadam 0.1
            let p0 = tensor [ 1.0 ]
            let p1, s1 = Optim.step opt (Optim.init opt p0) p0 (tensor [ 0.5 ])
            let p2, _ = Optim.step opt s1 p1 (tensor [ -0.25 ])
            Expect.floatClose Accuracy.veryHigh (p1.Item()) 0.8943548242773647 "step 1"
            Expect.floatClose Accuracy.veryHigh (p2.Item()) 0.9354657961611363 "step 2"
        testCase "parameter groups give parameters chosen by name their own learning rate and weight decay" <| fun () ->
            let p = Params.ofList [ "body.w", tensor [ 1.0 ]; "head.w", tensor [ 1.0 ]; "header", tensor [ 1.0 ] ]
            let g = Params.map (fun _ -> tensor [ 2.0 ]) p
            let opt = Optim.sgd 0.1 |> Optim.withGroups [ ParamGroup.prefix "head" |> ParamGroup.learningRate 0.5 |> ParamGroup.weightDecay 1.0 ]
            let p1, _ = Optim.step opt (Optim.init opt p) p g
            Expect.floatClose Accuracy.veryHigh (p1.["body.w"].Item()) (1.0 - 0.1 * 2.0) "the optimizer's settings"
            Expect.floatClose Accuracy.veryHigh (p1.["head.w"].Item()) (1.0 - 0.5 * (2.0 + 1.0)) "the group's: p - lr (g + wd p)"
            Expect.floatClose Accuracy.veryHigh (p1.["header"].Item()) (1.0 - 0.1 * 2.0) "a prefix is a path segment, not a string prefix"
            Expect.throwsT<System.ArgumentException> (fun () -> Optim.step opt (Optim.init opt [| tensor [ 1.0 ] |]) [| tensor [ 1.0 ] |] [| tensor [ 1.0 ] |] |> ignore) "groups need names"
        testCase "a Plateau schedule drives a pure optimizer's learning rate (PyTorch's ReduceLROnPlateau)" <| fun () ->
            let plateau = Plateau(Factor = 0.5, Patience = 1, Threshold = 0.1, Cooldown = 1)
            let rates =
                [ 10.0; 9.5; 9.2; 9.1; 9.0; 9.05; 5.0 ]
                |> List.scan (fun s m -> plateau.Step(s, m)) (plateau.Start 1.0)
                |> List.tail |> List.map (fun s -> s.LearningRate)
            Expect.equal rates [ 1.0; 1.0; 0.5; 0.5; 0.5; 0.25; 0.25 ] "reduced after patience, cooldown respected"
            let opt = Optim.sgd 1.0 |> Optim.withLearningRate (List.last rates)
            Expect.equal (Optim.learningRate opt 3) 0.25 "withLearningRate"
        testCase "the shared initializers draw what the F# layers draw, so C# and F# layers seeded alike start alike" <| fun () ->
            let p, _ = Model.init 7UL (nn.linear 3 2)
            let w = Initializers.KaimingNormal([| 3; 2 |], 3, Initializers.ForPath(7UL, "w"))
            Expect.sequenceEqual (w.ToDoubleArray()) (p.["w"].ToDoubleArray()) "linear weight"
            let c, _ = Model.init 7UL (nn.conv2d 2 4 3)
            let k = Initializers.FanInUniform([| 4; 2; 3; 3 |], 18, Initializers.ForPath(7UL, "weight"))
            Expect.sequenceEqual (k.ToDoubleArray()) (c.["weight"].ToDoubleArray()) "conv kernel"
        testCase "ModelModule: a model { } as an imperative Module, with scopes as child modules" <| fun () ->
            let m = ModelModule(nn.mlp [ 2; 3; 1 ] nn.relu, 1UL)
            Expect.equal [ for np in m.NamedParameters() -> np.Name ] [ "l0.b"; "l0.w"; "l1.b"; "l1.w" ] "paths"
            Expect.equal [ for struct (name, _) in m.NamedChildren() -> name ] [ "l0"; "l1" ] "scopes are children"
            Expect.equal (m.Forward(Tensor.Zeros [| 5; 2 |]).Shape) [| 5; 1 |] "forward"
            let sd = m.StateDict()
            Expect.sequenceEqual (sd.["l1.w"].ToDoubleArray()) (m.Params.["l1.w"].ToDoubleArray()) "state dict = Params"
    ]

let training =
    testList "training" [
        testCase "referencing FunctionalAD leaves the application's GC settings alone (they are opt-in)" <| fun () ->
            // the test program does not set FunctionalADTunedGC, so its runtimeconfig.json carries none of the
            // tuned settings (build.fsx may still set DOTNET_gc* variables; they do not reach AppContext)
            for setting in [ "System.GC.Server"; "System.GC.HeapCount"; "System.GC.Name"; "System.GC.LOHThreshold" ] do
                Expect.isNull (AppContext.GetData setting) (sprintf "%s is not in the application's runtimeconfig" setting)
        testCase "functional and imperative linear regression give the same parameters" <| fun () ->
            let x, y = data ()
            // functional: grad + Optim
            let p0, apply = Model.init 0UL linReg
            let opt = Optim.sgd 0.1
            let mutable p, s = p0, Optim.init opt p0
            for _ in 1 .. 300 do
                let g = Tree.grad (fun q -> Loss.mse (apply q x) y) p
                let p', s' = Optim.step opt s p g
                p <- p'
                s <- s'
            // imperative: Module, ZeroGrad, Backward, Step
            let m = ModelModule(linReg, 0UL)
            let sgd = Sgd(m.Parameters, 0.1)
            for _ in 1 .. 300 do
                sgd.ZeroGrad()
                let loss = Loss.mse (m.Forward x) y
                loss.Backward() |> ignore
                sgd.Step()
            Expect.floatClose near (p.["w"].Item()) 3.0 "slope ~ 3"
            Expect.floatClose near (p.["b"].Item()) 2.0 "intercept ~ 2"
            expectClose 1e-10 m.Params.["w"] p.["w"] "same slope"
            expectClose 1e-10 m.Params.["b"] p.["b"] "same intercept"
            Expect.isNotNull (m.Parameters.[0].Grad) "Backward filled Grad"
        testCase "Train.fit over mini-batches returns the loss history" <| fun () ->
            let x, y = data ()
            let p0, apply = Model.init 0UL linReg
            let config = { Train.defaults with Epochs = 30; BatchSize = 20; Optimizer = Optim.adam 0.1; Progress = false }
            let p, history = Train.fit config (fun p xb yb -> Loss.mse (apply p xb) yb) p0 x y
            Expect.equal history.Length 30 "one value per epoch"
            Expect.isLessThan history.[29] (history.[0] / 10.0) "loss falls"
            Expect.floatClose near (p.["w"].Item()) 3.0 "slope"
    ]

let tests = testList "F# API" [ models; losses; optimizers; training ]
