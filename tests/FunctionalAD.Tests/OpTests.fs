/// The everyday op set (issue 17) beyond what the op seam checks by itself (property table, fused kernels, GPU vs
/// CPU, PTX): known values in Float32 and Float64, the edges (overflow, signs, zeros, infinities), the composites
/// (ops with a constant parameter, Bool results) and their derivatives, and digamma's derivatives of every order.
module FunctionalAD.Tests.OpTests

open System
open Expecto
open FunctionalAD
open FunctionalAD.Tests.Support

let private both = [ DType.Float32; DType.Float64 ]
let private tol (d: DType) = if d = DType.Float32 then 2e-6 else 1e-14

/// f applied to xs in dtype d equals the expected values (relative to max(1, |expected|)).
let private values name (f: Tensor -> Tensor) (xs: float list) (expected: float list) =
    testCase name <| fun () ->
        for d in both do
            let y = f ((tensor xs).To d)
            Expect.equal y.DType d (sprintf "%s keeps %A" name d)
            let a = y.ToDoubleArray()
            List.iteri (fun i (e: float) ->
                let ok =
                    if Double.IsNaN e then Double.IsNaN a.[i]
                    elif Double.IsInfinity e then a.[i] = e
                    else abs (a.[i] - e) <= tol d * max 1.0 (abs e)
                if not ok then failtestf "%s(%g) in %A = %.17g, expected %.17g" name xs.[i] d a.[i] e) expected

let private values2 name (f: Tensor -> Tensor -> Tensor) (xs: float list) (ys: float list) (expected: float list) =
    testCase name <| fun () ->
        for d in both do
            let a = (f ((tensor xs).To d) ((tensor ys).To d)).ToDoubleArray()
            List.iteri (fun i (e: float) ->
                let ok =
                    if Double.IsNaN e then Double.IsNaN a.[i]
                    elif Double.IsInfinity e then a.[i] = e
                    else abs (a.[i] - e) <= tol d * max 1.0 (abs e)
                if not ok then failtestf "%s(%g, %g) in %A = %.17g, expected %.17g" name xs.[i] ys.[i] d a.[i] e) expected

let private eulerGamma = 0.57721566490153286

let private knownValues =
    testList "known values" [
        testCase "add with alpha: the one-pass update equals the composite, views and traced operands included" <| fun () ->
            for d in both do
                let g = Generator 7UL
                let p, q = (Tensor.Randn([| 300; 700 |], g)).To d, (Tensor.Randn([| 300; 700 |], g)).To d
                // 210,000 elements: split over threads; the fused multiply-add rounds once where the composite rounds twice
                expectClose (tol d * 4.0) (p.Add(q, -0.37)) (p - 0.37 * q) (sprintf "contiguous %A" d)
                let qt = (Tensor.Randn([| 700; 300 |], g)).To(d).T
                expectClose (tol d * 4.0) (p.Add(qt, 2.5)) (p + 2.5 * qt) (sprintf "transposed view %A" d)
                expectClose (tol d * 4.0) (p.Add(q.[0], 0.5)) (p + 0.5 * q.[0]) (sprintf "broadcast row %A" d)
                Expect.equal (p.Add(q, -0.37)).DType d "keeps the dtype"
            let ints = Tensor.FromArray([| 1L; 2L; 3L |], [| 3 |])
            Expect.sequenceEqual ((ints.Add(ints, 2.0)).ToDoubleArray()) [| 3.0; 6.0; 9.0 |] "integers take the composite"
            // traced operands take the composite: d/dx sum(x + 3y) = 1, d/dy = 3
            let x, y = tensor [ 1.0; 2.0 ], tensor [ 3.0; 4.0 ]
            Expect.sequenceEqual ((grad (fun (y: Tensor) -> (x.Add(y, 3.0)).Sum()) y).ToDoubleArray()) [| 3.0; 3.0 |] "dy"
            Expect.sequenceEqual ((grad (fun (x: Tensor) -> (x.Add(y, 3.0)).Sum()) x).ToDoubleArray()) [| 1.0; 1.0 |] "dx"
            Expect.throwsT<ShapeMismatchException> (fun () -> x.Add(tensor [ 1.0; 2.0; 3.0 ], 2.0) |> ignore) "shapes that do not broadcast"
        values "erf" erf [ 0.0; 0.5; -0.5; 1.0; 2.0; 3.5; 7.0; infinity; nan ]
            [ 0.0; 0.5204998778130465; -0.5204998778130465; 0.8427007929497149; 0.9953222650189527; 0.9999992569016276; 1.0; 1.0; nan ]
        values "erfc" erfc [ 0.0; 0.5; 2.0; 5.0; -1.0; infinity ]
            [ 1.0; 0.4795001221869535; 0.004677734981047266; 1.5374597944280349e-12; 1.8427007929497148; 0.0 ]
        testCase "erfc keeps relative accuracy deep in the tail (Float64)" <| fun () ->
            let y = (erfc (tensor [ 10.0; 20.0; 26.0 ])).ToDoubleArray()
            let e = [| 2.088487583762545e-45; 5.3958656116079005e-176; 5.663192408856143e-296 |]
            for i in 0 .. 2 do Expect.isLessThan (abs (y.[i] / e.[i] - 1.0)) 1e-14 (sprintf "erfc tail %d: %g" i y.[i])
        values "erfinv" erfinv [ 0.0; 0.5; -0.5; 0.9; 0.999; 1.0; -1.0; 1.5 ]
            [ 0.0; 0.4769362762044699; -0.4769362762044699; 1.1630871536766743; 2.326753765513525; infinity; -infinity; nan ]
        testCase "erfinv inverts erf" <| fun () ->
            for d in both do
                let x = (Tensor.Linspace(-3.0, 3.0, 61, DType.Float64)).To d
                let back = erfinv (erf x)
                // erf is flat in the tails, so compare where it is not saturated in the dtype
                let t = if d = DType.Float32 then 2e-3 else 1e-9
                expectClose t back x (sprintf "erfinv(erf x) in %A" d)
                let y = (Tensor.Linspace(-0.999, 0.999, 41, DType.Float64)).To d
                expectClose (tol d * 4.0) (erf (erfinv y)) y (sprintf "erf(erfinv y) in %A" d)
        values "lgamma" lgamma [ 0.5; 1.0; 2.0; 3.0; 10.0; 0.1; -0.5; 100.0; 0.0; -2.0 ]
            [ 0.5723649429247001; 0.0; 0.0; 0.6931471805599453; 12.801827480081469; 2.252712651734206; 1.2655121234846454; 359.1342053695754; infinity; infinity ]
        values "lgamma near its roots" lgamma [ 1.001; 2.002 ] [ -5.7639359828330615e-4; 8.4685799984118568e-4 ]
        values "digamma" digamma [ 1.0; 0.5; 2.0; 10.0; -0.5; 0.0; -1.0 ]
            [ -eulerGamma; -1.9635100260214235; 1.0 - eulerGamma; 2.251752589066721; 0.03648997397857652; -infinity; nan ]
        values "log2" log2 [ 8.0; 1024.0; 0.5; 3.0 ] [ 3.0; 10.0; -1.0; 1.584962500721156 ]
        values "log10" log10 [ 1000.0; 0.01; 2.0 ] [ 3.0; -2.0; 0.3010299956639812 ]
        values "asinh" asinh [ 0.0; 1e-10; 1.0; -2.0; 1e10 ] [ 0.0; 1e-10; 0.881373587019543; -1.4436354751788103; 23.718998110500402 ]
        values "acosh" acosh [ 1.0; 1.5; 10.0; 0.5 ] [ 0.0; 0.9624236501192069; 2.993222846126381; nan ]
        values "atanh" atanh [ 0.0; 1e-10; 0.5; -0.9; 1.0; 2.0 ] [ 0.0; 1e-10; 0.5493061443340549; -1.4722194895832204; infinity; nan ]
        values "elu" elu [ -1.0; 0.0; 2.0; -100.0 ] [ -0.6321205588285577; 0.0; 2.0; -1.0 ]
        values "selu" selu [ -1.0; 0.0; 2.0 ] [ -1.1113307378125625; 0.0; 2.101401974710961 ]
        values "mish" mish [ -1.0; 0.0; 1.0; 30.0; -30.0 ] [ -0.30340146137410895; 0.0; 0.8650983882673103; 30.0; -2.807286890651921e-12 ]
        values "softsign" softsign [ -3.0; 0.0; 1.0 ] [ -0.75; 0.0; 0.5 ]
        values "logSigmoid" logSigmoid [ 0.0; 2.0; -2.0; -200.0; 200.0 ] [ -0.6931471805599453; -0.12692801104297252; -2.1269280110429727; -200.0; 0.0 ]
        values "leakyRelu" (leakyRelu 0.1) [ -2.0; 0.0; 3.0 ] [ -0.2; 0.0; 3.0 ]
        values "hardtanh" hardtanh [ -2.0; -0.5; 0.5; 2.0 ] [ -1.0; -0.5; 0.5; 1.0 ]
        values "nanToNum" nanToNum [ nan; 1.5; -2.0 ] [ 0.0; 1.5; -2.0 ]
        values2 "logaddexp" logaddexp [ 0.0; 1000.0; -1000.0; 1.0; -infinity; infinity ] [ 0.0; 1000.0; -1000.0; 2.0; -infinity; infinity ]
            [ 0.6931471805599453; 1000.6931471805599; -999.3068528194401; 2.3132616875182226; -infinity; infinity ]
        values2 "xlogy" xlogy [ 0.0; 0.0; 0.0; 2.0; 3.0; 0.0 ] [ 0.0; infinity; -1.0; 3.0; 0.0; nan ]
            [ 0.0; 0.0; 0.0; 2.1972245773362196; -infinity; nan ]
        values2 "fmod has the dividend's sign" fmod [ 5.0; -5.0; 5.0; -5.0; 5.5; 1.0 ] [ 3.0; 3.0; -3.0; -3.0; 2.0; 0.0 ]
            [ 2.0; -2.0; 2.0; -2.0; 1.5; nan ]
        values2 "remainder has the divisor's sign" remainder [ 5.0; -5.0; 5.0; -5.0; 6.0; -6.0; 1.0 ] [ 3.0; 3.0; -3.0; -3.0; 3.0; 3.0; 0.0 ]
            [ 2.0; 1.0; -1.0; -2.0; 0.0; 0.0; nan ]
        values2 "hypot" hypot [ 3.0; 0.0; -5.0; infinity ] [ 4.0; 0.0; 12.0; nan ] [ 5.0; 0.0; 13.0; infinity ]
        testCase "hypot of large and tiny values neither overflows nor underflows" <| fun () ->
            Expect.floatClose Accuracy.high ((hypot (tensor [ 3e300 ]) (tensor [ 4e300 ])).item()) 5e300 "Float64 large"
            Expect.floatClose Accuracy.high ((hypot (tensor [ 3e-300 ]) (tensor [ 4e-300 ])).item()) 5e-300 "Float64 tiny"
            Expect.floatClose Accuracy.high ((hypot (tensor [ 3e30f ]) (tensor [ 4e30f ])).item()) 5e30 "Float32 large"
        testCase "fmod is exact for large quotients" <| fun () ->
            Expect.equal ((fmod (tensor [ 1e17 ]) (tensor [ 3.0 ])).item()) (Math.IEEERemainder(1e17, 3.0) |> fun r -> if r < 0.0 then r + 3.0 else r) "fmod(1e17, 3)" ]

let private integers =
    testCase "integer inputs convert to Float32" <| fun () ->
        let i = tensor [ 1; 2; 3 ]
        for name, f in [ "erf", erf; "lgamma", lgamma; "digamma", digamma; "log2", log2; "asinh", asinh; "elu", elu
                         "selu", selu; "mish", mish; "softsign", softsign; "logSigmoid", logSigmoid; "leakyRelu", leakyRelu 0.1
                         "hardtanh", hardtanh; "erfinv", (fun x -> erfinv (x / 4.0)); "acosh", acosh; "atanh", (fun x -> atanh (x / 4.0))
                         "logaddexp", (fun x -> logaddexp x x); "xlogy", (fun x -> xlogy x x); "hypot", (fun x -> hypot x x)
                         "fmod", (fun x -> fmod x x); "remainder", (fun x -> remainder x x) ] do
            Expect.equal (f i).DType DType.Float32 name
        Expect.sequenceEqual ((log2 (tensor [ 8 ])).ToDoubleArray()) [| 3.0 |] "log2 of Int32 8"

let private boolResults =
    testList "Bool results" [
        testCase "isnan, isinf, isfinite" <| fun () ->
            for d in both do
                let x = (tensor [ nan; infinity; -infinity; 1.0; 0.0 ]).To d
                Expect.sequenceEqual ((isnan x).ToArray<bool>()) [| true; false; false; false; false |] "isnan"
                Expect.sequenceEqual ((isinf x).ToArray<bool>()) [| false; true; true; false; false |] "isinf"
                Expect.sequenceEqual ((isfinite x).ToArray<bool>()) [| false; false; false; true; true |] "isfinite"
                Expect.equal (isnan x).DType DType.Bool "Bool result"
            let i = tensor [ 1; 2 ]
            Expect.sequenceEqual ((isnan i).ToArray<bool>()) [| false; false |] "isnan on Int32"
            Expect.sequenceEqual ((isinf i).ToArray<bool>()) [| false; false |] "isinf on Int32"
            Expect.sequenceEqual ((isfinite i).ToArray<bool>()) [| true; true |] "isfinite on Int32"
        testCase "nanToNum replaces NaN and infinities by the dtype's extremes" <| fun () ->
            let x = tensor [ nan; infinity; -infinity; 2.0 ]
            Expect.sequenceEqual ((nanToNum x).ToDoubleArray()) [| 0.0; Double.MaxValue; -Double.MaxValue; 2.0 |] "Float64"
            Expect.sequenceEqual ((nanToNum (x.To DType.Float32)).ToArray<float32>()) [| 0.0f; Single.MaxValue; -Single.MaxValue; 2.0f |] "Float32"
            Expect.sequenceEqual ((x.NanToNum(1.0, Nullable 5.0, Nullable -5.0)).ToDoubleArray()) [| 1.0; 5.0; -5.0; 2.0 |] "chosen values"
        testCase "logical and, or, xor, not (broadcasting; nonzero is true)" <| fun () ->
            let a = tensor [ true; true; false; false ]
            let b = tensor [ true; false; true; false ]
            Expect.sequenceEqual ((logicalAnd a b).ToArray<bool>()) [| true; false; false; false |] "and"
            Expect.sequenceEqual ((logicalOr a b).ToArray<bool>()) [| true; true; true; false |] "or"
            Expect.sequenceEqual ((logicalXor a b).ToArray<bool>()) [| false; true; true; false |] "xor"
            Expect.sequenceEqual ((logicalNot a).ToArray<bool>()) [| false; false; true; true |] "not"
            Expect.sequenceEqual ((logicalAnd (tensor [ 2.0; 0.0; nan ]) (tensor [ true ])).ToArray<bool>()) [| true; false; true |] "numbers, broadcast"
            Expect.equal (logicalNot (tensor [ 0; 3 ])).DType DType.Bool "Bool result" ]

/// Gradients of a composite (or any function) match central finite differences, in Float64.
let private gradMatches name (f: Tensor -> Tensor) (x: Tensor) =
    let F (t: Tensor) = (f t).Sum()
    let g = Transform.Grad(Func<_, _> F, x).ToDoubleArray()
    let numeric = numericGrad (fun xs -> F xs.[0]) [| x |] 0 1e-6
    if not (close 1e-6 g numeric) then failtestf "%s: gradient %A, finite differences %A" name g numeric

let private gradsOf (f: Tensor[] -> Tensor) (xs: Tensor[]) =
    let struct (_, g) = Transform.ValueAndGrad(Func<_, _> f, xs)
    g

let private derivatives =
    testList "derivatives" [
        testCase "composites with a constant parameter, and at their kinks (PyTorch's conventions)" <| fun () ->
            let x = tensor [ -1.5; -0.3; 0.4; 2.0 ]
            gradMatches "leakyRelu" (leakyRelu 0.2) x
            gradMatches "elu alpha 2" (fun t -> t.Elu(2.0)) x
            gradMatches "hardtanh" (fun t -> t.Hardtanh(-1.0, 1.0)) x
            gradMatches "nanToNum" nanToNum x
            gradMatches "clip" (fun t -> t.Clip(tensor [ -1.0; -1.0; 0.5; 0.0 ], tensor [ 1.0 ])) x
            let at0 (f: Tensor -> Tensor) = Transform.Grad(Func<_, _>(fun (t: Tensor) -> (f t).Sum()), tensor [ 0.0 ]).item()
            Expect.equal (at0 (leakyRelu 0.2)) 0.2 "leakyRelu'(0) = slope"
            Expect.equal (at0 (fun t -> t.Elu(2.0))) 2.0 "elu'(0) = alpha"
            Expect.equal (at0 elu) 1.0 "elu'(0) = 1"
            Expect.equal (Transform.Grad(Func<_, _>(fun (t: Tensor) -> t.Hardtanh().Sum()), tensor [ -1.0; 1.0 ]).ToDoubleArray()) [| 0.0; 0.0 |] "hardtanh' = 0 on the bounds"
        testCase "clip sends the derivative to the bound it took" <| fun () ->
            let lo, hi = tensor [ 0.0; 0.0; 0.0 ], tensor [ 1.0; 1.0; 1.0 ]
            let x = tensor [ -1.0; 0.5; 2.0 ]
            let grads = (gradsOf (fun (ts: Tensor[]) -> ts.[0].Clip(ts.[1], ts.[2]).Sum()) [| x; lo; hi |])
            Expect.sequenceEqual (grads.[0].ToDoubleArray()) [| 0.0; 1.0; 0.0 |] "x"
            Expect.sequenceEqual (grads.[1].ToDoubleArray()) [| 1.0; 0.0; 0.0 |] "min"
            Expect.sequenceEqual (grads.[2].ToDoubleArray()) [| 0.0; 0.0; 1.0 |] "max"
            Expect.sequenceEqual ((tensor [ 5.0 ]).Clip(tensor [ 3.0 ], tensor [ 1.0 ]).ToDoubleArray()) [| 1.0 |] "max wins when min > max"
        testCase "xlogy's derivatives at a = 0 and fmod/remainder's in b" <| fun () ->
            let grads = (gradsOf (fun (ts: Tensor[]) -> (xlogy ts.[0] ts.[1]).Sum()) [| tensor [ 0.0; 2.0 ]; tensor [ 3.0; 4.0 ] |])
            Expect.sequenceEqual (grads.[0].ToDoubleArray()) [| 0.0; log 4.0 |] "d/da"
            Expect.sequenceEqual (grads.[1].ToDoubleArray()) [| 0.0; 0.5 |] "d/db"
            let db (f: Tensor -> Tensor -> Tensor) = (gradsOf (fun (ts: Tensor[]) -> (f ts.[0] ts.[1]).Sum()) [| tensor [ -5.0 ]; tensor [ 3.0 ] |]).[1].item()
            Expect.equal (db fmod) 1.0 "fmod: -trunc(-5/3) = 1"
            Expect.equal (db remainder) 2.0 "remainder: -floor(-5/3) = 2"
        testCase "digamma is differentiable to every order (polygamma)" <| fun () ->
            // ψ'(1) = π²/6, ψ''(1) = -2ζ(3), ψ'''(1) = π⁴/15
            let d1 = Transform.Grad(Func<_, _>(fun (t: Tensor) -> digamma t |> sum), tensor [ 1.0 ])
            Expect.floatClose Accuracy.veryHigh (d1.item()) (Math.PI ** 2.0 / 6.0) "trigamma(1)"
            let d2 = Transform.Grad(Func<_, _>(fun (u: Tensor) -> Transform.Grad(Func<_, _>(fun (t: Tensor) -> digamma t |> sum), u) |> sum), tensor [ 1.0 ])
            Expect.floatClose Accuracy.veryHigh (d2.item()) (-2.0 * 1.2020569031595942) "polygamma(2, 1)"
            let g1 (f: Tensor -> Tensor) = fun (u: Tensor) -> Transform.Grad(Func<_, _>(fun (t: Tensor) -> f t |> sum), u)
            let d3 = g1 (g1 (g1 digamma)) (tensor [ 1.0 ])
            Expect.floatClose Accuracy.veryHigh (d3.item()) (Math.PI ** 4.0 / 15.0) "polygamma(3, 1)"
            let lg2 = g1 (g1 lgamma) (tensor [ 0.5 ])
            Expect.floatClose Accuracy.veryHigh (lg2.item()) (Math.PI ** 2.0 / 2.0) "lgamma''(1/2) = trigamma(1/2)"
            gradMatches "trigamma" (fun t -> g1 digamma t) (tensor [ 0.4; 1.3; 3.7; 12.0; -0.5 ]) ]

let private shapeOps =
    testList "reductions and shape ops" [
        testCase "all, any, countNonzero, norms, nansum and nanmean" <| fun () ->
            let t = tensor [ [ 1.0; 0.0 ]; [ -3.0; 4.0 ] ]
            Expect.isFalse ((t.All()).ToArray<bool>().[0]) "all"
            Expect.isTrue ((t.Any()).ToArray<bool>().[0]) "any"
            Expect.isTrue ((Tensor.Zeros([| 0 |]).All()).ToArray<bool>().[0]) "all of nothing"
            Expect.equal ((t.CountNonzero()).ToArray<int64>().[0]) 3L "count"
            Expect.sequenceEqual ((t.CountNonzero(Nullable 1)).ToArray<int64>()) [| 1L; 2L |] "count along dim 1"
            Expect.floatClose Accuracy.veryHigh ((t.Norm()).item()) (sqrt 26.0) "2-norm"
            Expect.floatClose Accuracy.veryHigh ((t.Norm(1.0)).item()) 8.0 "1-norm"
            Expect.floatClose Accuracy.veryHigh ((t.Norm(infinity)).item()) 4.0 "inf-norm"
            Expect.floatClose Accuracy.high ((t.Norm(3.0)).item()) ((1.0 + 27.0 + 64.0) ** (1.0 / 3.0)) "3-norm"
            Expect.sequenceEqual ((t.Norm(2.0, [| 1 |])).ToDoubleArray()) [| 1.0; 5.0 |] "row norms"
            Expect.sequenceEqual ((grad (fun (x: Tensor) -> x.Norm()) (Tensor.Zeros([| 3 |], DType.Float64))).ToDoubleArray()) [| 0.0; 0.0; 0.0 |] "the 2-norm's gradient at 0 is 0"
            let withNan = tensor [ 1.0; nan; 3.0 ]
            Expect.equal ((withNan.NanSum()).item()) 4.0 "nansum"
            Expect.equal ((withNan.NanMean()).item()) 2.0 "nanmean"
        testCase "cumsum, flip, roll, repeat, tile, chunk, unbind, movedim" <| fun () ->
            let x = tensor [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
            Expect.sequenceEqual ((x.Cumsum(1)).ToDoubleArray()) [| 1.0; 3.0; 6.0; 4.0; 9.0; 15.0 |] "cumsum along 1"
            Expect.sequenceEqual ((x.Cumsum(0)).ToDoubleArray()) [| 1.0; 2.0; 3.0; 5.0; 7.0; 9.0 |] "cumsum along 0"
            let long = (Tensor.Ones([| 3; 1300 |], DType.Float64)).Cumsum(1).ToDoubleArray()
            Expect.sequenceEqual long (Array.init 3900 (fun i -> float (i % 1300 + 1))) "cumsum over several blocks"
            let r = gradcheck (fun (t: Tensor) -> (t.Cumsum(0) * t).Sum()) (Tensor.Randn([| 1100 |], Generator 3UL, DType.Float64) * 0.1)
            Expect.isTrue r.Passed (sprintf "blocked cumsum gradient: %A" r)
            Expect.sequenceEqual ((x.Flip(1)).ToDoubleArray()) [| 3.0; 2.0; 1.0; 6.0; 5.0; 4.0 |] "flip"
            Expect.sequenceEqual ((x.Flip(0, 1)).ToDoubleArray()) [| 6.0; 5.0; 4.0; 3.0; 2.0; 1.0 |] "flip both"
            Expect.sequenceEqual ((x.Roll(1, 1)).ToDoubleArray()) [| 3.0; 1.0; 2.0; 6.0; 4.0; 5.0 |] "roll"
            Expect.sequenceEqual ((x.Roll(-4, 1)).ToDoubleArray()) [| 2.0; 3.0; 1.0; 5.0; 6.0; 4.0 |] "roll by -4 wraps"
            let r = (tensor [ 1.0; 2.0 ]).Repeat(2, 2)
            Expect.sequenceEqual r.Shape [| 2; 4 |] "repeat shape"
            Expect.sequenceEqual (r.ToDoubleArray()) [| 1.0; 2.0; 1.0; 2.0; 1.0; 2.0; 1.0; 2.0 |] "repeat values"
            Expect.sequenceEqual ((x.Tile(2)).Shape) [| 2; 6 |] "tile repeats trailing dims"
            Expect.sequenceEqual ((x.Chunk(2, 1)) |> Array.map (fun c -> c.Shape.[1])) [| 2; 1 |] "chunk"
            Expect.sequenceEqual ((x.Unbind(1)) |> Array.map (fun c -> c.ToDoubleArray())) [| [| 1.0; 4.0 |]; [| 2.0; 5.0 |]; [| 3.0; 6.0 |] |] "unbind"
            Expect.sequenceEqual ((Tensor.Zeros([| 2; 3; 4 |]).Movedim(0, 2)).Shape) [| 3; 4; 2 |] "movedim"
        testCase "their gradients equal finite differences" <| fun () ->
            let x = tensor [ [ 0.3; -1.2; 2.0 ]; [ 0.7; 1.1; -0.4 ] ]
            for name, f in [ "cumsum", (fun (t: Tensor) -> (t.Cumsum(1) * t).Sum())
                             "flip", (fun t -> (t.Flip(0, 1) * t).Sum())
                             "roll", (fun t -> (t.Roll(2, 1) * t).Sum())
                             "repeat", (fun t -> (t.Repeat(2, 1, 2)).Square().Sum())
                             "norm 3", (fun t -> t.Norm(3.0, [| 1 |]).Sum())
                             "norm 2", (fun t -> t.Norm())
                             "nanmean", (fun t -> (t * t).NanMean()) ] do
                let r = gradcheck f x
                Expect.isTrue r.Passed (sprintf "%s: %A" name r)
    ]

let private sampling =
    testList "sampling with tensor parameters" [
        testCase "bernoulli, multinomial and randperm: right frequencies, same draws for the same seed" <| fun () ->
            let b = Tensor.Bernoulli(tensor [ 0.0; 1.0 ], Generator 1UL)
            Expect.sequenceEqual (b.ToDoubleArray()) [| 0.0; 1.0 |] "certain outcomes"
            let many = Tensor.Bernoulli(Tensor.Full([| 20000 |], 0.3, DType.Float64), Generator 2UL)
            Expect.floatClose { absolute = 0.02; relative = 0.0 } (many.Mean().item()) 0.3 "frequency"
            Expect.sequenceEqual (Tensor.Bernoulli(Tensor.Full([| 50 |], 0.5), Generator 3UL).ToDoubleArray()) (Tensor.Bernoulli(Tensor.Full([| 50 |], 0.5), Generator 3UL).ToDoubleArray()) "seeded"
            Expect.throwsT<TensorException> (fun () -> Tensor.Bernoulli(tensor [ 1.5 ], Generator 1UL) |> ignore) "p > 1"
            let picks = Tensor.Multinomial(tensor [ 0.0; 1.0; 1.0; 0.0 ], 2, false, Generator 4UL).ToArray<int64>() |> Array.sort
            Expect.sequenceEqual picks [| 1L; 2L |] "without replacement: each positive category once"
            let draws = Tensor.Multinomial(tensor [ [ 1.0; 3.0 ] ], 8000, true, Generator 5UL)
            Expect.sequenceEqual draws.Shape [| 1; 8000 |] "shape"
            Expect.floatClose { absolute = 0.02; relative = 0.0 } (draws.To(DType.Float64).Mean().item()) 0.75 "with replacement: 3 to 1"
            Expect.throwsT<TensorException> (fun () -> Tensor.Multinomial(tensor [ 1.0; 1.0 ], 3, false, Generator 1UL) |> ignore) "too many samples"
            let perm = Tensor.Randperm(100, Generator 6UL).ToArray<int64>()
            Expect.sequenceEqual (Array.sort perm) [| 0L .. 99L |] "a permutation"
            Expect.sequenceEqual perm (Tensor.Randperm(100, Generator 6UL).ToArray<int64>()) "seeded"
        testCase "normal and uniform are reparameterised: moments, and gradients in their parameters" <| fun () ->
            let z = Tensor.Normal(Tensor.Full([| 20000 |], 2.0, DType.Float64), tensor 0.5, Generator 7UL)
            Expect.floatClose { absolute = 0.02; relative = 0.0 } (z.Mean().item()) 2.0 "mean"
            Expect.floatClose { absolute = 0.02; relative = 0.0 } (z.Std().item()) 0.5 "std"
            let gMean, gStd =
                Tree.grad (fun (m: Tensor, s: Tensor) -> Tensor.Normal(m, s, Generator 8UL).Sum()) (tensor [ 1.0; 1.0 ], tensor [ 2.0; 2.0 ])
            Expect.sequenceEqual (gMean.ToDoubleArray()) [| 1.0; 1.0 |] "d/dmean = 1"
            let eps = Tensor.Randn([| 2 |], Generator 8UL, DType.Float64).ToDoubleArray()
            Expect.sequenceEqual (gStd.ToDoubleArray()) eps "d/dstd = the standard normal draw"
            let u = Tensor.Uniform(tensor [ -1.0 ], tensor [ 3.0 ], Generator 9UL)
            let v = u.item()
            Expect.isTrue (v >= -1.0 && v < 3.0) "in [low, high)"
    ]

let private sortedValues (struct (v: Tensor, _: Tensor)) = v

let private ordering =
    testList "sorting and order statistics" [
        testCase "sort, argsort, topk, kthvalue, median, quantile" <| fun () ->
            let x = tensor [ [ 3.0; nan; 1.0; 2.0 ]; [ 5.0; 5.0; -1.0; 0.0 ] ]
            let struct (v, i) = x.Sort(1)
            Expect.sequenceEqual (i.ToArray<int64>()) [| 2L; 3L; 0L; 1L; 2L; 3L; 0L; 1L |] "indices: NaN last, ties stable"
            Expect.isTrue (Double.IsNaN (v.ToDoubleArray().[3])) "NaN sorts last"
            let struct (_, d) = x.Sort(1, descending = true)
            Expect.sequenceEqual (d.ToArray<int64>() |> Array.skip 4) [| 0L; 1L; 3L; 2L |] "descending, ties stable"
            let struct (tv, ti) = (tensor [ 4.0; 9.0; 1.0; 7.0 ]).TopK(2)
            Expect.sequenceEqual (tv.ToDoubleArray()) [| 9.0; 7.0 |] "topk values"
            Expect.sequenceEqual (ti.ToArray<int64>()) [| 1L; 3L |] "topk indices"
            let struct (kv, _) = (tensor [ 4.0; 9.0; 1.0; 7.0 ]).Kthvalue(2)
            Expect.equal (kv.item()) 4.0 "2nd smallest"
            let struct (m, _) = (tensor [ 4.0; 9.0; 1.0; 7.0 ]).Median()
            Expect.equal (m.item()) 4.0 "lower median of an even count"
            Expect.floatClose Accuracy.veryHigh ((tensor [ 1.0; 2.0; 3.0; 4.0 ]).Quantile(0.5).item()) 2.5 "median by interpolation"
            Expect.floatClose Accuracy.veryHigh ((tensor [ 1.0; 2.0; 3.0; 4.0 ]).Quantile(0.9).item()) 3.7 "0.9-quantile"
            Expect.sequenceEqual ((tensor [ [ 1.0; nan; 3.0 ]; [ 1.0; 2.0; 3.0 ] ]).Quantile(0.5, 1).ToDoubleArray() |> Array.map Double.IsNaN) [| true; false |] "a NaN in a row makes its quantile NaN"
            let struct (mn, _) = (tensor [ 1.0; nan; 3.0 ]).Median()
            Expect.isTrue (Double.IsNaN (mn.item())) "and its median"
            Expect.sequenceEqual ((tensor [ 3L; 10000000000L; -2L ]).Argsort().ToArray<int64>()) [| 2L; 0L; 1L |] "Int64 sorts exactly"
            Expect.throwsT<TensorException> (fun () -> (tensor [ 1.0 ]).TopK(2) |> ignore) "k too large"
            let struct (u, inv, counts) = (tensor [ [ 3; 1 ]; [ 3; 2 ] ]).Unique()
            Expect.sequenceEqual (u.ToArray<int>()) [| 1; 2; 3 |] "unique values, sorted, dtype kept"
            Expect.sequenceEqual (inv.ToArray<int64>()) [| 2L; 0L; 2L; 1L |] "inverse, in the input's shape"
            Expect.sequenceEqual inv.Shape [| 2; 2 |] "inverse shape"
            Expect.sequenceEqual (counts.ToArray<int64>()) [| 1L; 1L; 2L |] "counts"
            let struct (un, _, _) = (tensor [ nan; 1.0; nan ]).Unique()
            Expect.equal un.Numel 3 "each NaN is its own value"
        testCase "sorted values carry the derivative back to where they came from" <| fun () ->
            let x = tensor [ [ 0.3; -1.2; 2.0 ]; [ 0.7; 1.1; -0.4 ] ]
            let w = tensor [ 1.0; 2.0; 3.0 ]
            let g = grad (fun (t: Tensor) -> (sortedValues (t.Sort(1)) * w).Sum()) x
            Expect.sequenceEqual (g.ToDoubleArray()) [| 2.0; 1.0; 3.0; 2.0; 3.0; 1.0 |] "each element gets its rank's weight"
            let r = gradcheck (fun (t: Tensor) -> t.Quantile(0.3, 1).Sum() + (sortedValues (t.TopK(2, 1))).Square().Sum()) x
            Expect.isTrue r.Passed (sprintf "quantile and topk gradients: %A" r)
    ]

let private indexing =
    testList "scans and indexing by values" [
        testCase "cumprod, logcumsumexp, take, takeAlongDim, maskedSelect, nonzero, repeatInterleave, diagEmbed, searchsorted" <| fun () ->
            let x = tensor [ [ 1.0; -2.0; 0.0; 3.0 ] ]
            Expect.sequenceEqual ((x.Cumprod(1)).ToDoubleArray()) [| 1.0; -2.0; -0.0; 0.0 |] "cumprod through a zero"
            let l = (tensor [ 0.0; 0.0; 1000.0 ]).LogCumSumExp(0).ToDoubleArray()
            Expect.floatClose Accuracy.veryHigh l.[1] (log 2.0) "logcumsumexp"
            Expect.floatClose Accuracy.veryHigh l.[2] 1000.0 "no overflow"
            let m = tensor [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]
            Expect.sequenceEqual ((m.Take(tensor [ [ 3L; -4L ] ])).ToDoubleArray()) [| 4.0; 1.0 |] "take (negative from the end)"
            Expect.sequenceEqual ((m.TakeAlongDim(tensor [ [ 1L ]; [ 0L ] ], 1)).ToDoubleArray()) [| 2.0; 3.0 |] "takeAlongDim"
            Expect.sequenceEqual ((m.MaskedSelect(m.Gt 1.5)).ToDoubleArray()) [| 2.0; 3.0; 4.0 |] "maskedSelect"
            Expect.sequenceEqual ((m.MaskedSelect(tensor [ true; false ])).ToDoubleArray()) [| 1.0; 3.0 |] "a broadcast mask"
            Expect.sequenceEqual ((tensor [ [ 0.0; 5.0 ]; [ 7.0; 0.0 ] ]).Nonzero().ToArray<int64>()) [| 0L; 1L; 1L; 0L |] "nonzero"
            Expect.sequenceEqual ((tensor [ 1.0; 2.0 ]).RepeatInterleave(2, 0).ToDoubleArray()) [| 1.0; 1.0; 2.0; 2.0 |] "repeatInterleave"
            Expect.sequenceEqual ((tensor [ 1.0; 2.0 ]).DiagEmbed().ToDoubleArray()) [| 1.0; 0.0; 0.0; 2.0 |] "diagEmbed"
            let b = tensor [ 1.0; 3.0; 5.0 ]
            Expect.sequenceEqual ((Tensor.SearchSorted(b, tensor [ 0.0; 3.0; 6.0 ])).ToArray<int64>()) [| 0L; 1L; 3L |] "left"
            Expect.sequenceEqual ((Tensor.SearchSorted(b, tensor [ 3.0 ], true)).ToArray<int64>()) [| 2L |] "right"
            Expect.throwsT<TensorException> (fun () -> m.Take(tensor [ 4L ]) |> ignore) "take out of range"
        testCase "their gradients equal finite differences" <| fun () ->
            let x = tensor [ [ 0.3; -1.2; 2.0 ]; [ 0.7; 1.1; -0.4 ] ]
            for name, f in [ "cumprod", (fun (t: Tensor) -> t.Cumprod(1).Sum())
                             "logcumsumexp", (fun t -> t.LogCumSumExp(1).Sum())
                             "maskedSelect", (fun t -> (t.MaskedSelect(x.Gt 0.5)).Square().Sum())
                             "takeAlongDim", (fun t -> (t.TakeAlongDim(tensor [ [ 2L ]; [ 0L ] ], 1)).Square().Sum())
                             "diagEmbed", (fun t -> (t.DiagEmbed() * 3.0).Square().Sum()) ] do
                let r = gradcheck f x
                Expect.isTrue r.Passed (sprintf "%s: %A" name r)
    ]

let tests = testList "everyday ops" [ knownValues; integers; boolResults; derivatives; shapeOps; sampling; ordering; indexing ]
