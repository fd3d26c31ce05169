/// Convolution, pooling, padding, triangles and attention: results against straightforward loop implementations
/// written here from PyTorch's definitions (Float64 to 1e-10, Float32 to 1e-5), derivatives of the composed ops,
/// ties, errors that name the op and the shapes, and the layers inside model { }.
module FunctionalAD.Tests.ConvTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Testing
open FunctionalAD.Tests.Support
open FunctionalAD.Tests.ConvGen

// ---- reference implementations (row-major float arrays) ----

/// PyTorch's conv2d: out[n, o, y, x] = Σ_{c, i, j} in[n, g·Cg + c, y·sh - top + i·dh, x·sw - left + j·dw] · w[o, c, i, j].
let refConv2d (g: Geometry) (x: float[]) (w: float[]) =
    let top, _, left, _ = g.Pads
    let oh, ow = g.OutH, g.OutW
    Array.init (g.N * g.O * oh * ow) (fun idx ->
        let n, o, y, xo = idx / (g.O * oh * ow), idx / (oh * ow) % g.O, idx / ow % oh, idx % ow
        let grp = o / g.Og
        let mutable s = 0.0
        for c in 0 .. g.Cg - 1 do
            for i in 0 .. g.Kh - 1 do
                for j in 0 .. g.Kw - 1 do
                    let iy, ix = y * g.Sh - top + i * g.Dh, xo * g.Sw - left + j * g.Dw
                    if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W then
                        s <- s + x.[((n * g.C + grp * g.Cg + c) * g.H + iy) * g.W + ix] * w.[((o * g.Cg + c) * g.Kh + i) * g.Kw + j]
        s)

/// PyTorch's max_pool2d / avg_pool2d with ceil_mode and count_include_pad, from torch's definitions: the output size
/// (H + 2p - k + (ceil ? s - 1 : 0)) / s + 1, less one if the last window would start past H + p; the average's divisor
/// counts the window's positions before H + p (padding included) or inside [0, H) (padding excluded).
let refPoolWith (isMax: bool) (ceil: bool) (includePad: bool) (n, c, h, w) (kh, kw) (sh, sw) (ph, pw) (x: float[]) =
    let outSize size k s p =
        let o = (size + 2 * p - k + (if ceil then s - 1 else 0)) / s + 1
        if ceil && (o - 1) * s >= size + p then o - 1 else o
    let oh, ow = outSize h kh sh ph, outSize w kw sw pw
    Array.init (n * c * oh * ow) (fun idx ->
        let nc, y, xo = idx / (oh * ow), idx / ow % oh, idx % ow
        let y0, x0 = y * sh - ph, xo * sw - pw
        let y1, x1 = min (y0 + kh) (h + ph), min (x0 + kw) (w + pw)
        let inside = [ for iy in max y0 0 .. min y1 h - 1 do for ix in max x0 0 .. min x1 w - 1 -> x.[(nc * h + iy) * w + ix] ]
        if isMax then List.max inside
        else
            let count = if includePad then (y1 - y0) * (x1 - x0) else (min y1 h - max y0 0) * (min x1 w - max x0 0)
            List.sum inside / float count)

/// Max (or average, zero padding counted) over each window of x [N, C, H, W], floor mode.
let refPool (isMax: bool) (n, c, h, w) (kh, kw) (sh, sw) (ph, pw) (x: float[]) =
    refPoolWith isMax false true (n, c, h, w) (kh, kw) (sh, sw) (ph, pw) x

/// PyTorch's adaptive average pooling bins.
let refAdaptive (n, c, h, w) (oh, ow) (x: float[]) =
    Array.init (n * c * oh * ow) (fun idx ->
        let nc, i, j = idx / (oh * ow), idx / ow % oh, idx % ow
        let y0, y1 = i * h / oh, ((i + 1) * h + oh - 1) / oh
        let x0, x1 = j * w / ow, ((j + 1) * w + ow - 1) / ow
        let vals = [ for y in y0 .. y1 - 1 do for xx in x0 .. x1 - 1 -> x.[(nc * h + y) * w + xx] ]
        List.average vals)

/// softmax(q·kᵀ·scale, masked)·v for one [Lq, E] x [Lk, E] x [Lk, Ev] problem; allowed(i, j) says whether query i may
/// attend to key j; a row with no allowed key gives zeros.
let refAttention (lq, lk, e, ev) (q: float[]) (k: float[]) (v: float[]) (allowed: int -> int -> bool) =
    let scale = 1.0 / sqrt (float e)
    Array.init (lq * ev) (fun idx ->
        let i, c = idx / ev, idx % ev
        let s = Array.init lk (fun j -> if allowed i j then (Seq.sum (seq { for t in 0 .. e - 1 -> q.[i * e + t] * k.[j * e + t] })) * scale else -infinity)
        let m = Array.max s
        if Double.IsNegativeInfinity m then 0.0
        else
            let p = s |> Array.map (fun z -> exp (z - m))
            let total = Array.sum p
            Seq.sum (seq { for j in 0 .. lk - 1 -> p.[j] / total * v.[j * ev + c] }))

let private arr (t: Tensor) = t.ToDoubleArray()

let private pget name (p: Params) = (Params.tryGet name p).Value

let private expectArray tol (actual: float[]) (expected: float[]) msg =
    if not (close tol actual expected) then failtestf "%s:\nactual   %A\nexpected %A" msg actual expected

let private geometries = Arb.fromGen (Gen.zip genGeometry genSeed)

let private prop name (body: Geometry * uint64 -> unit) =
    testPropertyWithConfig config name (Prop.forAll geometries (fun a -> body a; true))

let private forward =
    testList "results equal loop implementations of PyTorch's definitions" [
        prop "conv2d (stride, padding incl. same, dilation, groups), Float64 and Float32" <| fun (c, seed) ->
            let g = Generator seed
            let x, w, b = uniform g c.XShape -1.0 1.0, uniform g c.WShape -1.0 1.0, uniform g [| c.O |] -1.0 1.0
            let expected = refConv2d c (arr x) (arr w)
            let y = c.Conv x w null
            Expect.sequenceEqual y.Shape [| c.N; c.O; c.OutH; c.OutW |] "shape"
            expectArray 1e-12 (arr y) expected (sprintf "conv2d %A" c)
            let y32 = c.Conv (x.To DType.Float32) (w.To DType.Float32) (b.To DType.Float32)
            let withBias = expected |> Array.mapi (fun i v -> v + (arr b).[i / (c.OutH * c.OutW) % c.O])
            expectArray 1e-5 (arr y32) withBias (sprintf "conv2d Float32 with bias %A" c)
        prop "the CPU's direct fold equals the composite default (which the GPU runs)" <| fun (c, seed) ->
            let top, bottom, left, right = c.Pads
            let geo = Backends.ConvGeometry(c.C, c.H, c.W, c.Kh, c.Kw, c.Sh, c.Sw, top, bottom, left, right, c.Dh, c.Dw)
            let cols = (uniform (Generator seed) [| c.N; c.C * c.Kh * c.Kw; c.OutH * c.OutW |] -1.0 1.0).Value
            let cpu = Backends.CpuBackend.Instance
            let direct = Tensor(cpu.Fold(cols, geo))
            let composite = Tensor(Backends.ConvolutionKernels.Fold(cpu, cols, geo))
            expectArray 0.0 (arr direct) (arr composite) (sprintf "fold %A" c)
        prop "conv1d is conv2d of height 1" <| fun (c, seed) ->
            let c = { c with H = 1; Kh = 1; Sh = 1; Ph = 0; Dh = 1 }
            let g = Generator seed
            let x, w = uniform g [| c.N; c.C; c.W |] -1.0 1.0, uniform g [| c.O; c.Cg; c.Kw |] -1.0 1.0
            let y =
                if c.Same then x.Conv1d(w, null, 1, "same", c.Dw, c.Groups)
                else x.Conv1d(w, null, c.Sw, c.Pw, c.Dw, c.Groups)
            expectArray 1e-12 (arr y) (refConv2d c (arr x) (arr w)) (sprintf "conv1d %A" c)
        prop "maxPool2d and avgPool2d" <| fun (c, seed) ->
            let kh, kw = c.Kh + 1, c.Kw
            let ph, pw = min c.Ph (kh / 2), min c.Pw (kw / 2)
            let h, w = max c.H kh + 1, max c.W kw
            let x = uniform (Generator seed) [| c.N; c.C; h; w |] -1.0 1.0
            let dims = c.N, c.C, h, w
            expectArray 1e-12 (arr (x.MaxPool2d([| kh; kw |], c.Stride, [| ph; pw |]))) (refPool true dims (kh, kw) (c.Sh, c.Sw) (ph, pw) (arr x)) "maxPool2d"
            expectArray 1e-12 (arr (x.AvgPool2d([| kh; kw |], c.Stride, [| ph; pw |]))) (refPool false dims (kh, kw) (c.Sh, c.Sw) (ph, pw) (arr x)) "avgPool2d"
            expectArray 1e-12 (arr (x.MaxPool2d([| kh; kw |]))) (refPool true dims (kh, kw) (kh, kw) (0, 0) (arr x)) "maxPool2d, stride = kernel"
        prop "ceil mode and count_include_pad = false" <| fun (c, seed) ->
            let kh, kw = c.Kh + 1, c.Kw + 1
            let ph, pw = min c.Ph (kh / 2), min c.Pw (kw / 2)
            let h, w = max c.H kh + 2, max c.W kw + 1
            let sh, sw = c.Sh + 1, c.Sw + 1 // strides of 2 and more leave an overhang for ceil mode to keep
            let x = uniform (Generator seed) [| c.N; c.C; h; w |] -1.0 1.0
            let dims = c.N, c.C, h, w
            for ceil in [ false; true ] do
                expectArray 1e-12 (arr (x.MaxPool2d([| kh; kw |], [| sh; sw |], [| ph; pw |], null, ceil)))
                    (refPoolWith true ceil true dims (kh, kw) (sh, sw) (ph, pw) (arr x)) (sprintf "maxPool2d, ceil %b" ceil)
                for includePad in [ false; true ] do
                    expectArray 1e-12 (arr (x.AvgPool2d([| kh; kw |], [| sh; sw |], [| ph; pw |], ceil, includePad)))
                        (refPoolWith false ceil includePad dims (kh, kw) (sh, sw) (ph, pw) (arr x))
                        (sprintf "avgPool2d, ceil %b, count_include_pad %b" ceil includePad)
        testCase "ceil mode: PyTorch's sizes and values" <| fun () ->
            // torch.nn.functional.max_pool2d(torch.arange(25.).view(1,1,5,5), 2, 2, ceil_mode=True) is [[6, 8, 9], [16, 18, 19], [21, 23, 24]]
            let x = Tensor.Arange(25.0, DType.Float64).Reshape(1, 1, 5, 5)
            Expect.sequenceEqual (arr (x.MaxPool2d([| 2 |], [| 2 |], null, null, true))) [| 6.0; 8.0; 9.0; 16.0; 18.0; 19.0; 21.0; 23.0; 24.0 |] "max"
            // avg_pool2d(x, 2, 2, ceil_mode=True): the last column's windows hold 2 (then 1) elements and divide by them
            Expect.sequenceEqual (arr (x.AvgPool2d([| 2 |], [| 2 |], null, true))) [| 3.0; 5.0; 6.5; 13.0; 15.0; 16.5; 20.5; 22.5; 24.0 |] "avg"
            // avg_pool2d(x, 3, 2, padding=1, count_include_pad=False)[0,0,0,0] = mean of x[0:2, 0:2] = 3
            Expect.floatClose Accuracy.veryHigh (x.AvgPool2d([| 3 |], [| 2 |], [| 1 |], false, false).[0, 0, 0, 0].Item()) 3.0 "exclude pad"
        testCase "maxPool1d" <| fun () ->
            let x = tensor [ [ [ 1.0; 5.0; 2.0; 4.0; 3.0 ] ] ]
            Expect.sequenceEqual (arr (x.MaxPool1d(2))) [| 5.0; 4.0 |] "kernel 2"
            Expect.sequenceEqual (arr (x.MaxPool1d(3, Nullable 1, 1))) [| 5.0; 5.0; 5.0; 4.0; 4.0 |] "kernel 3, stride 1, padding 1"
        prop "adaptiveAvgPool2d (global and uneven bins)" <| fun (c, seed) ->
            let h, w = c.H + 2, c.W + 1
            let x = uniform (Generator seed) [| c.N; c.C; h; w |] -1.0 1.0
            for oh, ow in [ 1, 1; c.Kh, c.Kw; h, w; 2, 3 ] do
                expectArray 1e-12 (arr (x.AdaptiveAvgPool2d([| oh; ow |]))) (refAdaptive (c.N, c.C, h, w) (oh, ow) (arr x)) (sprintf "to %dx%d" oh ow)
        testCase "pad: constant (with cropping), reflect, replicate" <| fun () ->
            let x = tensor [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
            Expect.sequenceEqual (arr (x.pad [ 2; 1 ])) [| 0.; 0.; 1.; 2.; 3.; 0.; 0.; 0.; 4.; 5.; 6.; 0. |] "constant 0, last dim"
            Expect.sequenceEqual (arr (x.Pad([| 0; 0; 1; 0 |], PadMode.Constant, -1.0))) [| -1.; -1.; -1.; 1.; 2.; 3.; 4.; 5.; 6. |] "constant -1, first dim"
            Expect.sequenceEqual (arr (x.pad [ -1; 1 ])) [| 2.; 3.; 0.; 5.; 6.; 0. |] "negative pad crops"
            Expect.sequenceEqual (arr (x.pad ([ 2; 2 ], PadMode.Reflect))) [| 3.; 2.; 1.; 2.; 3.; 2.; 1.; 6.; 5.; 4.; 5.; 6.; 5.; 4. |] "reflect"
            Expect.sequenceEqual (arr (x.pad ([ 1; 2; 1; 0 ], PadMode.Replicate))) [| 1.; 1.; 2.; 3.; 3.; 3.; 1.; 1.; 2.; 3.; 3.; 3.; 4.; 4.; 5.; 6.; 6.; 6. |] "replicate"
        testCase "tril, triu, maskedFill" <| fun () ->
            let x = tensor [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
            Expect.sequenceEqual (arr (tril x)) [| 1.; 0.; 0.; 4.; 5.; 0. |] "tril"
            Expect.sequenceEqual (arr (x.tril(-1))) [| 0.; 0.; 0.; 4.; 0.; 0. |] "tril -1"
            Expect.sequenceEqual (arr (triu x)) [| 1.; 2.; 3.; 0.; 5.; 6. |] "triu"
            Expect.sequenceEqual (arr (x.triu 1)) [| 0.; 2.; 3.; 0.; 0.; 6. |] "triu 1"
            Expect.sequenceEqual (arr (x |> maskedFill (x.Gt 3.5) (-1.0))) [| 1.; 2.; 3.; -1.; -1.; -1. |] "maskedFill"
        prop "scaledDotProductAttention: plain, Bool mask, additive mask, causal" <| fun (c, seed) ->
            let g = Generator seed
            let lq, lk, e, ev = c.H, c.W + 1, c.Kh + 1, c.Kw
            let q, k, v = uniform g [| 2; lq; e |] -2.0 2.0, uniform g [| 2; lk; e |] -2.0 2.0, uniform g [| 2; lk; ev |] -2.0 2.0
            let maskBool = (uniform g [| lq; lk |] 0.0 1.0).Gt 0.3
            let mb = maskBool.ToArray<bool>()
            let each (allowed: int -> int -> bool) =
                Array.concat [ for b in 0 .. 1 ->
                                refAttention (lq, lk, e, ev) (arr q.[b]) (arr k.[b]) (arr v.[b]) allowed ]
            let check name (y: Tensor) expected = expectArray 1e-10 (arr y) expected name
            check "plain" (scaledDotProductAttention q k v) (each (fun _ _ -> true))
            check "Bool mask" (Tensor.ScaledDotProductAttention(q, k, v, maskBool)) (each (fun i j -> mb.[i * lk + j]))
            let additive = Tensor.Where(maskBool, Tensor.Scalar(0.0), Tensor.Scalar(-infinity))
            check "additive mask" (Tensor.ScaledDotProductAttention(q, k, v, additive)) (each (fun i j -> mb.[i * lk + j]))
            check "causal" (causalAttention q k v) (each (fun i j -> j <= i))
            check "causal and Bool mask" (Tensor.ScaledDotProductAttention(q, k, v, maskBool, causal = true)) (each (fun i j -> j <= i && mb.[i * lk + j]))
        testCase "attention is stable for large logits (Float32)" <| fun () ->
            let g = Generator 3UL
            let q, k, v = uniform g [| 4; 8 |] -1.0 1.0, uniform g [| 6; 8 |] -1.0 1.0, uniform g [| 6; 3 |] -1.0 1.0
            let big = 1e4
            let y = Tensor.ScaledDotProductAttention((q * big).To DType.Float32, k.To DType.Float32, v.To DType.Float32)
            let expected = refAttention (4, 6, 8, 3) (arr (q * big)) (arr k) (arr v) (fun _ _ -> true)
            Expect.isTrue (arr y |> Array.forall Double.IsFinite) "finite"
            expectArray 1e-5 (arr y) expected "equals the Float64 reference"
    ]

/// Gradient = finite differences, jvp = finite differences, jvp/vjp transposes, and (for the smooth ones) second order.
let private derivatives =
    let check order (f: Tensor[] -> Tensor) (xs: Tensor[]) =
        Check.gradientsWith { GradientOptions.forDType DType.Float64 with Order = order; Tolerance = 1e-5 } f xs
    testList "derivatives of the composed ops" [
        prop "maxPool2d (distinct values) and avgPool2d" <| fun (c, seed) ->
            let h, w = c.H + 1, c.W + 1
            let n = c.N * c.C * h * w
            // a shuffled ramp: no ties, so finite differences see one maximum per window
            let perm = Array.init n id |> Array.sortBy (fun i -> (i * 7919 + int seed) % n)
            let x = Tensor.FromArray(perm |> Array.map (fun i -> float i / float n), [| c.N; c.C; h; w |])
            check 1 (fun xs -> xs.[0].MaxPool2d([| 2; 2 |], [| c.Sh; c.Sw |], [| 1; 0 |])) [| x |]
            check 2 (fun xs -> sin (xs.[0].AvgPool2d([| 2; 3 |], [| 1; c.Sw |], [| 1; 1 |]))) [| x |]
            check 2 (fun xs -> sin (xs.[0].AdaptiveAvgPool2d([| 2; 3 |]))) [| x |]
            check 1 (fun xs -> xs.[0].MaxPool2d([| 2; 2 |], [| 2; 2 |], null, null, true)) [| x |]
            check 2 (fun xs -> sin (xs.[0].AvgPool2d([| 3; 2 |], [| 2; 2 |], [| 1; 1 |], true, false))) [| x |]
        testCase "pad in every mode" <| fun () ->
            let x = uniform (Generator 4UL) [| 2; 3; 4 |] -1.0 1.0
            for mode in [ PadMode.Constant; PadMode.Reflect; PadMode.Replicate ] do
                check 2 (fun xs -> sin (xs.[0].Pad([| 2; 3; 1; 2 |], mode, 0.5))) [| x |]
        testCase "tril, triu, maskedFill" <| fun () ->
            let x = uniform (Generator 5UL) [| 2; 3; 4 |] -1.0 1.0
            check 2 (fun xs -> sin (xs.[0].Tril(1)) + cos (xs.[0].Triu(-1))) [| x |]
            check 2 (fun xs -> sin (xs.[0].MaskedFill(x.Gt 0.2, 3.0))) [| x |]
        testCase "scaledDotProductAttention in q, k, v, masked and causal" <| fun () ->
            let g = Generator 6UL
            let q, k, v = uniform g [| 2; 3; 4 |] -1.0 1.0, uniform g [| 2; 5; 4 |] -1.0 1.0, uniform g [| 2; 5; 2 |] -1.0 1.0
            let mask = (uniform g [| 3; 5 |] 0.0 1.0).Gt 0.4
            check 2 (fun xs -> Tensor.ScaledDotProductAttention(xs.[0], xs.[1], xs.[2])) [| q; k; v |]
            check 2 (fun xs -> Tensor.ScaledDotProductAttention(xs.[0], xs.[1], xs.[2], mask, causal = true)) [| q; k; v |]
        testCase "a fully masked row gives zeros and a zero, finite gradient" <| fun () ->
            let g = Generator 7UL
            let q, k, v = uniform g [| 2; 3 |] -1.0 1.0, uniform g [| 4; 3 |] -1.0 1.0, uniform g [| 4; 2 |] -1.0 1.0
            let mask = tensor [ [ false; false; false; false ]; [ true; false; true; false ] ]
            let f (q: Tensor) = Tensor.ScaledDotProductAttention(q, k, v, mask)
            Expect.sequenceEqual (arr (f q).[0]) [| 0.0; 0.0 |] "the masked row is zero"
            let gq = grad (fun (q: Tensor) -> (f q).Sum()) q
            Expect.isTrue (arr gq |> Array.forall Double.IsFinite) "finite gradient"
            Expect.sequenceEqual (arr gq.[0]) [| 0.0; 0.0; 0.0 |] "no gradient into the masked row"
        testCase "max pooling splits ties equally, like max" <| fun () ->
            let x = Tensor.Ones([| 1; 1; 2; 4 |], DType.Float64)
            let gx = grad (fun (x: Tensor) -> (x.MaxPool2d([| 2; 2 |])).Sum()) x
            Expect.sequenceEqual (arr gx) (Array.create 8 0.25) "each of the four tied elements gets 1/4"
    ]

let private errors =
    let throws (op: string) (fragments: string list) (f: unit -> Tensor) =
        let e = Expect.throwsC (fun () -> f () |> ignore) id
        Expect.stringStarts e.Message (op + ":") (sprintf "names the op: %s" e.Message)
        for s in fragments do Expect.stringContains e.Message s (sprintf "mentions %s: %s" s e.Message)
    let x = Tensor.Zeros [| 2; 3; 5; 5 |]
    testList "errors name the op and the shapes" [
        testCase "channel mismatch" <| fun () ->
            throws "conv2d" [ "[2,3,5,5]"; "[4,2,3,3]"; "3 channels" ] (fun () -> x.Conv2d(Tensor.Zeros [| 4; 2; 3; 3 |]))
            throws "conv2d" [ "groups = 2" ] (fun () -> x.Conv2d(Tensor.Zeros [| 4; 1; 3; 3 |], groups = 2))
            throws "conv1d" [ "[1,3,5]"; "3 channels" ] (fun () -> (Tensor.Zeros [| 1; 3; 5 |]).Conv1d(Tensor.Zeros [| 2; 2; 3 |]))
        testCase "a result or intermediate past int.MaxValue elements is refused, not overflowed" <| fun () ->
            let tiny = Tensor.Ones [| 1; 1; 2; 2 |]
            throws "conv2d" [ "padded input"; "[1,1,2,2]"; "30000" ] (fun () -> tiny.Conv2d(Tensor.Ones [| 1; 1; 1; 1 |], null, [| 1 |], [| 30000 |]))
            throws "conv2d" [ "output"; "2700000000" ] (fun () -> (Tensor.Zeros [| 1; 1; 300; 300 |]).Conv2d(Tensor.Zeros [| 30000; 1; 1; 1 |]))
            throws "unfold" [ "columns" ] (fun () -> (Tensor.Zeros [| 1; 1; 300; 300 |]).Unfold([| 200; 200 |], null, [| 100 |]))
        testCase "kernel larger than the padded input" <| fun () ->
            throws "conv2d" [ "7x7"; "padded input 7x7"; "dilated 13x13" ] (fun () -> x.Conv2d(Tensor.Zeros [| 1; 3; 7; 7 |], padding = [| 1 |], dilation = [| 2 |]))
            throws "maxPool2d" [ "6x6"; "[2,3,5,5]" ] (fun () -> x.MaxPool2d([| 6 |]))
        testCase "non-4-D input to conv2d" <| fun () ->
            throws "conv2d" [ "4-D input"; "[3,5,5]" ] (fun () -> (Tensor.Zeros [| 3; 5; 5 |]).Conv2d(Tensor.Zeros [| 1; 3; 3; 3 |]))
            throws "conv2d" [ "4-D weight"; "[3,3,3]" ] (fun () -> x.Conv2d(Tensor.Zeros [| 3; 3; 3 |]))
        testCase "bias, padding name, stride with same" <| fun () ->
            throws "conv2d" [ "bias"; "[3]" ] (fun () -> x.Conv2d(Tensor.Zeros [| 4; 3; 3; 3 |], Tensor.Zeros [| 3 |]))
            throws "conv2d" [ "\"full\"" ] (fun () -> x.Conv2d(Tensor.Zeros [| 4; 3; 3; 3 |], null, null, "full"))
            throws "conv2d" [ "stride 1" ] (fun () -> x.Conv2d(Tensor.Zeros [| 4; 3; 3; 3 |], null, [| 2 |], "same"))
        testCase "attention shapes" <| fun () ->
            throws "scaledDotProductAttention" [ "[2,4]"; "[3,5]" ] (fun () -> Tensor.ScaledDotProductAttention(Tensor.Zeros [| 2; 4 |], Tensor.Zeros [| 3; 5 |], Tensor.Zeros [| 3; 5 |]))
            throws "scaledDotProductAttention" [ "mask"; "[2,2]" ] (fun () ->
                Tensor.ScaledDotProductAttention(Tensor.Zeros [| 2; 4 |], Tensor.Zeros [| 3; 4 |], Tensor.Zeros [| 3; 5 |], Tensor.Ones([| 2; 2 |], DType.Bool)))
        testCase "heads not dividing the embedding size" <| fun () ->
            let e = Expect.throwsC (fun () -> nn.multiHeadAttention 10 3 false |> ignore) id
            Expect.stringContains e.Message "multiHeadAttention" "names the layer"
            Expect.stringContains e.Message "embedding size 10" "names the size"
            Expect.stringContains e.Message "3" "names the heads"
        testCase "pad" <| fun () ->
            throws "pad" [ "[2,3]" ] (fun () -> (Tensor.Zeros [| 2; 3 |]).Pad([| 3; 0 |], PadMode.Reflect))
            throws "pad" [ "pairs" ] (fun () -> (Tensor.Zeros [| 2; 3 |]).Pad([| 1 |]))
    ]

let private layers =
    testList "layers in model { }" [
        testCase "nn.conv2d declares PyTorch's parameters with kaiming-uniform bounds" <| fun () ->
            let p, _ = Model.init 1UL (nn.conv2d 3 8 3)
            Expect.sequenceEqual (Params.names p) [ "bias"; "weight" ] "names"
            let w = pget "weight" p
            Expect.sequenceEqual w.Shape [| 8; 3; 3; 3 |] "weight shape"
            let bound = 1.0 / sqrt 27.0
            Expect.isTrue (arr w |> Array.forall (fun v -> abs v <= bound)) "within 1/sqrt(fan in)"
            Expect.isTrue ((arr w |> Array.map abs |> Array.max) > bound / 2.0) "spread over the range"
            let p2, _ = Model.init 1UL (nn.conv2dWith { ConvOptions.Default with Groups = 3; Bias = false } 3 6 3)
            Expect.sequenceEqual (Params.names p2) [ "weight" ] "no bias"
            Expect.sequenceEqual (pget "weight" p2).Shape [| 6; 1; 3; 3 |] "depthwise-style weight"
        testCase "a small CNN trains end to end: shapes and gradients" <| fun () ->
            let net =
                nn.sequential [
                    nn.conv2dWith { ConvOptions.Default with Padding = Padding.Same } 1 4 3
                    nn.fn relu
                    nn.maxPool2d 2
                    nn.conv2dWith { ConvOptions.Default with Stride = 2; Padding = Padding.Explicit 1; Groups = 2 } 4 4 3
                    nn.avgPool2d 1
                    nn.flatten
                    nn.linear 16 3 ]
            let p, apply = Model.init 2UL net
            let x = Tensor.Rand([| 2; 1; 8; 8 |], Generator 3UL)
            Expect.sequenceEqual (apply p x).Shape [| 2; 3 |] "output shape"
            let g = Tree.grad (fun (p: Params) -> (apply p x).Square().Sum()) p
            for name, t in Params.toList g do
                Expect.sequenceEqual t.Shape (pget name p).Shape (sprintf "gradient of %s" name)
                Expect.isTrue (arr t |> Array.exists (fun v -> v <> 0.0)) (sprintf "%s gets a gradient" name)
        testCase "nn.conv1d and nn.globalAvgPool2d" <| fun () ->
            let p, apply = Model.init 4UL (nn.conv1dWith { ConvOptions.Default with Padding = Padding.Same; Dilation = 2 } 2 5 3)
            Expect.sequenceEqual (apply p (Tensor.Zeros [| 3; 2; 7 |])).Shape [| 3; 5; 7 |] "same padding keeps the length"
            let p0, pool = Model.init 0UL nn.globalAvgPool2d
            Expect.sequenceEqual (pool p0 (Tensor.Ones [| 2; 3; 4; 5 |])).Shape [| 2; 3; 1; 1 |] "global pooling"
        testCase "nn.multiHeadAttention equals per-head attention of its projections" <| fun () ->
            let e, heads = 6, 3
            let p, apply = Model.init 5UL (nn.multiHeadAttention e heads false)
            Expect.sequenceEqual (Params.names p) [ "in_proj_bias"; "in_proj_weight"; "out_proj.bias"; "out_proj.weight" ] "names"
            let p = p |> Params.map (fun t -> t.To DType.Float64)
            let g = Generator 6UL
            let q, k, v = uniform g [| 2; 4; e |] -1.0 1.0, uniform g [| 2; 5; e |] -1.0 1.0, uniform g [| 2; 5; e |] -1.0 1.0
            let y = apply p q k v
            let wIn, bIn = pget "in_proj_weight" p, pget "in_proj_bias" p
            let proj (x: Tensor) i = x.MatMul(wIn.Narrow(0, i * e, e).T) + bIn.Narrow(0, i * e, e)
            let qp, kp, vp = proj q 0, proj k 1, proj v 2
            let d = e / heads
            let perHead =
                Array.init 2 (fun b ->
                    let outs = Array.init heads (fun h -> refAttention (4, 5, d, d) (arr (qp.[b].Narrow(1, h * d, d))) (arr (kp.[b].Narrow(1, h * d, d))) (arr (vp.[b].Narrow(1, h * d, d))) (fun _ _ -> true))
                    Array.init (4 * e) (fun idx -> let i, c = idx / e, idx % e in outs.[c / d].[i * d + c % d])) |> Array.concat
            let merged = Tensor.FromArray(perHead, [| 2; 4; e |])
            let expected = merged.MatMul((pget "out_proj.weight" p).T) + pget "out_proj.bias" p
            expectClose 1e-10 y expected "multi-head attention"
        testCase "causal self-attention: an output does not depend on later positions" <| fun () ->
            let p, apply = Model.init 7UL (nn.selfAttention 4 2 true)
            let x = Tensor.Rand([| 1; 5; 4 |], Generator 8UL)
            let x2 = x.Pad([| 0; 0; 0; 0 |]) + Tensor.FromArray([| for i in 0 .. 19 -> if i >= 16 then 1.0f else 0.0f |], [| 1; 5; 4 |])
            let y, y2 = apply p x, apply p x2
            expectClose 1e-6 (y.Narrow(1, 0, 4)) (y2.Narrow(1, 0, 4)) "positions 0..3 unchanged"
            Expect.isFalse (close 1e-6 (arr (y.Narrow(1, 4, 1))) (arr (y2.Narrow(1, 4, 1)))) "position 4 changes"
            let e = Expect.throwsC (fun () -> apply p (Tensor.Zeros [| 1; 5; 3 |]) |> ignore) id
            Expect.stringContains e.Message "[1,5,3]" "names the shape"
    ]

let tests = testList "convolution, pooling and attention" [ forward; derivatives; errors; layers ]
