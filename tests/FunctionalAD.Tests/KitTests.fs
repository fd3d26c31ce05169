/// FunctionalAD.Testing tested on itself: its generators keep their promises (shapes in bounds, broadcastable
/// tuples, SPD matrices, valid indices), its shrinking reaches tiny counterexamples, and its checks catch wrong
/// derivatives with messages that name the worst element.
module FunctionalAD.Tests.KitTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Testing
open FunctionalAD.Tests.Support

let private throwsCheck (f: unit -> unit) =
    try
        f ()
        failtest "expected a CheckFailedException"
    with :? CheckFailedException as e -> e.Message

/// sin with a hand-written backward; `wrong` scales it by 1.01 (a typo-sized bug).
let private customSin (wrong: bool) =
    customFn (if wrong then "wrongSin" else "mySin") sin (fun g x _ -> if wrong then g * cos x * 1.01 else g * cos x) None

let private quick = Config.QuickThrowOnFailure.WithMaxTest(40).WithReplay(Some { Rnd = Rnd(12345UL, 67891UL); Size = None })

let tests =
    testList "FunctionalAD.Testing" [
        testProp "shapes stay within their bounds, and so do their shrinks" (fun (b: ShapeBounds, s: int[]) ->
            let within (s: int[]) = s.Length >= b.MinRank && s.Length <= b.MaxRank && s |> Array.forall (fun d -> d >= b.MinSide && d <= b.MaxSide)
            Expect.isTrue (within s) (sprintf "%A within %A" s b)
            for s' in Shapes.shrink b s do Expect.isTrue (within s') (sprintf "shrink %A within %A" s' b))
            (gen {
                let! lo = Gen.choose (0, 2)
                let! hi = Gen.choose (lo, 4)
                let! side = Gen.choose (0, 2)
                let b = Shapes.bounds lo hi side (side + 3)
                let! s = Shapes.gen b
                return b, s })
        testProp "broadcast tuples broadcast, and so do all their shrinks" (fun (ts: Tensor[]) ->
            let ok (ts: Tensor[]) = Shapes.broadcast (ts |> Array.map (fun t -> t.Shape)) |> ignore
            ok ts
            for ts' in Tensors.shrinkBroadcast (Array.create ts.Length Values.standard) Shapes.small ts |> Seq.truncate 30 do ok ts')
            (Gen.choose (1, 4) |> Gen.bind (fun n -> Tensors.broadcastGen DType.Float64 (Array.create n Values.standard) Shapes.small))
        testProp "values respect their interval, gap and dtype; shrinks too" (fun (t: Tensor, v: Values) ->
            let ok (t: Tensor) = t.ToDoubleArray() |> Array.forall (Values.contains v)
            Expect.isTrue (ok t) (sprintf "%O in %A" t v)
            for t' in Tensors.shrink v Shapes.small t |> Seq.truncate 30 do Expect.isTrue (ok t') (sprintf "shrink %O in %A" t' v))
            (gen {
                let! v = Gen.elements [ Values.standard; Values.between 0.5 3.0; Values.awayFrom [ 0.0 ] 0.25 Values.standard
                                        Values.awayFrom [ 0.0; 1.0 ] 0.1 (Values.between -0.5 2.5) ]
                let! t = Tensors.gen DType.Float64 v Shapes.small
                return t, v })
        testCase "special values appear when asked for, never otherwise" <| fun () ->
            let sample v = Gen.sampleWithSeed (Rnd(1UL, 3UL)) 10 50 (Tensors.ofShape DType.Float32 v [| 20 |]) |> Array.collect (fun t -> t.ToDoubleArray())
            Expect.isTrue (sample Values.standard |> Array.forall Double.IsFinite) "finite only"
            let xs = sample (Values.withSpecials Values.standard)
            Expect.isTrue (Array.exists Double.IsNaN xs && Array.exists Double.IsPositiveInfinity xs && Array.exists Double.IsNegativeInfinity xs) "NaN and ±inf"
        testCase "integer tensors hold integers of the interval" <| fun () ->
            for t in Gen.sampleWithSeed (Rnd(3UL, 5UL)) 10 20 (Tensors.gen DType.Int64 (Values.between -3.0 5.0) Shapes.small) do
                Expect.equal t.DType DType.Int64 "dtype"
                Expect.isTrue (t.ToDoubleArray() |> Array.forall (fun x -> x = Math.Round x && x >= -3.0 && x <= 5.0)) (string t)
        testProp "SPD matrices have a Cholesky factor; so do their shrinks" (fun (m: Tensor) ->
            let positive (m: Tensor) =
                // Cholesky by hand: every pivot positive
                let n = m.Shape.[0]
                let a = Array2D.init n n (fun i j -> m.ToDoubleArray().[i * n + j])
                let mutable ok = true
                for j in 0 .. n - 1 do
                    let d = a.[j, j] - List.sum [ for k in 0 .. j - 1 -> a.[j, k] * a.[j, k] ]
                    if d <= 0.0 then ok <- false
                    let l = sqrt (max d 1e-300)
                    a.[j, j] <- l
                    for i in j + 1 .. n - 1 do a.[i, j] <- (a.[i, j] - List.sum [ for k in 0 .. j - 1 -> a.[i, k] * a.[j, k] ]) / l
                ok && m.ToDoubleArray() = (m.T.ToDoubleArray())
            Expect.isTrue (positive m) (string m)
            for m' in Matrices.shrink m do Expect.isTrue (positive m') (string m'))
            (Gen.choose (1, 5) |> Gen.bind (Matrices.spd DType.Float64))
        testProp "well-conditioned matrices are strictly diagonally dominant" (fun (m: Tensor) ->
            let n = m.Shape.[0]
            let a = m.ToDoubleArray()
            for i in 0 .. n - 1 do
                let off = List.sum [ for j in 0 .. n - 1 do if j <> i then abs a.[i * n + j] ]
                Expect.isGreaterThanOrEqual (abs a.[i * n + i]) (1.0 + off - 1e-12) (sprintf "row %d of %O" i m))
            (Gen.choose (1, 5) |> Gen.bind (Matrices.wellConditioned DType.Float64))
        testProp "indices are valid for their dimension" (fun (x: Tensor, dim: int, ix: Tensor) ->
            Expect.isTrue (ix.ToArray<int64>() |> Array.forall (fun i -> i >= 0L && i < int64 x.Shape.[dim])) "in range"
            x.IndexSelect(dim, ix) |> ignore)
            (gen {
                let! x = Tensors.gen DType.Float64 Values.standard (Shapes.bounds 1 3 1 4)
                let! dim = Gen.choose (0, x.Shape.Length - 1)
                let! ix = Indices.forDim x dim 5
                return x, dim, ix })
        testCase "paramsLike keeps a model's names and shapes" <| fun () ->
            let model = nn.linear 3 2
            let p0 = fst (Model.init 1UL model)
            for p in Gen.sampleWithSeed (Rnd(5UL, 7UL)) 10 5 (Trees.paramsOf Values.standard model) do
                Expect.equal (Params.names p) (Params.names p0) "names"
                for n in Params.names p do Expect.sequenceEqual p.[n].Shape p0.[n].Shape n
        testCase "allClose names the worst element, its index, both values and the tolerance" <| fun () ->
            let a = Tensor.FromArray([| 1.0; 2.0; 3.0; 4.0 |], [| 2; 2 |])
            Check.allClose a a
            Check.allClose (a + 1e-9) a
            let msg = throwsCheck (fun () -> Check.allClose (a + Tensor.FromArray([| 0.0; 0.0; 0.5; 1e-3 |], [| 2; 2 |])) a)
            for part in [ "2 of 4"; "[1, 0]"; "actual 3.5"; "expected 3"; "atol 1e-07"; "rtol 1e-07" ] do Expect.stringContains msg part "message"
            Expect.stringContains (throwsCheck (fun () -> Check.allClose a (a.reshape(4)))) "shapes differ" "shape"
            Expect.stringContains (throwsCheck (fun () -> Check.allClose a (a.To DType.Float32))) "dtypes differ" "dtype"
            Expect.stringContains (throwsCheck (fun () -> Check.allClose (a / Tensor.Zeros([| 2; 2 |], DType.Float64) * 0.0) a)) "NaN" "NaN"
            Check.allCloseWith { Tolerance.forDType DType.Float64 with EqualNaN = true } (Tensor.Full([| 2 |], nan, DType.Float64)) (Tensor.Full([| 2 |], nan, DType.Float64))
        testCase "gradient checks pass on correct code in Float64 and Float32, orders 1 and 2" <| fun () ->
            let x = Tensor.FromArray([| 0.3; -1.2; 2.0 |], [| 3 |])
            Check.gradients (fun x -> sin x * exp x) x
            Check.gradients (fun x -> (sin x).Sum()) (x.To DType.Float32)
            Check.gradientsN (fun xs -> xs.[0].MatMul(xs.[1])) [| Tensor.FromArray([| 1.0; 2.0; 3.0; 4.0 |], [| 2; 2 |]); x.[0..1].reshape(2, 1) |]
            Check.paramGradients (fun p -> (tanh (p.["w"] * p.["b"])).Sum()) (Params.ofList [ "w", x; "b", x * 0.5 ])
            Check.customGradient (customSin false) x
            Check.jvpVjpTranspose (fun x -> x.Softmax(0)) x
        testCase "a wrong backward is caught, naming the worst element and the input" <| fun () ->
            let msg = throwsCheck (fun () -> Check.customGradient (customSin true) (Tensor.FromArray([| 0.1; 0.5 |])))
            for part in [ "reverse-mode gradient of x"; "worst is at index [0]"; "analytic"; "numeric"; "x = tensor" ] do Expect.stringContains msg part "message"
        testCase "a jvp rule that is not the transpose of the backward rule is caught" <| fun () ->
            let f = customFn "mismatched" sin (fun g x _ -> g * cos x) (Some(fun dx x _ -> dx * cos x * 2.0))
            Expect.stringContains (throwsCheck (fun () -> Check.jvpVjpTranspose f (Tensor.FromArray([| 0.1; 0.5 |])))) "<w, J·v>" "transposition"
            Expect.stringContains (throwsCheck (fun () -> Check.customGradient f (Tensor.FromArray([| 0.1; 0.5 |])))) "forward-mode tangent" "forward"
        testCase "a wrong second derivative is caught (gradgradcheck)" <| fun () ->
            // first derivative right at every point, but its own derivative wrong: d/dx (g·cos x) should be -g·sin x
            let f = customFn "flatSecond" sin (fun g x _ -> g * (cos x).StopGradient()) None
            Expect.stringContains (throwsCheck (fun () -> Check.customGradient f (Tensor.FromArray([| 0.1; 0.5 |])))) "Hessian-vector product" "second order"
        testCase "integer inputs are refused by name" <| fun () ->
            let e = Expect.throwsC (fun () -> Check.gradients id (Tensor.FromArray([| 1L; 2L |]))) id
            Expect.stringContains e.Message "Int64" "names the dtype"
        testCase "Prop.gradientsMatch shrinks a wrong backward to a counterexample of at most 2 elements" <| fun () ->
            let arb = Tensors.arb DType.Float64 Values.standard Shapes.small
            match Prop.counterexample quick (Prop.customGradientMatches arb (customSin true)) with
            | None -> failtest "the wrong backward was not caught"
            | Some(args, message) ->
                let x = args |> List.head :?> Tensor
                Expect.isLessThanOrEqual x.Numel 2 (sprintf "shrunk to %O" x)
                Expect.stringContains message "reverse-mode gradient" "the failure says what differs"
            Expect.isNone (Prop.counterexample quick (Prop.customGradientMatches arb (customSin false))) "the corrected backward passes"
        testPropertyWithConfig config "Prop.gradientsMatchN on a broadcasting function" (Prop.gradientsMatchN (Tensors.arbBroadcast DType.Float64 [| Values.standard; Values.between 0.5 2.0 |] Shapes.small) (fun xs -> xs.[0] * log xs.[1]))
    ]
