/// Transposed convolution and upsampling against loop implementations written here from PyTorch's definitions
/// (Float64 to 1e-12, Float32 to 1e-5) and against values PyTorch prints, their derivatives (both are composites of
/// differentiable primitives), errors, the nn layers; and the (Fashion-)MNIST loader on small IDX files.
module FunctionalAD.Tests.ResamplingTests

open System
open System.IO
open System.IO.Compression
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Testing
open FunctionalAD.Tests.Support
open FunctionalAD.Tests.ConvGen

/// One transposed convolution: a conv geometry read the other way (C = Groups·Cg in, O = Groups·Og out, weight
/// [C, Og, Kh, Kw]) plus an output padding smaller than the stride or the dilation.
type Transposed =
    { G: Geometry; Oph: int; Opw: int }
    member t.Ph = t.G.Ph
    member t.Pw = t.G.Pw
    member t.OutH = (t.G.H - 1) * t.G.Sh - 2 * t.Ph + t.G.Dh * (t.G.Kh - 1) + t.Oph + 1
    member t.OutW = (t.G.W - 1) * t.G.Sw - 2 * t.Pw + t.G.Dw * (t.G.Kw - 1) + t.Opw + 1
    member t.Apply (x: Tensor) (w: Tensor) (bias: Tensor) =
        let g = t.G
        x.ConvTranspose2d(w, bias, [| g.Sh; g.Sw |], [| t.Ph; t.Pw |], [| t.Oph; t.Opw |], [| g.Dh; g.Dw |], g.Groups)

let private genTransposed =
    gen {
        let! g = genGeometry
        let! oph = Gen.choose (0, max g.Sh g.Dh - 1)
        let! opw = Gen.choose (0, max g.Sw g.Dw - 1)
        // keep the output non-empty: padding at most what the kernel footprint allows
        let fullH, fullW = (g.H - 1) * g.Sh + g.Dh * (g.Kh - 1) + 1, (g.W - 1) * g.Sw + g.Dw * (g.Kw - 1) + 1
        return { G = { g with Same = false; Ph = min g.Ph ((fullH - 1) / 2); Pw = min g.Pw ((fullW - 1) / 2) }; Oph = oph; Opw = opw }
    }

/// PyTorch's conv_transpose2d: input pixel (iy, ix) of channel c adds x·w[c, o', i, j] at output
/// (iy·sh - ph + i·dh, ix·sw - pw + j·dw) of channel group(c)·Og + o'; positions outside the output are dropped.
let refConvTranspose2d (t: Transposed) (x: float[]) (w: float[]) =
    let g = t.G
    let oh, ow = t.OutH, t.OutW
    let y = Array.zeroCreate (g.N * g.O * oh * ow)
    for n in 0 .. g.N - 1 do
        for c in 0 .. g.C - 1 do
            let grp = c / g.Cg
            for iy in 0 .. g.H - 1 do
                for ix in 0 .. g.W - 1 do
                    let v = x.[((n * g.C + c) * g.H + iy) * g.W + ix]
                    for o' in 0 .. g.Og - 1 do
                        for i in 0 .. g.Kh - 1 do
                            for j in 0 .. g.Kw - 1 do
                                let oy, ox = iy * g.Sh - t.Ph + i * g.Dh, ix * g.Sw - t.Pw + j * g.Dw
                                if oy >= 0 && oy < oh && ox >= 0 && ox < ow then
                                    let o = grp * g.Og + o'
                                    y.[((n * g.O + o) * oh + oy) * ow + ox] <- y.[((n * g.O + o) * oh + oy) * ow + ox] + v * w.[((c * g.Og + o') * g.Kh + i) * g.Kw + j]
    y

/// PyTorch's upsample (nearest and bilinear, CPU kernels): source index and weights per output index, in single
/// precision as PyTorch computes them for Float32; `factor` is the scale factor when one was given.
let refSource (mode: UpsampleMode) (alignCorners: bool) (input: int) (output: int) (factor: float option) (i: int) =
    let scale =
        if alignCorners then (if output > 1 then float32 (input - 1) / float32 (output - 1) else 0.0f)
        else match factor with Some f -> float32 (1.0 / f) | None -> float32 input / float32 output
    if mode = UpsampleMode.Nearest then
        let k = if output = input then i elif output = 2 * input then i / 2 else min (int (floor (float32 i * scale))) (input - 1)
        k, k, 1.0, 0.0
    elif output = input then i, i, 1.0, 0.0
    else
        let src = if alignCorners then scale * float32 i else max (scale * (float32 i + 0.5f) - 0.5f) 0.0f
        let i0 = min (int (floor src)) (input - 1)
        let l1 = min (max (src - float32 i0) 0.0f) 1.0f
        i0, (if i0 < input - 1 then i0 + 1 else i0), float (1.0f - l1), float l1

/// out[nc, y, x] = Σ over the two source rows and columns of λrow·λcol·in[nc, row, col] (PyTorch's 2-D formula).
let refUpsample mode alignCorners (n, c, h, w) (oh, ow) (factors: (float * float) option) (x: float[]) =
    Array.init (n * c * oh * ow) (fun idx ->
        let nc, y, xo = idx / (oh * ow), idx / ow % oh, idx % ow
        let r0, r1, a0, a1 = refSource mode alignCorners h oh (Option.map fst factors) y
        let c0, c1, b0, b1 = refSource mode alignCorners w ow (Option.map snd factors) xo
        let at r col = x.[(nc * h + r) * w + col]
        a0 * (b0 * at r0 c0 + b1 * at r0 c1) + a1 * (b0 * at r1 c0 + b1 * at r1 c1))

let private arr (t: Tensor) = t.ToDoubleArray()

let private expectArray tol (actual: float[]) (expected: float[]) msg =
    if not (close tol actual expected) then failtestf "%s:\nactual   %A\nexpected %A" msg actual expected

let private prop name (gen: Gen<'a>) (body: 'a * uint64 -> unit) =
    testPropertyWithConfig config name (Prop.forAll (Arb.fromGen (Gen.zip gen genSeed)) (fun a -> body a; true))

let private check order (f: Tensor[] -> Tensor) (xs: Tensor[]) =
    Check.gradientsWith { GradientOptions.forDType DType.Float64 with Order = order; Tolerance = 1e-5 } f xs

let private throws (op: string) (fragments: string list) (f: unit -> Tensor) =
    let e = Expect.throwsC (fun () -> f () |> ignore) id
    Expect.stringStarts e.Message (op + ":") (sprintf "names the op: %s" e.Message)
    for s in fragments do Expect.stringContains e.Message s (sprintf "mentions %s: %s" s e.Message)

let private convTranspose =
    testList "convTranspose2d" [
        prop "equals the loop reference (stride, padding, output padding, dilation, groups), Float64 and Float32" genTransposed <| fun (t, seed) ->
            let g = Generator seed
            let x = uniform g t.G.XShape -1.0 1.0
            let w = uniform g [| t.G.C; t.G.Og; t.G.Kh; t.G.Kw |] -1.0 1.0
            let b = uniform g [| t.G.O |] -1.0 1.0
            let expected = refConvTranspose2d t (arr x) (arr w)
            let y = t.Apply x w null
            Expect.sequenceEqual y.Shape [| t.G.N; t.G.O; t.OutH; t.OutW |] (sprintf "shape %A" t)
            expectArray 1e-12 (arr y) expected (sprintf "convTranspose2d %A" t)
            let y32 = t.Apply (x.To DType.Float32) (w.To DType.Float32) (b.To DType.Float32)
            let withBias = expected |> Array.mapi (fun i v -> v + (arr b).[i / (t.OutH * t.OutW) % t.G.O])
            expectArray 1e-5 (arr y32) withBias (sprintf "Float32 with bias %A" t)
        prop "is the transpose of conv2d: <conv2d(u), v> = <u, convTranspose2d(v)>" genTransposed <| fun (t, seed) ->
            // conv2d of an input of the transposed output's size maps back to the transposed input's size
            let t = { t with Oph = 0; Opw = 0 }
            let g = Generator seed
            let cg = t.G
            let w = uniform g [| cg.C; cg.Og; cg.Kh; cg.Kw |] -1.0 1.0
            let u = uniform g [| cg.N; cg.O; t.OutH; t.OutW |] -1.0 1.0
            let v = uniform g cg.XShape -1.0 1.0
            let conv = u.Conv2d(w, null, [| cg.Sh; cg.Sw |], [| t.Ph; t.Pw |], [| cg.Dh; cg.Dw |], cg.Groups)
            Expect.sequenceEqual conv.Shape v.Shape "conv2d maps the output size back"
            let lhs = (conv * v).Sum().Item()
            let rhs = (u * t.Apply v w null).Sum().Item()
            Expect.floatClose { absolute = 1e-10; relative = 1e-10 } lhs rhs "adjoint identity"
        testCase "derivatives in x, weight and bias, to second order" <| fun () ->
            let g = Generator 11UL
            for stride, padding, outPad, dilation, groups in [ 1, 0, 0, 1, 1; 2, 1, 1, 1, 2; 2, 0, 1, 2, 1 ] do
                let x = uniform g [| 2; 2; 3; 2 |] -1.0 1.0
                let w = uniform g [| 2; 3 - groups + 1; 2; 3 |] -1.0 1.0
                let b = uniform g [| w.Shape.[1] * groups |] -1.0 1.0
                check 2 (fun xs -> sin (xs.[0].ConvTranspose2d(xs.[1], xs.[2], [| stride |], [| padding |], [| outPad |], [| dilation |], groups))) [| x; w; b |]
        testCase "errors name the op and the shapes" <| fun () ->
            let x = Tensor.Zeros [| 2; 3; 4; 4 |]
            throws "convTranspose2d" [ "[2,3,4,4]"; "[4,2,3,3]"; "3 channels" ] (fun () -> x.ConvTranspose2d(Tensor.Zeros [| 4; 2; 3; 3 |]))
            throws "convTranspose2d" [ "4-D input"; "[3,4,4]" ] (fun () -> (Tensor.Zeros [| 3; 4; 4 |]).ConvTranspose2d(Tensor.Zeros [| 3; 2; 3; 3 |]))
            throws "convTranspose2d" [ "4-D weight"; "[3,2,3]" ] (fun () -> x.ConvTranspose2d(Tensor.Zeros [| 3; 2; 3 |]))
            throws "convTranspose2d" [ "groups = 2"; "3" ] (fun () -> x.ConvTranspose2d(Tensor.Zeros [| 3; 2; 3; 3 |], groups = 2))
            throws "convTranspose2d" [ "output padding 2x2"; "stride 2x2" ] (fun () -> x.ConvTranspose2d(Tensor.Zeros [| 3; 2; 3; 3 |], null, [| 2 |], null, [| 2 |]))
            throws "convTranspose2d" [ "bias"; "[3]" ] (fun () -> x.ConvTranspose2d(Tensor.Zeros [| 3; 2; 3; 3 |], Tensor.Zeros [| 3 |]))
            throws "convTranspose2d" [ "output would be"; "padding 4x4" ] (fun () -> x.ConvTranspose2d(Tensor.Zeros [| 3; 2; 1; 1 |], null, null, [| 4 |]))
        testCase "nn.convTranspose2d: PyTorch's parameters, and stride 2 with output padding doubles the size" <| fun () ->
            let p, apply = Model.init 1UL (nn.convTranspose2dWith { ConvTransposeOptions.Default with Stride = 2; Padding = 1; OutputPadding = 1 } 4 6 3)
            Expect.sequenceEqual (Params.names p) [ "bias"; "weight" ] "names"
            let w = (Params.tryGet "weight" p).Value
            Expect.sequenceEqual w.Shape [| 4; 6; 3; 3 |] "weight [in, out, k, k]"
            Expect.isTrue (arr w |> Array.forall (fun v -> abs v <= 1.0 / sqrt 54.0)) "U(±1/√(out·k·k))"
            Expect.sequenceEqual (apply p (Tensor.Zeros [| 2; 4; 5; 7 |])).Shape [| 2; 6; 10; 14 |] "doubled"
            let p1, apply1 = Model.init 2UL (nn.convTranspose2d 3 2 3)
            Expect.sequenceEqual (apply1 p1 (Tensor.Zeros [| 1; 3; 4; 4 |])).Shape [| 1; 2; 6; 6 |] "grows by kernel - 1"
            Expect.throwsT<ArgumentException> (fun () -> nn.convTranspose2dWith { ConvTransposeOptions.Default with Groups = 2 } 3 4 3 |> ignore) "groups must divide"
    ]

let private upsample =
    let genCase =
        gen {
            let! h = Gen.choose (1, 4)
            let! w = Gen.choose (1, 4)
            let! oh = Gen.choose (1, 9)
            let! ow = Gen.choose (1, 9)
            let! fh = Gen.elements [ 0.5; 1.0; 1.5; 2.0; 2.5; 3.0 ]
            let! fw = Gen.elements [ 0.7; 1.0; 2.0; 3.0 ]
            return (h, w), (oh, ow), (fh, fw)
        }
    testList "upsample" [
        prop "nearest and bilinear (both alignCorners), by size and by factor, equal PyTorch's formulas" genCase <| fun (((h, w), (oh, ow), (fh, fw)), seed) ->
            let x = uniform (Generator seed) [| 2; 3; h; w |] -1.0 1.0
            let dims = 2, 3, h, w
            for mode, corners in [ UpsampleMode.Nearest, false; UpsampleMode.Bilinear, false; UpsampleMode.Bilinear, true ] do
                let y = x.Upsample([| oh; ow |], mode, corners)
                Expect.sequenceEqual y.Shape [| 2; 3; oh; ow |] "shape by size"
                expectArray 1e-12 (arr y) (refUpsample mode corners dims (oh, ow) None (arr x)) (sprintf "%A corners=%b to %dx%d" mode corners oh ow)
                let fh' = int (floor (float h * fh)), int (floor (float w * fw))
                if fst fh' > 0 && snd fh' > 0 then
                    let yf = x.Upsample([| fh; fw |], mode, corners)
                    Expect.sequenceEqual yf.Shape [| 2; 3; fst fh'; snd fh' |] "shape by factor"
                    expectArray 1e-12 (arr yf) (refUpsample mode corners dims fh' (Some(fh, fw)) (arr x)) (sprintf "%A corners=%b by %gx%g" mode corners fh fw)
                    let y32 = (x.To DType.Float32).Upsample([| fh; fw |], mode, corners)
                    expectArray 1e-5 (arr y32) (arr yf) "Float32"
        testCase "values PyTorch prints" <| fun () ->
            let x = Tensor.FromArray([| 1.0; 2.0; 3.0; 4.0 |], [| 1; 1; 2; 2 |])
            Expect.sequenceEqual (arr (x.Upsample([| 4 |], UpsampleMode.Bilinear)))
                [| 1.0; 1.25; 1.75; 2.0; 1.5; 1.75; 2.25; 2.5; 2.5; 2.75; 3.25; 3.5; 3.0; 3.25; 3.75; 4.0 |] "bilinear 2x2 -> 4x4"
            Expect.sequenceEqual (arr (x.Upsample([| 3 |], UpsampleMode.Bilinear, true)))
                [| 1.0; 1.5; 2.0; 2.0; 2.5; 3.0; 3.0; 3.5; 4.0 |] "bilinear, align corners, 2x2 -> 3x3"
            Expect.sequenceEqual (arr (x.upsample(scaleFactor = 2.0)))
                [| 1.0; 1.0; 2.0; 2.0; 1.0; 1.0; 2.0; 2.0; 3.0; 3.0; 4.0; 4.0; 3.0; 3.0; 4.0; 4.0 |] "nearest x2"
            let row = Tensor.FromArray([| 10.0; 20.0; 30.0 |], [| 1; 1; 1; 3 |])
            Expect.sequenceEqual (arr (row.Upsample([| 1; 5 |]))) [| 10.0; 10.0; 20.0; 20.0; 30.0 |] "nearest 3 -> 5: floor(i·3/5)"
            Expect.sequenceEqual (arr (row.Upsample([| 1.0; 1.5 |]))) [| 10.0; 10.0; 20.0; 30.0 |] "nearest by 1.5: floor(i/1.5)"
        testCase "derivatives (bilinear to second order; nearest sums the copies)" <| fun () ->
            let x = uniform (Generator 12UL) [| 1; 2; 3; 2 |] -1.0 1.0
            check 2 (fun xs -> sin (xs.[0].Upsample([| 5; 4 |], UpsampleMode.Bilinear))) [| x |]
            check 2 (fun xs -> sin (xs.[0].Upsample([| 2.0; 1.5 |], UpsampleMode.Bilinear, true))) [| x |]
            check 1 (fun xs -> sin (xs.[0].Upsample([| 2.0 |]))) [| x |]
            let gx = grad (fun (x: Tensor) -> (x.Upsample([| 2.0 |])).Sum()) x
            Expect.sequenceEqual (arr gx) (Array.create 12 4.0) "each input pixel is copied four times"
        testCase "errors and the nn layer" <| fun () ->
            throws "upsample" [ "4-D input"; "[2,3]" ] (fun () -> (Tensor.Zeros [| 2; 3 |]).Upsample([| 2.0 |]))
            throws "upsample" [ "alignCorners" ] (fun () -> (Tensor.Zeros [| 1; 1; 2; 2 |]).Upsample([| 4 |], UpsampleMode.Nearest, true))
            throws "upsample" [ "positive" ] (fun () -> (Tensor.Zeros [| 1; 1; 2; 2 |]).Upsample([| 0; 3 |]))
            throws "upsample" [ "empty" ] (fun () -> (Tensor.Zeros [| 1; 1; 2; 2 |]).Upsample([| 0.2 |]))
            Expect.throwsT<ArgumentException> (fun () -> (Tensor.Zeros [| 1; 1; 2; 2 |]).upsample() |> ignore) "size or factor"
            let p, apply = Model.init 0UL (nn.upsample 3)
            Expect.sequenceEqual (apply p (Tensor.Zeros [| 2; 1; 2; 3 |])).Shape [| 2; 1; 6; 9 |] "nn.upsample"
    ]

/// Writes an IDX file (gzip-compressed when the name ends in .gz) of unsigned bytes.
let private writeIdx (path: string) (dims: int list) (data: byte[]) =
    use file = File.Create path
    use s = if path.EndsWith ".gz" then new GZipStream(file, CompressionLevel.Fastest) :> Stream else file :> Stream
    let put (bytes: byte[]) = s.Write(bytes, 0, bytes.Length)
    put [| 0uy; 0uy; 8uy; byte dims.Length |]
    for d in dims do put [| byte (d >>> 24); byte (d >>> 16); byte (d >>> 8); byte d |]
    put data

let private mnist =
    testCase "the (Fashion-)MNIST loader: scaled images [N, 1, H, W], Int64 labels, missing and inconsistent files" <| fun () ->
        let dir = Directory.CreateTempSubdirectory("fad-mnist").FullName
        try
            writeIdx (Path.Combine(dir, "train-images-idx3-ubyte.gz")) [ 3; 2; 2 ] [| 0uy; 51uy; 255uy; 1uy; 2uy; 3uy; 4uy; 5uy; 6uy; 7uy; 8uy; 9uy |]
            writeIdx (Path.Combine(dir, "train-labels-idx1-ubyte.gz")) [ 3 ] [| 9uy; 0uy; 4uy |]
            writeIdx (Path.Combine(dir, "t10k-images-idx3-ubyte")) [ 1; 2; 2 ] [| 255uy; 0uy; 0uy; 255uy |]  // raw also works
            writeIdx (Path.Combine(dir, "t10k-labels-idx1-ubyte.gz")) [ 2 ] [| 1uy; 2uy |]
            let e = Expect.throwsC (fun () -> Datasets.fashionMnist dir |> ignore) id
            Expect.isTrue (e :? Persistence.CorruptFileException) "count mismatch is a corrupt file"
            Expect.stringContains e.Message "2 labels for 1 images" e.Message
            writeIdx (Path.Combine(dir, "t10k-labels-idx1-ubyte.gz")) [ 1 ] [| 1uy |]
            let (xs, ys), (xt, yt) = Datasets.fashionMnist dir
            Expect.sequenceEqual xs.Shape [| 3; 1; 2; 2 |] "train images"
            Expect.equal xs.DType DType.Float32 "Float32"
            expectArray 1e-7 (arr (xs.Narrow(0, 0, 1))) [| 0.0; 0.2; 1.0; 1.0 / 255.0 |] "scaled by 1/255"
            Expect.equal ys.DType DType.Int64 "Int64 labels"
            Expect.sequenceEqual (arr ys) [| 9.0; 0.0; 4.0 |] "labels"
            Expect.sequenceEqual xt.Shape [| 1; 1; 2; 2 |] "test images"
            Expect.sequenceEqual (arr yt) [| 1.0 |] "test labels"
            Expect.equal Datasets.fashionMnistClasses.[9] "Ankle boot" "class names"
            let missing = Path.Combine(dir, "nothing-here")
            let e = try Datasets.fashionMnist missing |> ignore; "" with :? FileNotFoundException as e -> e.Message
            for s in [ "train-images-idx3-ubyte"; "build.fsx -- -t Data"; "t10k-labels-idx1-ubyte.gz" ] do
                Expect.stringContains e s (sprintf "the message says %s" s)
        finally
            Directory.Delete(dir, true)

let tests = testList "transposed convolution, upsampling, MNIST files" [ convTranspose; upsample; mnist ]
