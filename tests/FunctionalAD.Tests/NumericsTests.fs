/// Numerics and determinism (issue 12): reductions that give the same bits on every call, PyTorch's type promotion
/// for scalars, overflow-checked shapes, and the edges (inf, 0-D, empty) that once gave wrong numbers or crashes.
module FunctionalAD.Tests.NumericsTests

open System
open System.Runtime.Intrinsics
open Expecto
open FunctionalAD
open FunctionalAD.Backends
open FunctionalAD.Tests.Support

/// The values of `data` placed `offset` elements into a fresh array: the same numbers at another alignment.
let private at (offset: int) (data: 'T[]) = ReadOnlyMemory(Array.append (Array.zeroCreate offset) data, offset, data.Length)

let private paths =
    [ yield SumKernel.Path.Unaligned
      if Vector512.IsHardwareAccelerated && X86.Avx512F.IsSupported then yield SumKernel.Path.Aligned512
      if Vector256.IsHardwareAccelerated && X86.Avx2.IsSupported then yield SumKernel.Path.Aligned256 ]

let private sumBits (path: SumKernel.Path) (m: ReadOnlyMemory<float32>) = BitConverter.SingleToInt32Bits(SumKernel.Sum(m.Span, path))

let determinism =
    testList "reductions are deterministic" [
        testCase "a float sum has the same bits at every alignment, on each vector path" <| fun () ->
            let rng = Random 3
            for n in [ 5000; 4096 + 77; 65_537 ] do
                let data = Array.init n (fun _ -> float32 (rng.NextDouble() * 2.0 - 1.0) * 1000.0f)
                for path in paths do
                    let bits = [ for o in 0 .. 17 -> sumBits path (at o data) ] |> List.distinct
                    Expect.hasLength bits 1 (sprintf "n=%d, path %O: one result for 18 alignments" n path)
                // the aligned paths rebuild exactly the vectors unaligned loads would read
                let w512 = [ SumKernel.Path.Unaligned; SumKernel.Path.Aligned512 ] |> List.filter (fun p -> List.contains p paths)
                if Vector512.IsHardwareAccelerated then
                    Expect.hasLength (w512 |> List.map (fun p -> sumBits p (at 3 data)) |> List.distinct) 1 "AVX-512 aligned = unaligned"
        testCase "doubles too" <| fun () ->
            let rng = Random 4
            let data = Array.init 9001 (fun _ -> rng.NextDouble() * 1e6 - 5e5)
            for path in paths do
                let r = [ for o in 0 .. 9 -> BitConverter.DoubleToInt64Bits(SumKernel.Sum((at o data).Span, path)) ] |> List.distinct
                Expect.hasLength r 1 (sprintf "path %O" path)
        testCase "sum, mean, var, logsumexp, softmax and a gradient: 100 calls, one answer" <| fun () ->
            let x = Tensor.Randn([| 1_000_000 |], Generator 7UL)
            let distinct f = [ for _ in 1 .. 100 -> (f () : float[]) ] |> List.distinctBy (Array.map BitConverter.DoubleToInt64Bits) |> List.length
            Expect.equal (distinct (fun () -> [| (sum (x * 1.0)).item() |])) 1 "sum"
            Expect.equal (distinct (fun () -> [| (x * 1.0).Mean().item(); (x * 1.0).Var().item() |])) 1 "mean, var"
            Expect.equal (distinct (fun () -> [| (x * 1.0).LogSumExp().item(); (x * 1.0).Softmax(0).Sum().item() |])) 1 "logsumexp, softmax"
            let small = x.Slice(0, 0, Nullable 1000, 1)
            Expect.equal (distinct (fun () -> (grad (fun (t: Tensor) -> t.LogSumExp()) (small * 1.0)).ToDoubleArray())) 1 "grad of logsumexp"
    ]

let promotion =
    testList "type promotion (PyTorch's rules for scalars)" [
        testCase "an integer tensor with a float scalar gives Float32, never a wrapped integer" <| fun () ->
            let t = tensor [ 1; 2 ]
            let y = t * 1e10
            Expect.equal y.dtype DType.Float32 "dtype"
            Expect.sequenceEqual (y.ToDoubleArray()) [| 1e10; 2e10 |] "values"
            let inf = t + Double.PositiveInfinity
            Expect.equal inf.dtype DType.Float32 "inf: dtype"
            Expect.isTrue (inf.ToDoubleArray() |> Array.forall Double.IsPositiveInfinity) "inf: values"
            Expect.equal (t * 2.0).dtype DType.Float32 "an integral double is still a float"
        testCase "an integer scalar keeps an integer tensor's dtype, Bool gives Int64, floats keep theirs" <| fun () ->
            Expect.equal (tensor [ 1; 2 ] * 3).dtype DType.Int32 "Int32 * int"
            Expect.sequenceEqual ((tensor [ 1; 2 ] * 3).ToArray<int>()) [| 3; 6 |] "values"
            Expect.equal (tensor [ 1L; 2L ] + 3L).dtype DType.Int64 "Int64 + long"
            Expect.equal (tensor [ true; false ] + 1).dtype DType.Int64 "Bool + int"
            Expect.equal (tensor [ 1.0f ] * 3).dtype DType.Float32 "Float32 * int"
            Expect.equal (tensor [ 1; 2 ] / 2).dtype DType.Float32 "division is true division"
            let e = Expect.throwsC (fun () -> tensor [ 1; 2 ] * 10_000_000_000L |> ignore) id
            Expect.stringContains e.Message "does not fit" "an out-of-range integer scalar is refused by name"
        testCase "integer sums and products widen to Int64 instead of wrapping" <| fun () ->
            let big = Tensor.Full([| 3 |], float Int32.MaxValue, DType.Int32)
            let s = big.Sum()
            Expect.equal s.dtype DType.Int64 "sum dtype"
            Expect.equal (s.ToArray<int64>().[0]) (3L * int64 Int32.MaxValue) "no wrap"
            Expect.equal (big.Prod().dtype) DType.Int64 "prod dtype"
            Expect.equal ((tensor [ true; true; false ]).Sum().ToArray<int64>().[0]) 2L "Bool counts"
    ]

let private throwsNamed<'E when 'E :> exn> (f: unit -> unit) (fragment: string) (what: string) =
    let e = Expect.throwsC f id
    if not (e :? 'E) then failtestf "%s: expected %s, got %s: %s" what typeof<'E>.Name (e.GetType().Name) e.Message
    Expect.stringContains e.Message fragment what

let edges =
    testList "edges that once gave wrong numbers or crashes" [
        testCase "shape products are checked exactly, with the element count in the message" <| fun () ->
            throwsNamed<ShapeMismatchException> (fun () -> Tensor.Zeros([| 65536; 65536; 65536; 65536 |]) |> ignore) "18446744073709551616 elements" "2^64 elements is not an empty tensor"
            throwsNamed<ShapeMismatchException> (fun () -> Tensor.Ones([| 641; 6700417; 65535; 65537 |]) |> ignore) "elements" "a product wrapping to 1 is refused"
            throwsNamed<ShapeMismatchException> (fun () -> Tensor.Zeros([| 0; 65536; 65536 |]) |> ignore) "elements" "an empty tensor whose strides would overflow"
            Expect.equal (Tensor.Zeros([| 0; 3 |]).Numel) 0 "an empty tensor is fine"
        testCase "logsumexp with infinities and over an empty dimension" <| fun () ->
            let lse (xs: float list) = (tensor xs).LogSumExp().item()
            Expect.equal (lse [ infinity; 1.0 ]) infinity "[inf; 1]"
            Expect.equal (lse [ infinity; infinity ]) infinity "[inf; inf]"
            Expect.equal (lse [ -infinity; -infinity ]) -infinity "[-inf; -inf]"
            Expect.isTrue (Double.IsNaN (lse [ nan; 1.0 ])) "NaN stays NaN"
            let e = Tensor.Zeros([| 2; 0 |], DType.Float64)
            Expect.sequenceEqual (e.LogSumExp(1).ToDoubleArray()) [| -infinity; -infinity |] "empty dimension: -inf"
            Expect.sequenceEqual (e.Softmax(1).Shape) [| 2; 0 |] "softmax over an empty dimension: empty"
        testCase "d/dy 0^y is 0 (PyTorch's convention), not NaN" <| fun () ->
            let g = grad (fun (y: Tensor) -> (tensor [ 0.0; 0.0; 2.0 ] ** y).sum()) (tensor [ 2.0; 0.0; 3.0 ])
            Expect.sequenceEqual (g.ToDoubleArray()) [| 0.0; 0.0; 8.0 * log 2.0 |] "0^2, 0^0, 2^3"
        testCase "Optim.step pairs Params by name" <| fun () ->
            let p = Params.ofList [ "a", tensor [ 1.0 ]; "b", tensor [ 2.0 ] ]
            let other = Params.ofList [ "a", tensor [ 1.0 ]; "c", tensor [ 2.0 ] ]
            let opt = Optim.sgd 0.1
            throwsNamed<ArgumentException> (fun () -> Optim.step opt (Optim.init opt p) p other |> ignore) "\"c\"" "names the unknown gradient"
        testCase "an out-of-range index names its dimension" <| fun () ->
            let t = Tensor.Zeros([| 2; 3 |])
            throwsNamed<TensorException> (fun () -> t.[0, 7] |> ignore) "dimension 1 of size 3" "t.[0, 7] on [2;3]"
        testCase "matmul with an inner dimension of 0 is zeros, and so is its gradient" <| fun () ->
            let a, b = Tensor.Zeros([| 3; 0 |], DType.Float64), Tensor.Zeros([| 0; 4 |], DType.Float64)
            let c = a.MatMul b
            Expect.sequenceEqual c.Shape [| 3; 4 |] "shape"
            Expect.isTrue (c.ToDoubleArray() |> Array.forall ((=) 0.0)) "zeros"
            Expect.sequenceEqual (a.MatMul(Tensor.Zeros([| 0 |], DType.Float64)).Shape) [| 3 |] "[3;0] @ [0]"
            Expect.sequenceEqual ((grad (fun (x: Tensor) -> x.MatMul(b).sum()) a).Shape) [| 3; 0 |] "gradient"
        testCase "0-D tensors: clear errors for ops that need a dimension, PyTorch's answers for the rest" <| fun () ->
            let s = scalar 2.5
            throwsNamed<TensorException> (fun () -> s.Slice(0, Nullable 0, Nullable 1, 1) |> ignore) "0-D" "slice"
            throwsNamed<TensorException> (fun () -> s.Select(0, 0) |> ignore) "0-D" "select"
            throwsNamed<TensorException> (fun () -> Tensor.Concat([| s; s |], 0) |> ignore) "0-D" "concat"
            Expect.equal (s.Sum(-1).item()) 2.5 "sum over dim -1 of a 0-D tensor"
            Expect.equal (s.Softmax().item()) 1.0 "softmax of a 0-D tensor"
            Expect.equal (s.LogSoftmax().item()) 0.0 "logSoftmax of a 0-D tensor"
        testCase "hessian at an empty input is [0; 0]" <| fun () ->
            Expect.sequenceEqual ((hessian (fun (x: Tensor) -> x.sum()) (Tensor.Zeros([| 0 |], DType.Float64))).Shape) [| 0; 0 |] "shape"
        testCase "Bool matmul is refused like Bool arithmetic" <| fun () ->
            let b = tensor [ [ true; false ]; [ false; true ] ]
            throwsNamed<DTypeMismatchException> (fun () -> b.MatMul b |> ignore) "Bool" "bool @ bool"
            throwsNamed<DTypeMismatchException> (fun () -> b + b |> ignore) "Bool" "bool + bool"
    ]

let concurrency =
    testList "concurrency" [
        testCase "Backward on two threads into one shared Parameter loses no update" <| fun () ->
            let p = FunctionalAD.Imperative.Parameter("w", tensor [ 1.0; 2.0 ])
            let x = tensor [ 2.0; 4.0 ]
            let work () = System.Threading.Tasks.Task.Run(fun () -> for _ in 1 .. 2000 do (p.Tracked() * x).Sum().Backward() |> ignore)
            System.Threading.Tasks.Task.WaitAll [| work (); work () |]
            Expect.sequenceEqual (p.Grad.ToDoubleArray()) [| 8000.0; 16000.0 |] "4000 backward passes of [2; 4]"
    ]

let tests = testList "numerics" [ determinism; promotion; edges; concurrency ]
