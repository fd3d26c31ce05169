/// The blocked GEMM behind matmul against a naive triple loop, on sizes around its tile and block edges.
module FunctionalAD.Tests.GemmTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Backends
open FunctionalAD.Tests.Support

/// Sizes that stress the tiling: 1, odd, just off the register tiles (8×32, 6×16, 4×8), and past the 256-deep K block.
let genDim : Gen<int> =
    Gen.frequency [ 2, Gen.choose (1, 9); 3, Gen.elements [ 5; 6; 7; 13; 15; 16; 17; 31; 33; 47 ]; 2, Gen.choose (40, 120); 1, Gen.elements [ 255; 257; 300 ] ]

/// One [batch, rows, cols] operand stored row-major, transposed (column-major) or broadcast over the batch.
type Layout = RowMajor | Transposed | Broadcast

/// The operand's data (batch·rows·cols values, or rows·cols when broadcast) and its view as a GEMM operand.
let operand<'T> (ofDouble: float -> 'T) (rnd: Random) (layout: Layout) batch rows cols : GemmOperand<'T> * (int -> int -> int -> 'T) =
    let stored = if layout = Broadcast then 1 else batch
    let pad = 3 // a non-zero offset, so views that start inside their storage are covered
    let data : 'T[] = Array.init (pad + stored * rows * cols) (fun _ -> ofDouble (rnd.NextDouble() * 2.0 - 1.0))
    let op =
        match layout with
        | RowMajor -> GemmOperand<'T>(data, pad, rows * cols, cols, 1)
        | Transposed -> GemmOperand<'T>(data, pad, rows * cols, 1, rows)
        | Broadcast -> GemmOperand<'T>(data, pad, 0, cols, 1)
    let at b i j = data.[op.Offset + b * op.BatchStride + i * op.RowStride + j * op.ColStride]
    op, at

/// Runs the GEMM on one case and compares every element with the triple loop, in Float64.
let checkWith (ofDouble: float -> 'T) (toDouble: 'T -> float) (multiply: GemmOperand<'T> -> GemmOperand<'T> -> 'T[] -> unit)
              (tol: float) (kernel: GemmKernelKind) ((m, k, n, batch), (la, lb), seed: uint64) =
    let rnd = Random(int seed)
    let a, atA = operand ofDouble rnd la batch m k
    let b, atB = operand ofDouble rnd lb batch k n
    let c : 'T[] = Array.zeroCreate (batch * m * n)
    multiply a b c
    for bi in 0 .. batch - 1 do
        for i in 0 .. m - 1 do
            for j in 0 .. n - 1 do
                let mutable s = 0.0
                for p in 0 .. k - 1 do s <- s + toDouble (atA bi i p) * toDouble (atB bi p j)
                let got = toDouble c.[(bi * m + i) * n + j]
                if abs (got - s) > tol * (1.0 + sqrt (float k)) then
                    failtestf "C[%d,%d,%d] = %g, expected %g (m=%d k=%d n=%d batch=%d, %A x %A, %A kernel)" bi i j got s m k n batch la lb kernel

let checkF64 tol kernel (((m, k, n, batch), _, _) as case) =
    checkWith id id (fun a b c -> Gemm.Multiply<float>(batch, m, n, k, a, b, c, Nullable kernel)) tol kernel case

let checkF32 tol kernel (((m, k, n, batch), _, _) as case) =
    checkWith float32 float (fun a b c -> Gemm.Multiply<float32>(batch, m, n, k, a, b, c, Nullable kernel)) tol kernel case

/// The micro-kernels this machine can run: the best one and every narrower one.
let kernels =
    [ GemmKernelKind.Vector512; GemmKernelKind.Vector256; GemmKernelKind.Vector128 ] |> List.filter (fun k -> k >= Gemm.Best)

let genCase =
    gen {
        let! m = genDim
        let! k = genDim
        let! n = genDim
        let! batch = Gen.frequency [ 3, Gen.constant 1; 1, Gen.choose (2, 3) ]
        let layout = Gen.elements [ RowMajor; Transposed; Broadcast ]
        let! la = layout
        let! lb = layout
        let! seed = genSeed
        return (m, k, n, batch), (la, lb), seed
    }

let tests =
    testList "gemm" [
        for kernel in kernels do
            testProp $"Float64 {kernel} GEMM = triple loop (strided, batched, edge sizes)" (checkF64 1e-12 kernel) genCase
            testProp $"Float32 {kernel} GEMM = triple loop (strided, batched, edge sizes)" (checkF32 2e-5 kernel) genCase
            // a result whose contents are undefined (NaN here): every element must be stored, none added to
            testProp $"Float64 {kernel} GEMM overwriting an undefined result = triple loop" (fun (((m, k, n, batch), _, _) as case) ->
                checkWith id id (fun a b c -> Array.Fill(c, nan); Gemm.Multiply<float>(batch, m, n, k, a, b, c, Nullable kernel, overwrite = true)) 1e-12 kernel case) genCase
            testProp $"Float32 {kernel} GEMM overwriting an undefined result = triple loop" (fun (((m, k, n, batch), _, _) as case) ->
                checkWith float32 float (fun a b c -> Array.Fill(c, nanf); Gemm.Multiply<float32>(batch, m, n, k, a, b, c, Nullable kernel, overwrite = true)) 2e-5 kernel case) genCase
        testCase "threads split a wide product by columns and a tall one by rows" <| fun () ->
            for (m, k, n) in [ 2, 500, 300; 300, 500, 2; 130, 70, 90 ] do
                for kernel in kernels do
                    checkF64 1e-12 kernel ((m, k, n, 1), (RowMajor, Transposed), 11UL)
                    checkF32 2e-5 kernel ((m, k, n, 2), (Transposed, RowMajor), 12UL)
        testCase "the packing transpose (8x8 / 4x4 register blocks and their remainders) moves every element" <| fun () ->
            let check (ofInt: int -> 'T) =
                for lines in [ 1; 3; 4; 7; 8; 9; 17 ] do
                    for len in [ 1; 4; 5; 8; 13; 24 ] do
                        let srcStride, dstStride = len + 3, lines + 2
                        let src : 'T[] = Array.init (lines * srcStride) ofInt
                        let dst : 'T[] = Array.zeroCreate (len * dstStride)
                        GemmPacking.Transpose(&src.[0], srcStride, lines, len, &dst.[0], dstStride)
                        for l in 0 .. lines - 1 do
                            for p in 0 .. len - 1 do
                                if dst.[p * dstStride + l] <> src.[l * srcStride + p] then
                                    failtestf "%s lines=%d len=%d: dst[%d,%d] wrong" (typeof<'T>.Name) lines len p l
                        for p in 0 .. len - 1 do
                            for l in lines .. dstStride - 1 do
                                if dst.[p * dstStride + l] <> Unchecked.defaultof<'T> then
                                    failtestf "%s lines=%d len=%d: wrote outside the panel at [%d,%d]" (typeof<'T>.Name) lines len p l
            check float32
            check float
        testCase "matmul of transposed views goes through the GEMM unchanged" <| fun () ->
            let g = Generator(5UL)
            let a = Tensor.Randn([| 2; 70; 45 |], g, DType.Float64)
            let b = Tensor.Randn([| 2; 33; 70 |], g, DType.Float64)
            let viaViews = a.Transpose(1, 2).MatMul(b.Transpose(1, 2))
            let viaCopies = Tensor.FromArray(a.Transpose(1, 2).ToArray<float>(), [| 2; 45; 70 |]).MatMul(Tensor.FromArray(b.Transpose(1, 2).ToArray<float>(), [| 2; 70; 33 |]))
            expectClose 1e-12 viaViews viaCopies "transposed views"
    ]
