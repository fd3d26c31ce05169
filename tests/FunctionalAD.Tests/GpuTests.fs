/// The ILGPU backend (FunctionalAD.Gpu) against the CPU backend: every IBackend method on random shapes, dtypes and
/// views (transposed, stepped slices, broadcasts, empty and size-1 dimensions), gradients computed on the device,
/// device movement and its errors. Runs on Device.GpuEmulated (ILGPU's CPU accelerator, slow: sizes stay small);
/// the real-GPU group runs only where a CUDA/OpenCL GPU exists.
module FunctionalAD.Tests.GpuTests

open System
open Expecto
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Autodiff
open FunctionalAD.Backends
open FunctionalAD.Gpu
open FunctionalAD.Tests.Support

do Gpu.Register()

let private cpu = CpuBackend.Instance :> IBackend
let private emulated () = Gpu.BackendFor Device.GpuEmulated :> IBackend

// ---- random raw tensors and views on the CPU --------------------------------------------------------------------

let private dtypes = [ DType.Float32; DType.Float64; DType.Int32; DType.Int64; DType.Bool ]

/// Contiguous CPU data of n elements; `nonzero` keeps integers away from 0 (divisors).
let private data (rng: Random) (dtype: DType) (nonzero: bool) (shape: int[]) : RawTensor =
    let n = Shape.Numel shape
    match dtype with
    | DType.Float32 -> cpu.FromArray(Array.init n (fun _ -> float32 (rng.NextDouble() * 4.0 - 2.0)), shape)
    | DType.Float64 -> cpu.FromArray(Array.init n (fun _ -> rng.NextDouble() * 4.0 - 2.0), shape)
    | DType.Int32 -> cpu.FromArray(Array.init n (fun _ -> let v = rng.Next(-5, 6) in if nonzero && v = 0 then 3 else v), shape)
    | DType.Int64 -> cpu.FromArray(Array.init n (fun _ -> let v = int64 (rng.Next(-5, 6)) in if nonzero && v = 0L then -2L else v), shape)
    | _ -> cpu.FromArray(Array.init n (fun _ -> rng.Next 2 = 1), shape)

/// A CPU tensor of `shape` that is, at random: contiguous, a transpose, a stepped slice with an offset, or a broadcast.
let private viewOf (rng: Random) (dtype: DType) (nonzero: bool) (shape: int[]) : RawTensor =
    let r = shape.Length
    match rng.Next 4 with
    | 1 when r >= 2 -> (data rng dtype nonzero (Array.rev shape)).Permute(Array.init r (fun i -> r - 1 - i))
    | 2 when r >= 1 ->
        let mutable v = data rng dtype nonzero (shape |> Array.map (fun d -> 2 * d + 1))
        for d in 0 .. r - 1 do v <- v.Slice(d, 1, shape.[d], 2)
        v
    | 3 when r >= 1 -> (data rng dtype nonzero (shape |> Array.map (fun d -> if rng.Next 2 = 0 then 1 else d))).Expand(shape)
    | _ -> data rng dtype nonzero shape

/// Rank 0..maxRank, dimensions 1..4 with an occasional 0.
let private shapeOf (rng: Random) (maxRank: int) =
    Array.init (rng.Next(maxRank + 1)) (fun _ -> if rng.Next 12 = 0 then 0 else rng.Next(1, 5))

/// The same view (shape, strides, offset) over a copy of its whole storage on `target`.
let private upload (target: IBackend) (x: RawTensor) : RawTensor =
    let storage =
        match x.Storage with
        | :? CpuStorage<float32> as s -> target.FromArray(s.Data, [| s.Data.Length |]).Storage
        | :? CpuStorage<float> as s -> target.FromArray(s.Data, [| s.Data.Length |]).Storage
        | :? CpuStorage<int> as s -> target.FromArray(s.Data, [| s.Data.Length |]).Storage
        | :? CpuStorage<int64> as s -> target.FromArray(s.Data, [| s.Data.Length |]).Storage
        | :? CpuStorage<bool> as s -> target.FromArray(s.Data, [| s.Data.Length |]).Storage
        | s -> failwithf "not a CPU storage: %O" s
    RawTensor(storage, x.Shape, x.Strides, x.Offset)

let private values (b: IBackend) (x: RawTensor) : float[] =
    match x.DType with
    | DType.Float32 -> b.ToArray<float32>(x) |> Array.map float
    | DType.Float64 -> b.ToArray<float>(x)
    | DType.Int32 -> b.ToArray<int>(x) |> Array.map float
    | DType.Int64 -> b.ToArray<int64>(x) |> Array.map float
    | _ -> b.ToArray<bool>(x) |> Array.map (fun v -> if v then 1.0 else 0.0)

let private tolerance (dtype: DType) = if dtype = DType.Float32 then 2e-5 else 1e-10

/// Runs `op` on the CPU inputs and on copies on `device`; shapes, dtypes, devices and values must agree.
let private agree (device: IBackend) (what: string) (op: IBackend -> RawTensor[] -> RawTensor) (inputs: RawTensor[]) =
    let expected = op cpu inputs
    let actual = op device (inputs |> Array.map (upload device))
    let describe () = inputs |> Array.map (fun x -> sprintf "%O%s strides %s" x.DType (Shape.Format x.Shape) (Shape.Format x.Strides)) |> String.concat ", "
    Expect.equal actual.Device device.Device (what + ": result device")
    Expect.sequenceEqual actual.Shape expected.Shape (sprintf "%s on %s: shape" what (describe ()))
    Expect.equal actual.DType expected.DType (what + ": dtype")
    let a, e = values device actual, values cpu expected
    if not (close (tolerance expected.DType) a e) then
        failtestf "%s on %s:\nactual   %A\nexpected %A" what (describe ()) a e

/// `cases` random trials, each from its own seed.
let private trials (cases: int) (body: Random -> unit) =
    for seed in 1 .. cases do body (Random seed)

let private floatTypes = [ DType.Float32; DType.Float64 ]
let private numericTypes = [ DType.Float32; DType.Float64; DType.Int32; DType.Int64 ]

// ---- every backend method, CPU vs a GPU backend -----------------------------------------------------------------

let private backendTests (dev: unit -> IBackend) =
    [
        testCase "FromArray / ToArray round-trip every dtype (empty included)" <| fun () ->
            trials 6 (fun rng ->
                for dt in dtypes do
                    agree (dev ()) "fromArray" (fun b xs -> b.Cast(b.FromArray(values b xs.[0], xs.[0].Shape), dt)) [| data rng dt false (shapeOf rng 3) |])

        testCase "Full for every dtype" <| fun () ->
            for dt in dtypes do
                for v in [ 0.0; 1.0; -2.5; 7.0 ] do
                    agree (dev ()) "full" (fun b _ -> b.Full([| 2; 3 |], dt, v)) [||]
                agree (dev ()) "full empty" (fun b _ -> b.Full([| 0; 3 |], dt, 1.0)) [||]

        testCase "Contiguous copies of views" <| fun () ->
            trials 10 (fun rng ->
                for dt in dtypes do
                    agree (dev ()) "contiguous" (fun b xs -> b.Contiguous xs.[0]) [| viewOf rng dt false (shapeOf rng 4) |])

        testCase "Unary: every op on Float32/Float64, and on integers where the op accepts them" <| fun () ->
            trials 3 (fun rng ->
                for op in OpRegistry.All |> Seq.filter (fun o -> o.Arity = 1) do
                    for dt in (if op.AcceptsIntegers then numericTypes else floatTypes) do
                        agree (dev ()) (sprintf "%s %O" op.Name dt) (fun b xs -> op.Kernel.Invoke(b, xs)) [| viewOf rng dt false (shapeOf rng 3) |])

        testCase "fused first-order derivatives g·f'(x) of every unary op" <| fun () ->
            trials 2 (fun rng ->
                for op in OpRegistry.All |> Seq.filter (fun o -> o.Arity = 1 && not o.ZeroDerivative) do
                    for dt in floatTypes do
                        let shape = shapeOf rng 3
                        let derivative (b: IBackend) (xs: RawTensor[]) =
                            match op.FusedDerivative(b, xs.[0], xs.[1], op.Kernel.Invoke(b, [| xs.[1] |])) with
                            | null -> failtestf "%s: no fused derivative on %O" op.Name b.Device
                            | r -> r
                        agree (dev ()) (sprintf "%s' %O" op.Name dt) derivative [| viewOf rng dt false shape; viewOf rng dt false shape |])

        testCase "Unary refuses what the CPU backend refuses" <| fun () ->
            let d = dev ()
            Expect.throwsT<DTypeMismatchException> (fun () -> d.Unary<Ops.Exp>(d.Full([| 2 |], DType.Int32, 1.0)) |> ignore) "exp of Int32"
            Expect.throwsT<DTypeMismatchException> (fun () -> d.Unary<Ops.Neg>(d.Full([| 2 |], DType.Bool, 1.0)) |> ignore) "neg of Bool"
            Expect.throwsT<DTypeMismatchException> (fun () -> d.Binary<Ops.Div>(d.Full([| 2 |], DType.Int32, 1.0), d.Full([| 2 |], DType.Int32, 1.0)) |> ignore) "div of Int32"

        testCase "Binary: every op on broadcast and strided operands" <| fun () ->
            trials 4 (fun rng ->
                for op in OpRegistry.All |> Seq.filter (fun o -> o.Arity = 2) do
                    for dt in (if op.AcceptsIntegers then numericTypes else floatTypes) do
                        let shape = shapeOf rng 4
                        agree (dev ()) (sprintf "%s %O" op.Name dt) (fun b xs -> op.Kernel.Invoke(b, xs))
                            [| viewOf rng dt false shape; viewOf rng dt (op.Name = "div") shape |])

        testCase "Softmax (the composite default) along every axis" <| fun () ->
            trials 3 (fun rng ->
                for dt in floatTypes do
                    let x = viewOf rng dt false (shapeOf rng 3)
                    for axis in 0 .. x.Rank - 1 do
                        agree (dev ()) (sprintf "softmax %d %O" axis dt) (fun b xs -> b.Softmax(xs.[0], axis)) [| x |])

        testCase "Compare: every op and dtype" <| fun () ->
            trials 3 (fun rng ->
                for op in Enum.GetValues<CompareOp>() do
                    for dt in dtypes do
                        let shape = shapeOf rng 3
                        let a = viewOf rng dt false shape
                        // a against itself too, so that Eq/Le/Ge see equal elements
                        let b = if rng.Next 3 = 0 then a else viewOf rng dt false shape
                        agree (dev ()) (sprintf "%O %O" op dt) (fun be xs -> be.Compare(op, xs.[0], xs.[1])) [| a; b |])

        testCase "Where with broadcast condition and operands" <| fun () ->
            trials 6 (fun rng ->
                for dt in dtypes do
                    let shape = shapeOf rng 4
                    agree (dev ()) "where" (fun b xs -> b.Where(xs.[0], xs.[1], xs.[2]))
                        [| viewOf rng DType.Bool false shape; viewOf rng dt false shape; viewOf rng dt false shape |])

        testCase "Reduce: Sum/Prod/Max/Min over axis subsets, ArgMax/ArgMin over one axis" <| fun () ->
            trials 6 (fun rng ->
                for dt in dtypes do
                    let shape = shapeOf rng 4 |> Array.map (fun d -> if d = 0 then 1 else d)
                    let x = viewOf rng dt false shape
                    let rank = shape.Length
                    let axes = [| for i in 0 .. rank - 1 do if rng.Next 2 = 0 then i |]
                    let axes = if axes.Length = 0 then Array.init rank id else axes
                    let keep = rng.Next 2 = 0
                    for op in [ ReduceOp.Sum; ReduceOp.Prod; ReduceOp.Max; ReduceOp.Min ] do
                        agree (dev ()) (sprintf "%O %O axes %A" op dt axes) (fun b xs -> b.Reduce(op, xs.[0], axes, keep)) [| x |]
                    if rank > 0 then
                        let axis = [| rng.Next rank |]
                        for op in [ ReduceOp.ArgMax; ReduceOp.ArgMin ] do
                            agree (dev ()) (sprintf "%O %O axis %A" op dt axis) (fun b xs -> b.Reduce(op, xs.[0], axis, keep)) [| x |])

        testCase "Reduce: long rows take the two-pass tree; empty dimensions" <| fun () ->
            let rng = Random 7
            for dt in numericTypes do
                agree (dev ()) "sum of a long row" (fun b xs -> b.Reduce(ReduceOp.Sum, xs.[0], [| 0 |], false)) [| data rng dt false [| 3000 |] |]
                agree (dev ()) "argmax of a long row" (fun b xs -> b.Reduce(ReduceOp.ArgMax, xs.[0], [| 1 |], false)) [| data rng dt false [| 2; 1500 |] |]
                agree (dev ()) "sum over an empty dimension" (fun b xs -> b.Reduce(ReduceOp.Sum, xs.[0], [| 1 |], true)) [| data rng dt false [| 3; 0 |] |]
                agree (dev ()) "prod over an empty dimension" (fun b xs -> b.Reduce(ReduceOp.Prod, xs.[0], [| 1 |], false)) [| data rng dt false [| 3; 0 |] |]
                agree (dev ()) "max of an empty tensor's kept rows" (fun b xs -> b.Reduce(ReduceOp.Max, xs.[0], [| 0 |], false)) [| data rng dt false [| 2; 0 |] |]
            let d = dev ()
            let ex = Expect.throwsC (fun () -> d.Reduce(ReduceOp.Max, d.Full([| 2; 0 |], DType.Float32, 0.0), [| 1 |], false) |> ignore) id
            Expect.stringContains ex.Message "max" "names the op"

        testCase "MatMul: batched, tiled, over transposed and broadcast views" <| fun () ->
            trials 8 (fun rng ->
                for dt in floatTypes do
                    let bsz, m, k, n = rng.Next(1, 3), rng.Next(0, 19), rng.Next(0, 21), rng.Next(1, 18)
                    agree (dev ()) (sprintf "matmul %O [%d,%d,%d]x[%d,%d,%d]" dt bsz m k bsz k n) (fun b xs -> b.MatMul(xs.[0], xs.[1]))
                        [| viewOf rng dt false [| bsz; m; k |]; viewOf rng dt false [| bsz; k; n |] |])

        testCase "Cast between every pair of dtypes" <| fun () ->
            trials 3 (fun rng ->
                for src in dtypes do
                    for dst in dtypes do
                        agree (dev ()) (sprintf "cast %O -> %O" src dst) (fun b xs -> b.Cast(xs.[0], dst)) [| viewOf rng src false (shapeOf rng 3) |])

        testCase "Concat of views along any axis" <| fun () ->
            trials 8 (fun rng ->
                for dt in [ DType.Float32; DType.Int64; DType.Bool ] do
                    let shape = shapeOf rng 3 |> fun s -> if s.Length = 0 then [| 2 |] else s
                    let axis = rng.Next shape.Length
                    let parts = Array.init (rng.Next(1, 4)) (fun _ -> viewOf rng dt false (Array.mapi (fun i d -> if i = axis then rng.Next 3 else d) shape))
                    agree (dev ()) (sprintf "concat axis %d" axis) (fun b xs -> b.Concat(xs, axis)) parts)

        testCase "SliceScatter with steps and offsets" <| fun () ->
            trials 8 (fun rng ->
                for dt in [ DType.Float64; DType.Int32; DType.Bool ] do
                    let shape = shapeOf rng 3 |> fun s -> if s.Length = 0 then [| 3 |] else s
                    let axis = rng.Next shape.Length
                    let n = shape.[axis]
                    let step = rng.Next(1, 3)
                    let start = if n = 0 then 0 else rng.Next n
                    let count = if n = 0 then 0 else (n - start + step - 1) / step
                    let src = viewOf rng dt false (Array.mapi (fun i d -> if i = axis then count else d) shape)
                    agree (dev ()) (sprintf "sliceScatter axis %d start %d step %d" axis start step) (fun b xs -> b.SliceScatter(shape, xs.[0], axis, start, step)) [| src |])

        testCase "IndexSelect and IndexAdd (repeated indices) with Int32 and Int64 indices" <| fun () ->
            trials 8 (fun rng ->
                for dt in [ DType.Float32; DType.Float64; DType.Int64 ] do
                    let shape = shapeOf rng 3 |> fun s -> if s.Length = 0 then [| 3 |] else s
                    let axis = rng.Next shape.Length
                    let n = shape.[axis]
                    let len = if n = 0 then 0 else rng.Next 6
                    let idx = Array.init len (fun _ -> rng.Next n)
                    let index = if rng.Next 2 = 0 then cpu.FromArray(idx, [| len |]) else cpu.FromArray(Array.map int64 idx, [| len |])
                    agree (dev ()) (sprintf "indexSelect axis %d %A" axis idx) (fun b xs -> b.IndexSelect(xs.[0], axis, xs.[1])) [| viewOf rng dt false shape; index |]
                    let src = viewOf rng dt false (Array.mapi (fun i d -> if i = axis then len else d) shape)
                    agree (dev ()) (sprintf "indexAdd axis %d %A" axis idx) (fun b xs -> b.IndexAdd(shape, axis, xs.[0], xs.[1])) [| index; src |])

        testCase "IndexSelect and IndexAdd refuse out-of-range indices, naming the op" <| fun () ->
            let d = dev ()
            let x = d.Full([| 3; 2 |], DType.Float32, 1.0)
            let bad = d.FromArray([| 0; 3 |], [| 2 |])
            let e1 = Expect.throwsC (fun () -> d.IndexSelect(x, 0, bad) |> ignore) id
            Expect.isTrue (e1 :? TensorException) "a TensorException"
            Expect.stringStarts e1.Message "indexSelect" "names indexSelect"
            let neg = d.FromArray([| -1L |], [| 1 |])
            let e2 = Expect.throwsC (fun () -> d.IndexAdd([| 3; 2 |], 0, neg, d.Full([| 1; 2 |], DType.Float32, 1.0)) |> ignore) id
            Expect.stringStarts e2.Message "indexAdd" "names indexAdd"
    ]

// ---- tensors on the device: gradients, movement, errors, memory -------------------------------------------------

let private emu = Device.GpuEmulated

let private tensorTests =
    [
        testCase "grad of sum(sin x * x) on the device equals the CPU's" <| fun () ->
            for dt in floatTypes do
                let x = Tensor.Randn([| 5; 7 |], Generator 11UL, dt)
                let f (x: Tensor) = sum (sin x * x)
                let onCpu = grad f x
                let onEmu = grad f (x.ToDevice emu)
                Expect.equal onEmu.Device emu "the gradient stays on the device"
                expectClose (tolerance dt) (onEmu.ToDevice Device.Cpu) onCpu (sprintf "grad %O" dt)

        testCase "grad of a matmul loss (tanh(X W + b), mean square) equals the CPU's" <| fun () ->
            let g = Generator 5UL
            let X = Tensor.Randn([| 9; 6 |], g, DType.Float64)
            let W = Tensor.Randn([| 6; 4 |], g, DType.Float64)
            let b = Tensor.Randn([| 4 |], g, DType.Float64)
            let loss (X: Tensor) (W: Tensor) (b: Tensor) = mean ((tanh (X.MatMul W + b)) ** 2.0)
            let gc = grad (fun (w: Tensor) -> loss X w b) W
            let ge = grad (fun (w: Tensor) -> loss (X.ToDevice emu) w (b.ToDevice emu)) (W.ToDevice emu)
            expectClose 1e-10 ge gc "dloss/dW"
            let gbc = grad (fun (bb: Tensor) -> loss X W bb) b
            let gbe = grad (fun (bb: Tensor) -> loss (X.ToDevice emu) (W.ToDevice emu) bb) (b.ToDevice emu)
            expectClose 1e-10 gbe gbc "dloss/db (a broadcast's gradient sums over rows)"

        testCase "hessian-vector product on the device (forward over reverse)" <| fun () ->
            let x = Tensor.Randn([| 4 |], Generator 3UL, DType.Float64)
            let f (x: Tensor) = sum (exp x * x)
            expectClose 1e-10 (hessian f (x.ToDevice emu)) (hessian f x) "hessian"

        testCase "moving between devices keeps values, dtype and shape; gradients flow back across" <| fun () ->
            for dt in dtypes do
                let x = Tensor.FromArray(Array.init 6 float, [| 2; 3 |]).To(dt)
                let y = x.ToDevice(emu)
                Expect.equal y.Device emu "on the device"
                Expect.equal y.DType dt "dtype kept"
                Expect.equal (y.ToDevice(Device.Cpu).ToDoubleArray()) (x.ToDoubleArray()) (sprintf "%O round trip" dt)
            let t = Tensor.Randn([| 3; 4 |], Generator 2UL, DType.Float64).Transpose(0, 1)
            expectClose 0.0 (t.ToDevice(emu).ToDevice(Device.Cpu)) t "a transposed view moves as its values"
            let g = grad (fun (x: Tensor) -> sum (x.ToDevice emu * 3.0)) (Tensor.Ones([| 3 |], DType.Float64))
            Expect.equal g.Device Device.Cpu "the gradient comes back to the input's device"
            expectClose 0.0 g (Tensor.Full([| 3 |], 3.0, DType.Float64)) "d/dx sum(3 x) = 3"

        testCase "an op on tensors on two devices throws DeviceMismatchException naming both" <| fun () ->
            let a = Tensor.Ones([| 2 |])
            let b = a.ToDevice emu
            let ex = Expect.throwsC (fun () -> (a + b) |> ignore) id
            Expect.isTrue (ex :? DeviceMismatchException) "DeviceMismatchException"
            Expect.stringContains ex.Message "cpu" "names the CPU"
            Expect.stringContains ex.Message "gpu-emulated" "names the emulated GPU"
            Expect.throwsT<DeviceMismatchException> (fun () -> a.MatMul(b) |> ignore) "matmul across devices"

        testCase "Device.Gpu(n) that does not exist throws DeviceMismatchException saying what was found" <| fun () ->
            let n = Gpu.Devices() |> Seq.filter (fun d -> d.Device.Kind = DeviceKind.Gpu) |> Seq.length
            let ex = Expect.throwsC (fun () -> Tensor.Ones([| 2 |]).ToDevice(Device.Gpu n) |> ignore) id
            Expect.isTrue (ex :? DeviceMismatchException) "DeviceMismatchException"
            Expect.stringContains ex.Message (sprintf "gpu:%d" n) "names the device"
            Expect.stringContains ex.Message "found" "says what ILGPU found"

        testCase "Gpu.Devices lists the emulated device" <| fun () ->
            let ds = Gpu.Devices()
            Expect.isTrue (ds |> Seq.exists (fun d -> d.Device = emu && d.Accelerator = "CPU")) "gpu-emulated is listed"

        testCase "Gpu.Free releases device memory; the tensor then refuses to be read" <| fun () ->
            let x = Tensor.Ones([| 4; 4 |]).ToDevice emu
            let storage = x.Value.Storage :?> GpuStorage<float32>
            Expect.isGreaterThan storage.SizeInBytes 0L "holds memory"
            Gpu.Free x
            Expect.isTrue storage.IsFreed "freed"
            Gpu.Free x // twice is fine
            let ex = Expect.throwsC (fun () -> x.ToArray<float32>() |> ignore) id
            Expect.isTrue (ex :? TensorException) "a TensorException"
            Expect.stringContains ex.Message "freed" "says why"

        testCase "storage dropped without Free is released after collection" <| fun () ->
            let make () =
                let t = Tensor.Ones([| 64 |]).ToDevice emu
                WeakReference(t.Value.Storage)
            let weak = Array.init 20 (fun _ -> make ())
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect()
            Expect.isTrue (weak |> Array.forall (fun w -> not w.IsAlive)) "storages were collected"
            // the next operation frees the queued buffers; it must still compute correctly
            let y = (Tensor.Ones([| 3 |]).ToDevice emu * 2.0).ToDevice Device.Cpu
            Expect.equal (y.ToFloatArray()) [| 2.0f; 2.0f; 2.0f |] "works after releases"
    ]

let private leak =
    // sequenced: ILGPU's CPU accelerator spins its own threads, so this long test should not compete with others
    testSequenced (testCase "10,000 training steps on the device leak no device memory" (fun () ->
        let backend = Gpu.BackendFor emu
        let g = Generator 3UL
        let x = (Tensor.Rand([| 32; 1 |], g)).ToDevice emu
        let y = 3.0 * x + 2.0
        let mutable w = (Tensor.Zeros [| 1; 1 |]).ToDevice emu
        let mutable b = (Tensor.Zeros [| 1 |]).ToDevice emu
        let loss (ps: Tensor[]) = (x.MatMul ps.[0] + ps.[1] - y).Square().Mean()
        let step () =
            let struct (_, gs) = Transform.ValueAndGrad(Func<_, _> loss, [| w; b |])
            w <- w - 0.5 * gs.[0]
            b <- b - 0.5 * gs.[1]
        let settle () =
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect()
            (w + 0.0).ToDevice Device.Cpu |> ignore   // the next operation frees the queued buffers
            backend.LiveBytes
        for _ in 1 .. 1000 do step ()
        let after1k = settle ()
        for _ in 1 .. 9000 do step ()
        let after10k = settle ()
        Expect.isLessThanOrEqual after10k (after1k + 1024L) (sprintf "device memory after 1,000 steps %d bytes, after 10,000 %d" after1k after10k)
        Expect.floatClose { absolute = 1e-3; relative = 0.0 } ((w.ToDevice Device.Cpu).Item()) 3.0 "trained"))

let private ptx =
    testCase "every kernel instantiation compiles to PTX (sm_80) without a GPU" <| fun () ->
        let failures = KernelCheck.CompileAllToPtx()
        if failures.Count > 0 then failtestf "%d kernels do not compile for CUDA:\n%s" failures.Count (String.Join("\n", failures))

/// The primitive property table run on a device: every primitive's value, reverse gradient, forward tangent and
/// (where defined) Hessian-vector product computed on the device equal the CPU's, and stay on the device.
let private primitivesOn (device: Device) =
    let run (sp: PrimitiveTests.Spec) (xs: Tensor[]) (f: Tensor[] -> Tensor) (seed: uint64) (dev: Device) =
        onDevice dev (fun () ->
            let g = Generator(seed + 7UL)
            let xs = xs |> Array.map (fun x -> x.ToDevice dev)
            let y = f xs
            let w = (uniform g y.shape -1.0 1.0).ToDevice dev
            let F (args: Tensor[]) = ((f args) * w).Sum()
            let struct (value, grads) = Transform.ValueAndGrad(Func<_, _> F, xs)
            let vs = xs |> Array.map (fun x -> (uniform g x.shape -1.0 1.0).ToDevice dev)
            let struct (_, tangent) = Transform.Jvp(Func<_, _> f, xs, vs)
            let second =
                if sp.SecondOrder then [ Transform.Hvp(Func<_, _>(fun x -> F (Array.append [| x |] xs.[1..])), xs.[0], vs.[0]) ] else []
            [ y; value; tangent ] @ List.ofArray grads @ second)
    let compare (sp: PrimitiveTests.Spec) ((xs, f), seed) =
        let onCpu = run sp xs f seed Device.Cpu
        let onDev = run sp xs f seed device
        let check i (c: Tensor) (d: Tensor) =
            Expect.equal d.device device (sprintf "%s: result %d stays on %O" sp.Name i device)
            if not (close (max sp.Tol 1e-9) (d.ToDoubleArray()) (c.ToDoubleArray())) then
                failtestf "%s: result %d on %O differs from the CPU\n%A\n%A" sp.Name i device (d.ToDoubleArray()) (c.ToDoubleArray())
        List.iteri2 check onCpu onDev
        true
    let fewer = { config with maxTest = 8 }
    [ for sp in PrimitiveTests.specs ->
        testPropertyWithConfig fewer sp.Name (Prop.forAll (Arb.fromGen (Gen.zip sp.Draw genSeed)) (compare sp)) ]

/// Everything the suite checks on a real device: the primitive property table and every backend method, each against
/// the CPU.
let deviceSuite (device: Device) =
    testList (sprintf "real GPU (%O) matches the CPU" device) [
        testList "every primitive's derivatives" (primitivesOn device)
        testList "every backend method" (backendTests (fun () -> Gpu.BackendFor device :> IBackend)) ]

/// Runs `deviceSuite` with Expecto's command-line arguments: gpu/FunctionalAD.GpuBench --check calls this on the device
/// machine, where there is no .NET SDK to run this project. Returns the exit code (0: every check held).
let runOnDevice (device: Device) (args: string[]) = runTestsWithCLIArgs [] args (deviceSuite device)

let private realGpu =
    if Gpu.IsAvailable then deviceSuite (Device.Gpu 0)
    else
        testList "real GPU (gpu:0) matches the CPU" [
            testCase "every backend method" <| fun () ->
                let reason = "no CUDA or OpenCL GPU on this machine (ILGPU found none); the same checks ran on gpu-emulated"
                // Expecto logs an ignored test's reason only at debug level, so say it here too.
                printfn "skipped real-GPU tests: %s" reason
                skiptest reason
        ]

let tests =
    testList "GPU backend (ILGPU)" [
        testList "every primitive's derivatives on gpu-emulated equal the CPU's" (primitivesOn emu)
        testList "gpu-emulated matches the CPU backend" (backendTests emulated)
        testList "tensors on gpu-emulated" tensorTests
        leak
        ptx
        realGpu
    ]
