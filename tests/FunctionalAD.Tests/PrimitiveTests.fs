/// Every differentiable primitive, on random shapes (broadcasting included) and values in its domain:
/// reverse-mode gradient = central finite differences, forward-mode jvp = finite differences, the jvp and the vjp
/// are transposes of each other (<vjp(u), v> = <u, jvp(v)>), and the Hessian-vector product (forward over
/// reverse) matches finite differences of the gradient. The spec table must name every primitive of the engine.
module FunctionalAD.Tests.PrimitiveTests

open System
open System.Reflection
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Autodiff
open FunctionalAD.Testing
open FunctionalAD.Tests.Support

/// A primitive under test: how to draw its inputs and the function that applies it, and how its inputs shrink
/// (elementwise ops draw from FunctionalAD.Testing's shrinking generators; the others do not shrink).
type Spec =
    { Name: string
      Draw: Gen<Tensor[] * (Tensor[] -> Tensor)>
      Shrink: Tensor[] -> Tensor[] seq
      Eps: float
      Tol: float
      /// The second-order check is skipped for primitives whose derivative is piecewise constant.
      SecondOrder: bool }

let private spec name draw = { Name = name; Draw = draw; Shrink = (fun _ -> Seq.empty); Eps = 1e-6; Tol = 1e-5; SecondOrder = true }

/// The values an op's struct declares for its tests (Ops/*.cs): its interval, with a gap around 0 for kinks and poles.
let valuesOf (d: Ops.OpDomain) =
    let v = Values.between d.Low d.High
    if d.AwayFromZero > 0.0 then Values.awayFrom [ 0.0 ] d.AwayFromZero v else v

let private draw (g: Generator) (s: int[]) (d: Ops.OpDomain) =
    if d.AwayFromZero > 0.0 then awayFromZero g s d.Low d.High d.AwayFromZero else uniform g s d.Low d.High

/// The spec of an elementwise op, drawn from the domain its struct declares: inputs of random shapes (broadcast
/// pairs for binary ops) that shrink to fewer elements and simpler values, second order where the op is smooth.
let private elementwise (op: OpEntry) =
    let values = op.Domains |> Array.map valuesOf
    let inputs =
        if op.Arity = 1 then
            let arb = Tensors.arb DType.Float64 values.[0] Shapes.small
            Arb.fromGenShrink (Arb.toGen arb |> Gen.map (fun x -> [| x |]), fun xs -> Arb.toShrink arb xs.[0] |> Seq.map (fun x -> [| x |]))
        else Tensors.arbBroadcast DType.Float64 values Shapes.small
    { spec op.Name (Arb.toGen inputs |> Gen.map (fun xs -> xs, op.Apply.Invoke)) with
        Shrink = Arb.toShrink inputs
        SecondOrder = not op.ZeroDerivative && op.Domains |> Array.forall (fun d -> d.Smooth) }

let private genRanked = genShape |> Gen.filter (fun s -> s.Length > 0)

let private reduction name (op: Tensor -> int[] -> bool -> Tensor) =
    spec name (gen {
        let! s = genRanked
        let! dims = Gen.subListOf [ 0 .. s.Length - 1 ]
        let! keep = Gen.elements [ true; false ]
        let! seed = genSeed
        let x = uniform (Generator seed) s 0.5 1.5
        return [| x |], (fun (xs: Tensor[]) -> op xs.[0] (List.toArray dims) keep) })

let specs : Spec list =
    [ for op in OpRegistry.All -> elementwise op ] @
    [ for name, draw, second in LinalgTests.primitiveCases -> { spec name draw with SecondOrder = second } ] @
    [ spec "where" (Gen.zip genBroadcastPair genSeed |> Gen.map (fun ((sa, sb), seed) ->
          let g = Generator seed
          let cond = (uniform g sa 0.0 1.0).Gt 0.5
          [| uniform g sa -2.0 2.0; uniform g sb -2.0 2.0 |], (fun xs -> where (here cond) (xs.[0] * xs.[0]) (sin xs.[1]))))
      { spec "compare" (Gen.zip genBroadcastPair genSeed |> Gen.map (fun ((sa, sb), seed) ->
            let g = Generator seed
            [| uniform g sa -2.0 2.0; uniform g sb -2.0 2.0 |], (fun xs -> xs.[0].Gt(xs.[1]).To(DType.Float64) * xs.[0])))
          with SecondOrder = false }
      spec "softmax" (gen {
          let! s = genRanked
          let! dim = Gen.choose (-s.Length, s.Length - 1)
          let! seed = genSeed
          return [| uniform (Generator seed) s -3.0 3.0 |], (fun (xs: Tensor[]) -> xs.[0].Softmax(dim)) })
      { spec "argmax" (Gen.zip genRanked genSeed |> Gen.map (fun (s, seed) ->
            [| uniform (Generator seed) s -2.0 2.0 |], (fun xs -> xs.[0].ArgMax(Nullable(-1), true).To(DType.Float64) * xs.[0])))
          with SecondOrder = false }
      { spec "argmin" (Gen.zip genRanked genSeed |> Gen.map (fun (s, seed) ->
            [| uniform (Generator seed) s -2.0 2.0 |], (fun xs -> xs.[0].ArgMin().To(DType.Float64) * xs.[0])))
          with SecondOrder = false }
      reduction "sum" (fun x d k -> x.Sum(d, k) * x.Sum(d, k))
      reduction "prod" (fun x d k -> x.Prod(d, k))
      { reduction "max" (fun x d k -> x.Max(d, k)) with SecondOrder = false }
      { reduction "min" (fun x d k -> x.Min(d, k)) with SecondOrder = false }
      spec "reshape" (Gen.zip genShape genSeed |> Gen.map (fun (s, seed) ->
          [| uniform (Generator seed) s -2.0 2.0 |], (fun xs -> (xs.[0].reshape(-1, 1) |> sin))))
      spec "permute" (Gen.zip genRanked genSeed |> Gen.bind (fun (s, seed) ->
          Gen.shuffle [| 0 .. s.Length - 1 |] |> Gen.map (fun p ->
              [| uniform (Generator seed) s -2.0 2.0 |], (fun xs -> xs.[0].permute(p) * xs.[0].permute(p)))))
      spec "expand" (Gen.zip genBroadcastPair genSeed |> Gen.map (fun ((sa, sb), seed) ->
          let target = (Tensor.Zeros(sa, DType.Float64) + Tensor.Zeros(sb, DType.Float64)).shape
          [| uniform (Generator seed) sa -2.0 2.0 |], (fun xs -> sin (xs.[0].BroadcastTo target))))
      spec "slice" (gen {
          let! s = genRanked
          let! dim = Gen.choose (0, s.Length - 1)
          let! start = Gen.choose (0, s.[dim] - 1)
          let! step = Gen.choose (1, 3)
          let! seed = genSeed
          return [| uniform (Generator seed) s -2.0 2.0 |], (fun (xs: Tensor[]) -> sin (xs.[0].Slice(dim, start, Nullable(), step))) })
      spec "sliceScatter" (gen {
          let! s = genRanked
          let! dim = Gen.choose (0, s.Length - 1)
          let! step = Gen.choose (1, 2)
          let! seed = genSeed
          let outShape = Array.mapi (fun i d -> if i = dim then d * step + 1 else d) s
          return [| uniform (Generator seed) s -2.0 2.0 |],
                 (fun (xs: Tensor[]) -> sin (Dispatch.Apply(Primitives.SliceScatter, [| xs.[0] |], SliceScatterAttr(outShape, dim, 1, step)))) })
      spec "concat" (gen {
          let! s = genRanked
          let! dim = Gen.choose (0, s.Length - 1)
          let! extra = Gen.choose (1, 3)
          let! seed = genSeed
          let g = Generator seed
          let s2 = Array.mapi (fun i d -> if i = dim then extra else d) s
          return [| uniform g s -2.0 2.0; uniform g s2 -2.0 2.0 |], (fun (xs: Tensor[]) -> sin (Tensor.Concat(xs, dim))) })
      spec "indexSelect" (gen {
          let! s = genRanked
          let! dim = Gen.choose (0, s.Length - 1)
          let! idx = Gen.listOfLength 4 (Gen.choose (0, s.[dim] - 1))
          let! seed = genSeed
          let index = tensor (idx |> List.map int64)
          return [| uniform (Generator seed) s -2.0 2.0 |], (fun (xs: Tensor[]) -> sin (xs.[0].IndexSelect(dim, here index))) })
      spec "indexAdd" (gen {
          let! s = genRanked
          let! dim = Gen.choose (0, s.Length - 1)
          let! idx = Gen.listOfLength s.[dim] (Gen.choose (0, 2))
          let! seed = genSeed
          let index = tensor (idx |> List.map int64)
          let outShape = Array.mapi (fun i d -> if i = dim then 3 else d) s
          return [| uniform (Generator seed) s -2.0 2.0 |],
                 (fun (xs: Tensor[]) -> sin (Dispatch.Apply(Primitives.IndexAdd, [| xs.[0] |], IndexAttr(dim, (here index).Value, outShape)))) })
      { spec "cast" (Gen.zip genShape genSeed |> Gen.map (fun (s, seed) ->
            [| uniform (Generator seed) s -2.0 2.0 |], (fun xs -> (sin xs.[0]).toDtype(DType.Float32).toDtype(DType.Float64) * xs.[0])))
          with Eps = 1e-2; Tol = 1e-3; SecondOrder = false }
      spec "toDevice" (Gen.zip genShape genSeed |> Gen.map (fun (s, seed) ->
          [| uniform (Generator seed) s -2.0 2.0 |], (fun xs -> here (sin (Dispatch.Apply(Primitives.ToDevice, [| xs.[0] |], Device.Cpu))))))
      spec "matmul" (gen {
          let! m, k, n = Gen.zip3 (Gen.choose (1, 4)) (Gen.choose (1, 4)) (Gen.choose (1, 4))
          let! batch = Gen.elements [ [||]; [| 2 |]; [| 1; 2 |] ]
          let! seed = genSeed
          let g = Generator seed
          return [| uniform g (Array.append batch [| m; k |]) -1.0 1.0; uniform g [| k; n |] -1.0 1.0 |],
                 (fun (xs: Tensor[]) -> xs.[0].matmul xs.[1]) })
      // convolution: random geometries (ConvGen) with strides, padding ("same" included), dilation and groups
      spec "unfold" (Gen.zip ConvGen.genGeometry genSeed |> Gen.map (fun (c, seed) ->
          [| uniform (Generator seed) c.XShape -2.0 2.0 |], (fun xs -> sin (xs.[0].Unfold(c.Kernel, c.Stride, c.Padding, c.Dilation)))))
      spec "fold" (Gen.zip ConvGen.genGeometry genSeed |> Gen.map (fun (c, seed) ->
          let c = { c with Same = false }
          let cols = uniform (Generator seed) [| c.N; c.C * c.Kh * c.Kw; c.OutH * c.OutW |] -2.0 2.0
          [| cols |], (fun xs -> sin (Tensor.Fold(xs.[0], [| c.H; c.W |], c.Kernel, c.Stride, c.Padding, c.Dilation)))))
      spec "conv2d" (Gen.zip ConvGen.genGeometry genSeed |> Gen.map (fun (c, seed) ->
          let g = Generator seed
          [| uniform g c.XShape -1.0 1.0; uniform g c.WShape -1.0 1.0 |], (fun xs -> sin (c.Conv xs.[0] xs.[1] null))))
      spec "attention" (gen {
          let! lead = Gen.elements [ [||]; [| 2 |]; [| 2; 1 |] ]
          let! lq, lk = Gen.zip (Gen.choose (1, 4)) (Gen.choose (1, 4))
          let! e, ev = Gen.zip (Gen.choose (1, 3)) (Gen.choose (1, 3))
          let! causal = Gen.elements [ false; true ]
          let! seed = genSeed
          let g = Generator seed
          let kvLead = if lead.Length = 2 then [| 3 |] else lead // [2, 1] and [3] broadcast to [2, 3]
          return [| uniform g (Array.append lead [| lq; e |]) -1.5 1.5; uniform g (Array.append kvLead [| lk; e |]) -1.5 1.5
                    uniform g (Array.append kvLead [| lk; ev |]) -1.5 1.5 |],
                 (fun (xs: Tensor[]) -> Tensor.ScaledDotProductAttention(xs.[0], xs.[1], xs.[2], null, causal, Nullable 0.8)) })
      spec "conv2dBias" (Gen.zip ConvGen.genGeometry genSeed |> Gen.map (fun (c, seed) ->
          let g = Generator seed
          [| uniform g c.XShape -1.0 1.0; uniform g c.WShape -1.0 1.0; uniform g [| c.O |] -1.0 1.0 |], (fun xs -> sin (c.Conv xs.[0] xs.[1] xs.[2]))))
      // conv2d's cotangents as functions of their own: (dy, w) -> dx and (dy, x) -> dw
      spec "conv2dInputGrad" (Gen.zip ConvGen.genGeometry genSeed |> Gen.map (fun (c, seed) ->
          let g = Generator seed
          [| uniform g [| c.N; c.O; c.OutH; c.OutW |] -1.0 1.0; uniform g c.WShape -1.0 1.0 |],
          (fun xs -> sin (Autodiff.Dispatch.Apply(Autodiff.Primitives.Conv2dInputGrad, xs, ConvGen.convGeometry c)))))
      spec "conv2dWeightGrad" (Gen.zip ConvGen.genGeometry genSeed |> Gen.map (fun (c, seed) ->
          let g = Generator seed
          [| uniform g [| c.N; c.O; c.OutH; c.OutW |] -1.0 1.0; uniform g c.XShape -1.0 1.0 |],
          (fun xs -> sin (Autodiff.Dispatch.Apply(Autodiff.Primitives.Conv2dWeightGrad, xs, ConvGen.convGeometry c)))))
      // max pooling (stride, -inf padding, dilation) and its cotangent as a function of dy at a fixed input
      spec "maxPool2d" (Gen.zip ConvGen.genPool genSeed |> Gen.map (fun ((k, s, p, d, shape), seed) ->
          [| uniform (Generator seed) shape -2.0 2.0 |], (fun xs -> sin (xs.[0].MaxPool2d(k, s, p, d)))))
      spec "maxPool2dGrad" (Gen.zip ConvGen.genPool genSeed |> Gen.map (fun ((k, s, _, d, shape), seed) ->
          let g = Generator seed
          let geo = Backends.ConvGeometry(shape.[1], shape.[2], shape.[3], k.[0], k.[1], s.[0], s.[1], 0, 0, 0, 0, d.[0], d.[1])
          let x = uniform g shape -2.0 2.0
          [| uniform g [| shape.[0]; shape.[1]; geo.OutHeight; geo.OutWidth |] -1.0 1.0 |],
          (fun xs -> sin (Autodiff.Dispatch.Apply(Autodiff.Primitives.MaxPool2dGrad, [| xs.[0]; x.ToDevice xs.[0].device |], geo))))) ]

/// Names of every primitive the engine defines (static fields of the table, concat, and every elementwise op).
let primitiveNames () =
    let t = typeof<Tensor>.Assembly.GetType("FunctionalAD.Autodiff.Primitives")
    let fields =
        t.GetFields(BindingFlags.Static ||| BindingFlags.Public ||| BindingFlags.NonPublic)
        |> Array.filter (fun f -> f.FieldType = typeof<Primitive>)
        |> Array.map (fun f -> (f.GetValue null :?> Primitive).Name)
    Set.ofSeq (Seq.concat [ Seq.ofArray fields; Seq.singleton (Primitives.Concat(2).Name); OpRegistry.All |> Seq.map (fun o -> o.Primitive.Name) ])

/// The kit's gradient check with the spec's step and tolerance; the seed varies the output weights and directions.
let private check (sp: Spec) (xs: Tensor[], f: Tensor[] -> Tensor) (seed: uint64) =
    let o = { GradientOptions.forDType DType.Float64 with Order = (if sp.SecondOrder then 2 else 1); Eps = sp.Eps; Tolerance = sp.Tol; Seed = seed + 7UL }
    try Check.gradientsWith o f xs
    with :? CheckFailedException as e -> failtestf "%s: %s" sp.Name e.Message

/// The spec's cases with its shrinking (the function and the seed stay; the inputs shrink).
let private cases (sp: Spec) =
    Arb.fromGenShrink (Gen.zip sp.Draw genSeed, fun ((xs, f), seed) -> sp.Shrink xs |> Seq.map (fun xs' -> (xs', f), seed))

/// The pullback of f at x applied to w: first order (the one-pass kernel), or with w carrying the perturbation of an
/// outer jvp, which makes the engine compose the rule from differentiable operations instead.
let private pullbacks (f: Tensor -> Tensor) (x: Tensor) (w: Tensor) =
    let back (w: Tensor) = Transform.Vjp(Func<_, _>(fun (xs: Tensor[]) -> f xs.[0]), x).Pullback(w).[0]
    let zero = Tensor.Scalar(0.0, w.DType)
    let struct (composed, _) = Transform.Jvp(Func<_, _>(fun (s: Tensor[]) -> back (w + s.[0])), [| zero |], [| zero + 1.0 |])
    back w, composed

let private fusedTests =
    testList "one-pass first-order derivatives equal the composed rule" [
        for op in OpRegistry.All |> Seq.filter (fun o -> o.Arity = 1 && not o.ZeroDerivative) ->
            let name, lo, hi, f = op.Name, op.Domains.[0].Low, op.Domains.[0].High, (fun x -> op.Apply.Invoke [| x |])
            testCase name <| fun () ->
                let g = Generator 5UL
                // contiguous, a transposed view, and one large enough to be split over threads (Float32)
                let inputs =
                    [ uniform g [| 7 |] lo hi
                      (uniform g [| 40; 30 |] lo hi).T
                      (uniform g [| 70_001 |] lo hi).To DType.Float32 ]
                for x in inputs do
                    let tol = if x.DType = DType.Float32 then 1e-6 else 1e-13
                    let w = (uniform g x.Shape -1.0 1.0).To x.DType
                    let fused, composed = pullbacks f x w
                    expectClose tol fused composed (sprintf "%s, shape %A %A" name x.Shape x.DType)
                    // a broadcast scalar cotangent (what sum's vjp passes on)
                    let fusedS, composedS = pullbacks (fun t -> (f t).Sum()) x (Tensor.Scalar(0.7, x.DType))
                    expectClose tol fusedS composedS (sprintf "%s under sum, shape %A %A" name x.Shape x.DType) ]

/// The CPU evaluates an op's formula block by block with vectorised passes (and a long tensor whose formula is one
/// pass in a single call); a one-element tensor takes the scalar path. Both must give the op's values: every op on
/// 2,600 elements (two full blocks and a tail), a strided view, and a broadcast scalar operand, against each element
/// computed alone.
let private vectorisedKernelTests =
    testList "vectorised kernels equal the one-element path" [
        for op in OpRegistry.All ->
            testCase op.Name <| fun () ->
                let g = Generator 11UL
                for dtype in [ DType.Float32; DType.Float64 ] do
                    let draw (d: Ops.OpDomain) (s: int[]) = (draw g s d).To dtype
                    let inputs =
                        [ op.Domains |> Array.map (draw >> fun f -> f [| 2600 |])
                          op.Domains |> Array.map (fun d -> (draw d [| 60; 50 |]).T)
                          op.Domains |> Array.mapi (fun i d -> if i = 1 then draw d [||] else draw d [| 2600 |]) ]
                    for xs in inputs do
                        let y = op.Apply.Invoke xs
                        let n = y.Numel
                        let flat (x: Tensor) = if x.Rank = 0 then Array.create n (x.item()) else x.toArray()
                        let cols = xs |> Array.map flat
                        let one = Array.init n (fun i -> (op.Apply.Invoke (cols |> Array.map (fun c -> Tensor.Scalar(c.[i], dtype)))).item())
                        let tol = if dtype = DType.Float32 then 1e-6 else 1e-14
                        if not (close tol (y.toArray()) one) then
                            failtestf "%s %O %A: block path and one-element path differ" op.Name dtype y.Shape ]

/// x·Wᵀ with W [out, in] (a Linear layer), and Xᵀ·Wᵀ with X stored [in, batch]: the cotangent of a transposed
/// operand is computed in the operand's layout, so the parameter's gradient is contiguous; both gradients must still
/// equal finite differences.
let private transposedMatmulTests =
    testList "matmul cotangents of transposed operands" [
        for name, xShape, f in [ "x·Wᵀ", [| 3; 7 |], (fun (x: Tensor) (w: Tensor) -> x.MatMul(w.T))
                                 "Xᵀ·Wᵀ", [| 7; 3 |], (fun x w -> x.T.MatMul(w.T)) ] ->
            testCase name <| fun () ->
                let g = Generator 9UL
                let x, w = uniform g xShape -1.0 1.0, uniform g [| 5; 7 |] -1.0 1.0
                let cot = uniform g [| 3; 5 |] -1.0 1.0
                let F (ts: Tensor[]) = (f ts.[0] ts.[1] * cot).Sum()
                let struct (_, grads) = Transform.ValueAndGrad(Func<_, _> F, [| x; w |])
                for i in 0 .. 1 do
                    Expect.isTrue (close 1e-6 (grads.[i].ToDoubleArray()) (numericGrad F [| x; w |] i 1e-6)) (sprintf "%s: gradient %d = finite differences" name i)
                    Expect.isTrue grads.[i].Value.IsContiguous (sprintf "%s: gradient %d is contiguous" name i) ]

/// The seam for transformations beyond jvp/vjp: a toy shape-inference transformation defines one rule for the whole
/// elementwise family and one for matmul, and every other primitive is refused by name.
let private ruleTableTests =
    let shapes = RuleTable<Func<int[][], int[]>>("shapeOf")
    shapes.Define(PrimitiveFamily.Elementwise, Func<_, _>(fun (s: int[][]) -> s.[0]))
          .Define(Primitives.BatchMatMul, Func<_, _>(fun (s: int[][]) -> [| s.[0].[0]; s.[0].[1]; s.[1].[2] |])) |> ignore
    testList "rule tables for new transformations" [
        testCase "a family rule covers every elementwise op, a primitive's own rule wins" <| fun () ->
            for op in OpRegistry.All do
                Expect.equal op.Primitive.Family PrimitiveFamily.Elementwise (sprintf "%s is elementwise" op.Name)
                Expect.sequenceEqual (shapes.For(op.Primitive).Invoke [| [| 2; 3 |]; [| 2; 3 |] |]) [| 2; 3 |] op.Name
            Expect.sequenceEqual (shapes.For(Primitives.BatchMatMul).Invoke [| [| 1; 2; 3 |]; [| 1; 3; 5 |] |]) [| 1; 2; 5 |] "matmul"
        testCase "a primitive without a rule fails by name" <| fun () ->
            let e = Expect.throwsC (fun () -> shapes.For(Primitives.Prod) |> ignore) id
            Expect.stringContains e.Message "'prod'" "names the primitive"
            Expect.stringContains e.Message "shapeOf" "names the transformation"
            Expect.isNull (shapes.Find Primitives.Reshape) "reshape (Linear family) has no rule here"
    ]

let tests =
    testList "primitives" [
        ruleTableTests
        vectorisedKernelTests
        fusedTests
        transposedMatmulTests
        testCase "every primitive of the engine has a property below" <| fun () ->
            let tested = specs |> List.map (fun s -> s.Name) |> Set.ofList
            let missing = Set.difference (primitiveNames ()) tested
            let unknown = Set.difference tested (primitiveNames ())
            Expect.isEmpty missing (sprintf "primitives without a property: %A" missing)
            Expect.isEmpty unknown (sprintf "specs naming no primitive: %A" unknown)
        testList "gradient = finite differences, forward = reverse, second order" [
            for sp in specs ->
                testPropertyWithConfig config sp.Name (Prop.forAll (cases sp) (fun ((xs, f), seed) -> check sp (xs, f) seed))
        ]
    ]
