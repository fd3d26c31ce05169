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

let tests = testList "numerics" [ determinism; promotion ]
