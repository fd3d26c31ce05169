/// Scaled dot-product attention's fast path (the attention primitive and the CPU's per-head kernel) against the
/// composite formula it replaces, which masked calls still take: values and first-order gradients on odd shapes,
/// Lq ≠ Lk, Ev ≠ E, causal, broadcast leading dimensions, both dtypes, one and two threads.
module FunctionalAD.Tests.AttentionTests

open System
open Expecto
open FunctionalAD
open FunctionalAD.Backends
open FunctionalAD.Tests.Support

/// (leading dimensions of q, of k and v, Lq, Lk, E, Ev): odd sizes, several packed-GEMM tiles and edges, and a
/// batch of 24 heads large enough to be split over two threads.
let private shapes =
    [ [| 2 |], [| 2 |], 5, 7, 3, 2
      [| 3; 8 |], [| 3; 8 |], 33, 17, 19, 9
      [| 2; 3 |], [| 1; 3 |], 20, 41, 8, 16
      [||], [||], 70, 70, 64, 64
      // several of the causal path's 48-row blocks, with keys no query attends to, and with more queries than keys
      [| 2 |], [| 2 |], 100, 130, 8, 5
      [||], [||], 130, 60, 6, 7
      [| 4 |], [| 4 |], 1, 1, 1, 1 ]

/// The same attention through the composite: an all-true Bool mask changes nothing in the value but selects it.
let private composite (q: Tensor) (k: Tensor) (v: Tensor) causal scale =
    let mask = Tensor.Ones([| q.Shape.[q.Rank - 2]; k.Shape.[k.Rank - 2] |], DType.Bool)
    Tensor.ScaledDotProductAttention(q, k, v, mask, causal, scale)

/// Σ (attention ∘ w) and its gradients in q, k and v.
let private valueAndGrads (attend: Tensor -> Tensor -> Tensor -> Tensor) (w: Tensor) (xs: Tensor[]) =
    let struct (y, grads) = Transform.ValueAndGrad(Func<_, _>(fun (ts: Tensor[]) -> ((attend ts.[0] ts.[1] ts.[2]) * w).Sum()), xs)
    y, grads

let private fastEqualsComposite threads dtype =
    testCase (sprintf "%O, %d thread(s)" dtype threads) <| fun () ->
        use _ = Parallelism.Limit threads
        let g = Generator 21UL
        let tol = if dtype = DType.Float32 then 2e-5 else 1e-12
        for lq_lead, kv_lead, lq, lk, e, ev in shapes do
            // the default 1/√E, another scale with causal, and a negative one (the row's shift is then its minimum)
            for causal, scale in [ false, Nullable(); true, Nullable 0.3; false, Nullable -0.7 ] do
                let draw lead rows cols = (uniform g (Array.append lead [| rows; cols |]) -2.0 2.0).To dtype
                let q, k, v = draw lq_lead lq e, draw kv_lead lk e, draw kv_lead lk ev
                let what = sprintf "q %A k %A v %A causal %b" q.Shape k.Shape v.Shape causal
                let fast = Tensor.ScaledDotProductAttention(q, k, v, null, causal, scale)
                expectClose tol fast (composite q k v causal scale) (what + ": value")
                let w = (uniform g fast.Shape -1.0 1.0).To dtype
                let yf, gf = valueAndGrads (fun q k v -> Tensor.ScaledDotProductAttention(q, k, v, null, causal, scale)) w [| q; k; v |]
                let yc, gc = valueAndGrads (fun q k v -> composite q k v causal scale) w [| q; k; v |]
                expectClose tol yf yc (what + ": loss")
                for i, name in [ 0, "q"; 1, "k"; 2, "v" ] do
                    expectClose tol gf.[i] gc.[i] (sprintf "%s: gradient of %s" what name)
                // the cotangent sum passes on is a broadcast scalar view
                let struct (_, gs) = Transform.ValueAndGrad(Func<_, _>(fun (ts: Tensor[]) -> Tensor.ScaledDotProductAttention(ts.[0], ts.[1], ts.[2], null, causal, scale).Sum()), [| q; k; v |])
                let struct (_, gcs) = Transform.ValueAndGrad(Func<_, _>(fun (ts: Tensor[]) -> (composite ts.[0] ts.[1] ts.[2] causal scale).Sum()), [| q; k; v |])
                for i in 0 .. 2 do expectClose tol gs.[i] gcs.[i] (sprintf "%s: gradient %d of the sum" what i)

let tests =
    testList "attention kernel" [
        testList "the fast path equals the composite formula" [
            for threads in [ 1; 2 ] do
                for dtype in [ DType.Float64; DType.Float32 ] -> fastEqualsComposite threads dtype ]
        testCase "the CPU kernel equals IBackend's composite default (what other backends inherit)" <| fun () ->
            let g = Generator 22UL
            for causal in [ false; true ] do
                let q, k, v = uniform g [| 6; 9; 5 |] -1.0 1.0, uniform g [| 6; 13; 5 |] -1.0 1.0, uniform g [| 6; 13; 4 |] -1.0 1.0
                let cpu = CpuBackend.Instance
                let raw (t: Tensor) = t.Value
                let a = Tensor(cpu.Attention(raw q, raw k, raw v, 0.4, causal))
                let b = Tensor(AttentionKernels.Attention(cpu, raw q, raw k, raw v, 0.4, causal))
                expectClose 1e-13 a b (sprintf "causal %b" causal)
        testCase "a gradient in one input only (the fused backward computes all three)" <| fun () ->
            let g = Generator 24UL
            let q, k, v = uniform g [| 3; 6; 4 |] -1.0 1.0, uniform g [| 3; 5; 4 |] -1.0 1.0, uniform g [| 3; 5; 2 |] -1.0 1.0
            let w = uniform g [| 3; 6; 2 |] -1.0 1.0
            for i in 0 .. 2 do
                let at (x: Tensor) = Array.init 3 (fun j -> if j = i then x else [| q; k; v |].[j])
                let fast (x: Tensor) = let xs = at x in (Tensor.ScaledDotProductAttention(xs.[0], xs.[1], xs.[2]) * w).Sum()
                let slow (x: Tensor) = let xs = at x in (composite xs.[0] xs.[1] xs.[2] false (Nullable()) * w).Sum()
                let x = [| q; k; v |].[i]
                expectClose 1e-12 (Transform.Grad(Func<_, _> fast, x)) (Transform.Grad(Func<_, _> slow, x)) (sprintf "input %d" i)
        testCase "large logits stay finite in value and gradient (Float32)" <| fun () ->
            let g = Generator 23UL
            let q = (uniform g [| 2; 6; 8 |] -1.0 1.0 * 1e4).To DType.Float32
            let k, v = (uniform g [| 2; 9; 8 |] -1.0 1.0).To DType.Float32, (uniform g [| 2; 9; 3 |] -1.0 1.0).To DType.Float32
            let struct (y, grads) = Transform.ValueAndGrad(Func<_, _>(fun (ts: Tensor[]) -> Tensor.ScaledDotProductAttention(ts.[0], ts.[1], ts.[2], causal = true).Sum()), [| q; k; v |])
            Expect.isTrue (Double.IsFinite(y.Item())) "finite value"
            for gr in grads do Expect.isTrue (gr.ToDoubleArray() |> Array.forall Double.IsFinite) "finite gradient"
        testCase "no key: zeros, and a zero gradient" <| fun () ->
            let q, k, v = Tensor.Ones [| 2; 3; 4 |], Tensor.Zeros [| 2; 0; 4 |], Tensor.Zeros [| 2; 0; 5 |]
            Expect.sequenceEqual (Tensor.ScaledDotProductAttention(q, k, v).Shape) [| 2; 3; 5 |] "shape"
            Expect.isTrue (Tensor.ScaledDotProductAttention(q, k, v).ToDoubleArray() |> Array.forall ((=) 0.0)) "zeros"
    ]
