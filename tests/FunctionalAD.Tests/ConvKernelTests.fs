/// The CPU's own convolution and pooling kernels against loop references and the composite defaults (which the GPU
/// runs): the direct (implicit-GEMM) convolution for stride 1 on each tile set the machine has, 1 to 3 threads, and
/// the one-pass max pooling with ties and NaN.
module FunctionalAD.Tests.ConvKernelTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Tests.Support
open FunctionalAD.Tests.ConvGen
open FunctionalAD.Tests.ConvTests

let private arr (t: Tensor) = t.ToDoubleArray()

/// The input gradient by its definition: dx[n, c, iy, ix] = Σ dy[n, o, y, x] · w[o, c, i, j] over the windows that read it.
let refConvInputGrad (g: Geometry) (dy: float[]) (w: float[]) =
    let top, _, left, _ = g.Pads
    let dx = Array.zeroCreate (g.N * g.C * g.H * g.W)
    for n in 0 .. g.N - 1 do
        for o in 0 .. g.O - 1 do
            for y in 0 .. g.OutH - 1 do
                for xo in 0 .. g.OutW - 1 do
                    for c in 0 .. g.Cg - 1 do
                        for i in 0 .. g.Kh - 1 do
                            for j in 0 .. g.Kw - 1 do
                                let iy, ix = y * g.Sh - top + i * g.Dh, xo * g.Sw - left + j * g.Dw
                                if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W then
                                    let at = ((n * g.C + c) * g.H + iy) * g.W + ix
                                    dx.[at] <- dx.[at] + dy.[((n * g.O + o) * g.OutH + y) * g.OutW + xo] * w.[((o * g.Cg + c) * g.Kh + i) * g.Kw + j]
    dx

/// The weight gradient by its definition: dw[o, c, i, j] = Σ dy[n, o, y, x] · x[n, c, y - top + i·dh, x - left + j·dw].
let refConvWeightGrad (g: Geometry) (dy: float[]) (x: float[]) =
    let top, _, left, _ = g.Pads
    Array.init (g.O * g.Cg * g.Kh * g.Kw) (fun idx ->
        let o, c, i, j = idx / (g.Cg * g.Kh * g.Kw), idx / (g.Kh * g.Kw) % g.Cg, idx / g.Kw % g.Kh, idx % g.Kw
        let mutable s = 0.0
        for n in 0 .. g.N - 1 do
            for y in 0 .. g.OutH - 1 do
                for xo in 0 .. g.OutW - 1 do
                    let iy, ix = y - top + i * g.Dh, xo - left + j * g.Dw
                    if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W then
                        s <- s + dy.[((n * g.O + o) * g.OutH + y) * g.OutW + xo] * x.[((n * g.C + c) * g.H + iy) * g.W + ix]
        s)

/// Stride-1, one-group geometries big enough to cross the kernels' tiles (8 and 4 output channels, 3 vectors of output
/// positions, 6 and 4 taps) and, often, the size at which work is split over threads; odd sizes, padding up to the
/// dilated kernel's reach and past it (the input gradient then takes the fold path).
let genDirect : Gen<Geometry> =
    gen {
        let! n = Gen.choose (1, 3)
        let! cg = Gen.choose (1, 9)
        let! og = Gen.choose (1, 11)
        let! kh = Gen.choose (1, 3)
        let! kw = Gen.choose (1, 3)
        let! dh = Gen.elements [ 1; 1; 2 ]
        let! dw = Gen.elements [ 1; 1; 2 ]
        let! same = Gen.elements [ false; false; true ]
        let! ph = if same then Gen.constant 0 else Gen.choose (0, 3)
        let! pw = if same then Gen.constant 0 else Gen.choose (0, 3)
        let! h = Gen.choose (1, 23)
        let! w = Gen.choose (1, 23)
        let h = max h (dh * (kh - 1) + 1 - 2 * ph)
        let w = max w (dw * (kw - 1) + 1 - 2 * pw)
        return { N = n; Groups = 1; Cg = cg; Og = og; H = h; W = w; Kh = kh; Kw = kw; Sh = 1; Sw = 1; Ph = ph; Pw = pw; Dh = dh; Dw = dw; Same = same }
    }

/// The tile sets this machine runs.
let directKinds =
    [ Backends.GemmKernelKind.Vector512; Backends.GemmKernelKind.Vector256 ]
    |> List.filter (fun k -> Backends.DirectConv.Usable(Nullable k) = Nullable k)

/// Runs the three direct kernels in element type 'T on one geometry and compares each with the loops.
let private checkDirect (ofDouble: float -> 'T) (toDouble: 'T -> float) (tol: float) (kind: Backends.GemmKernelKind) (c: Geometry, seed: uint64) =
    let rnd = Random(int (seed % 1000000UL))
    let data n = Array.init n (fun _ -> rnd.NextDouble() * 2.0 - 1.0)
    let x, w, dy = data (c.N * c.C * c.H * c.W), data (c.O * c.C * c.Kh * c.Kw), data (c.N * c.O * c.OutH * c.OutW)
    let lift (a: float[]) = Array.append [| ofDouble 7.0 |] (Array.map ofDouble a) // offset 1: kernels honour the offset
    let geo = convGeometry c
    let check name (got: 'T[]) (expected: float[]) =
        let got = Array.map toDouble got
        Expect.equal got.Length expected.Length (name + " length")
        for i in 0 .. got.Length - 1 do
            if abs (got.[i] - expected.[i]) > tol * (1.0 + abs expected.[i]) then
                failtestf "%s[%d] = %g, expected %g (%A, %A, %d threads)" name i got.[i] expected.[i] c kind Backends.Parallelism.MaxThreads
    check "forward" (Backends.DirectConv.Forward(lift x, 1, c.N, lift w, 1, c.O, geo, kind)) (refConv2d c x w)
    match Backends.DirectConv.InputGrad(lift dy, 1, c.N, lift w, 1, c.O, geo, kind) with
    | null ->
        let top, bottom, left, right = c.Pads
        Expect.isTrue (top > c.Dh * (c.Kh - 1) || bottom > c.Dh * (c.Kh - 1) || left > c.Dw * (c.Kw - 1) || right > c.Dw * (c.Kw - 1)) "declines only padding past the kernel's reach"
    | dx -> check "input grad" dx (refConvInputGrad c dy w)
    check "weight grad" (Backends.DirectConv.WeightGrad(lift dy, 1, lift x, 1, c.N, c.O, geo, kind)) (refConvWeightGrad c dy x)

let tests =
    let cases = Arb.fromGen (Gen.zip genDirect genSeed)
    testList "convolution kernels of the CPU: direct (stride 1) and pooling" [
        for kind in directKinds do
            for threads in [ 1; 2 ] do
                testPropertyWithConfig { config with maxTest = 25 } $"Float64 and Float32, {kind}, {threads} thread(s)" (Prop.forAll cases (fun case ->
                    use _ = Backends.Parallelism.Limit threads
                    checkDirect id id 1e-12 kind case
                    checkDirect float32 float 2e-5 kind case
                    true))
        testCase "a case split over threads: every thread count gives the loops' values" <| fun () ->
            let c = { N = 3; Groups = 1; Cg = 8; Og = 10; H = 20; W = 21; Kh = 3; Kw = 3; Sh = 1; Sw = 1; Ph = 1; Pw = 1; Dh = 1; Dw = 1; Same = false }
            for kind in directKinds do
                for threads in [ 1; 2; 3 ] do
                    use _ = Backends.Parallelism.Limit threads
                    checkDirect id id 1e-12 kind (c, 5UL)
        testCase "many input channels, asymmetric kernel, padding and dilation" <| fun () ->
            let c = { N = 2; Groups = 1; Cg = 37; Og = 9; H = 7; W = 11; Kh = 3; Kw = 2; Sh = 1; Sw = 1; Ph = 1; Pw = 0; Dh = 1; Dw = 2; Same = false }
            for kind in directKinds do
                checkDirect id id 1e-12 kind (c, 9UL)
                checkDirect float32 float 2e-5 kind (c, 9UL)
        testCase "an empty batch: conv2d with bias and its gradients keep their shapes" <| fun () ->
            let x, w, b = Tensor.Zeros([| 0; 3; 5; 5 |], DType.Float32), Tensor.Ones([| 4; 3; 3; 3 |], DType.Float32), Tensor.Ones([| 4 |], DType.Float32)
            let y = x.Conv2d(w, b, padding = [| 1; 1 |])
            Expect.sequenceEqual y.Shape [| 0; 4; 5; 5 |] "result shape"
            let struct (_, gs) = Transform.ValueAndGrad(Func<_, _>(fun (p: Tensor[]) -> p.[0].Conv2d(p.[1], p.[2], padding = [| 1; 1 |]).Sum()), [| x; w; b |])
            Expect.sequenceEqual gs.[0].Shape x.Shape "dx shape"
            Expect.equal (gs.[1].ToDoubleArray() |> Array.sum) 0.0 "dw is zero"
            Expect.equal (gs.[2].ToDoubleArray() |> Array.sum) 0.0 "db is zero"
        testCase "an infinite input sends the weight gradient to the unfold path, with its values" <| fun () ->
            let c = { N = 2; Groups = 1; Cg = 3; Og = 5; H = 6; W = 7; Kh = 3; Kw = 3; Sh = 1; Sw = 1; Ph = 1; Pw = 1; Dh = 1; Dw = 1; Same = false }
            let g = Generator 3UL
            let xs = arr (uniform g c.XShape -1.0 1.0)
            xs.[10] <- infinity
            let x = Tensor.FromArray(xs, c.XShape).Value
            let dy = (uniform g [| c.N; c.O; c.OutH; c.OutW |] -1.0 1.0).Value
            let cpu = Backends.CpuBackend.Instance
            let fast = arr (Tensor(cpu.Conv2dWeightGrad(dy, x, convGeometry c)))
            let composite = arr (Tensor(Backends.ConvolutionKernels.Conv2dWeightGrad(cpu, dy, x, convGeometry c)))
            Expect.equal (fast |> Array.map (fun v -> if Double.IsNaN v then "nan" else string v)) (composite |> Array.map (fun v -> if Double.IsNaN v then "nan" else string v)) "same values, NaN and infinities included"
            Expect.isTrue (fast |> Array.exists Double.IsInfinity) "the infinity reaches the gradient"
        testPropertyWithConfig config "the CPU's max pooling and its cotangent equal the composite defaults (ties, NaN, overlaps)"
            (Prop.forAll (Arb.fromGen (Gen.zip genPool genSeed)) (fun ((k, s, _, d, shape), seed) ->
                let rnd = Random(int (seed % 1000000UL))
                // few distinct values, so windows hold ties; now and then a NaN
                let xs = Array.init (Array.reduce (*) shape) (fun _ -> if rnd.Next 40 = 0 then nan else float (rnd.Next 4))
                let x = Tensor.FromArray(xs, shape).Value
                let cpu = Backends.CpuBackend.Instance
                let compare (geo: Backends.ConvGeometry) =
                    let dy = (uniform (Generator seed) [| shape.[0]; shape.[1]; geo.OutHeight; geo.OutWidth |] -1.0 1.0).Value
                    let same name (a: float[]) (b: float[]) =
                        Expect.equal a.Length b.Length name
                        for i in 0 .. a.Length - 1 do
                            if not (Double.IsNaN a.[i] && Double.IsNaN b.[i] || abs (a.[i] - b.[i]) <= 1e-12) then
                                failtestf "%s[%d] = %g, default %g (%A, shape %A)" name i a.[i] b.[i] geo shape
                    same "maxPool2d" (arr (Tensor(cpu.MaxPool2d(x, geo)))) (arr (Tensor(Backends.PoolingKernels.MaxPool2d(cpu, x, geo))))
                    same "maxPool2dGrad" (arr (Tensor(cpu.MaxPool2dGrad(dy, x, geo)))) (arr (Tensor(Backends.PoolingKernels.MaxPool2dGrad(cpu, dy, x, geo))))
                compare (Backends.ConvGeometry(shape.[1], shape.[2], shape.[3], k.[0], k.[1], s.[0], s.[1], 0, 0, 0, 0, d.[0], d.[1]))
                // the 2x2 kernel with windows apart has a path of its own (odd sizes leave rows and columns uncovered)
                if shape.[2] >= 2 && shape.[3] >= 2 then
                    compare (Backends.ConvGeometry(shape.[1], shape.[2], shape.[3], 2, 2, 2, s.[1] + 1, 0, 0, 0, 0, 1, 1))
                true))
    ]
