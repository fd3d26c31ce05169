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
open FunctionalAD.Tests.Support

/// A primitive under test: how to draw its inputs and the function that applies it.
type Spec =
    { Name: string
      Draw: Gen<Tensor[] * (Tensor[] -> Tensor)>
      Eps: float
      Tol: float
      /// The second-order check is skipped for primitives whose derivative is piecewise constant.
      SecondOrder: bool }

let private spec name draw = { Name = name; Draw = draw; Eps = 1e-6; Tol = 1e-5; SecondOrder = true }

let private unary name lo hi gap (op: Tensor -> Tensor) =
    spec name (Gen.zip genShape genSeed |> Gen.map (fun (s, seed) ->
        let g = Generator seed
        let x = if gap > 0.0 then awayFromZero g s lo hi gap else uniform g s lo hi
        [| x |], (fun xs -> op xs.[0])))

let private binary name (lo, hi, gap) (lo2, hi2, gap2) (op: Tensor -> Tensor -> Tensor) =
    spec name (Gen.zip genBroadcastPair genSeed |> Gen.map (fun ((sa, sb), seed) ->
        let g = Generator seed
        let draw s lo hi gap = if gap > 0.0 then awayFromZero g s lo hi gap else uniform g s lo hi
        [| draw sa lo hi gap; draw sb lo2 hi2 gap2 |], (fun xs -> op xs.[0] xs.[1])))

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
    [ unary "neg" -2.0 2.0 0.0 (fun x -> -x)
      { unary "abs" -2.0 2.0 0.1 abs with SecondOrder = false }
      unary "square" -2.0 2.0 0.0 (fun x -> x.Square())
      unary "exp" -2.0 2.0 0.0 exp
      unary "log" 0.2 3.0 0.0 log
      unary "log1p" -0.5 3.0 0.0 log1p
      unary "expm1" -2.0 2.0 0.0 expm1
      unary "sqrt" 0.2 3.0 0.0 sqrt
      unary "rsqrt" 0.2 3.0 0.0 rsqrt
      unary "sin" -3.0 3.0 0.0 sin
      unary "cos" -3.0 3.0 0.0 cos
      unary "tan" -1.2 1.2 0.0 tan
      unary "asin" -0.9 0.9 0.0 asin
      unary "acos" -0.9 0.9 0.0 acos
      unary "atan" -3.0 3.0 0.0 atan
      unary "sinh" -2.0 2.0 0.0 sinh
      unary "cosh" -2.0 2.0 0.0 cosh
      unary "tanh" -2.0 2.0 0.0 tanh
      unary "sigmoid" -3.0 3.0 0.0 sigmoid
      { unary "relu" -2.0 2.0 0.1 relu with SecondOrder = false }
      unary "softplus" -3.0 3.0 0.0 softplus
      { unary "sign" -2.0 2.0 0.1 (fun x -> x.Sign()) with SecondOrder = false }
      { unary "floor" 0.1 0.9 0.0 floor with SecondOrder = false }
      { unary "ceil" 0.1 0.9 0.0 (fun x -> x.Ceil()) with SecondOrder = false }
      { unary "round" 0.1 0.4 0.0 round with SecondOrder = false }
      binary "add" (-2.0, 2.0, 0.0) (-2.0, 2.0, 0.0) (+)
      binary "sub" (-2.0, 2.0, 0.0) (-2.0, 2.0, 0.0) (-)
      binary "mul" (-2.0, 2.0, 0.0) (-2.0, 2.0, 0.0) (*)
      binary "div" (-2.0, 2.0, 0.0) (-2.0, 2.0, 0.5) (/)
      binary "pow" (0.5, 2.0, 0.0) (-2.0, 2.0, 0.0) (fun a b -> a ** b)
      binary "atan2" (-2.0, 2.0, 0.3) (-2.0, 2.0, 0.3) atan2
      { binary "maximum" (-2.0, 2.0, 0.0) (-2.0, 2.0, 0.0) (fun a b -> a.Maximum b) with SecondOrder = false }
      { binary "minimum" (-2.0, 2.0, 0.0) (-2.0, 2.0, 0.0) (fun a b -> a.Minimum b) with SecondOrder = false }
      spec "where" (Gen.zip genBroadcastPair genSeed |> Gen.map (fun ((sa, sb), seed) ->
          let g = Generator seed
          let cond = (uniform g sa 0.0 1.0).Gt 0.5
          [| uniform g sa -2.0 2.0; uniform g sb -2.0 2.0 |], (fun xs -> where (here cond) (xs.[0] * xs.[0]) (sin xs.[1]))))
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
                 (fun (xs: Tensor[]) -> xs.[0].matmul xs.[1]) }) ]

/// Names of every primitive the engine defines (static fields of the table, plus concat).
let primitiveNames () =
    let t = typeof<Tensor>.Assembly.GetType("FunctionalAD.Autodiff.Primitives")
    let fields =
        t.GetFields(BindingFlags.Static ||| BindingFlags.Public ||| BindingFlags.NonPublic)
        |> Array.filter (fun f -> f.FieldType = typeof<Primitive>)
        |> Array.map (fun f -> (f.GetValue null :?> Primitive).Name)
    Set.ofArray (Array.append fields [| Primitives.Concat(2).Name |])

let private dot (a: Tensor) (b: Tensor) = (a * b).sum().item()

let private check (sp: Spec) (xs: Tensor[], f: Tensor[] -> Tensor) (seed: uint64) =
    let g = Generator(seed + 7UL)
    let y = f xs
    let w = (uniform g y.shape -1.0 1.0).ToDevice y.device
    let F (args: Tensor[]) = ((f args) * w).sum()
    // reverse mode vs finite differences
    let struct (_, grads) = Transform.ValueAndGrad(Func<_, _> F, xs)
    for i in 0 .. xs.Length - 1 do
        let numeric = numericGrad F xs i sp.Eps
        if not (close sp.Tol (grads.[i].toArray()) numeric) then
            failtestf "%s: reverse gradient of input %d (shape %A) differs from finite differences\nreverse %A\nnumeric %A" sp.Name i xs.[i].shape (grads.[i].toArray()) numeric
    // forward mode: jvp = finite differences along v, and <w, J v> = <J^T w, v>
    let vs = xs |> Array.map (fun x -> (uniform g x.shape -1.0 1.0).ToDevice x.device)
    let struct (_, tangent) = Transform.Jvp(Func<_, _> f, xs, vs)
    let shifted (h: float) = f (Array.map2 (fun (x: Tensor) v -> x + h * v) xs vs)
    let fd = (shifted sp.Eps - shifted -sp.Eps) / (2.0 * sp.Eps)
    if not (close sp.Tol (tangent.toArray()) (fd.toArray())) then
        failtestf "%s: forward tangent differs from finite differences\njvp %A\nnumeric %A" sp.Name (tangent.toArray()) (fd.toArray())
    let lhs = dot w tangent
    let rhs = Array.map2 dot grads vs |> Array.sum
    if abs (lhs - rhs) > sp.Tol * 1e-3 * max 1.0 (abs lhs) then failtestf "%s: <w, J v> = %g but <J^T w, v> = %g" sp.Name lhs rhs
    // second order: Hessian-vector product of F in input 0 vs finite differences of the gradient
    if sp.SecondOrder then
        let F0 (x: Tensor) = F (Array.append [| x |] xs.[1..])
        let hv = Transform.Hvp(Func<_, _> F0, xs.[0], vs.[0])
        let gradAt (h: float) = Transform.Grad(Func<_, _> F0, xs.[0] + h * vs.[0])
        let fd2 = (gradAt 1e-5 - gradAt -1e-5) / 2e-5
        if not (close 1e-4 (hv.toArray()) (fd2.toArray())) then
            failtestf "%s: Hessian-vector product differs from finite differences\nhvp %A\nnumeric %A" sp.Name (hv.toArray()) (fd2.toArray())

/// Elementwise primitives whose first-order vjp/jvp the CPU backend computes in one pass, with input domains.
let private fusedCases : (string * float * float * (Tensor -> Tensor)) list =
    [ "square", -2.0, 2.0, (fun x -> x.Square()); "exp", -2.0, 2.0, exp; "log", 0.2, 3.0, log; "log1p", -0.5, 3.0, log1p; "expm1", -2.0, 2.0, expm1
      "sqrt", 0.2, 3.0, sqrt; "rsqrt", 0.2, 3.0, rsqrt; "sin", -3.0, 3.0, sin; "cos", -3.0, 3.0, cos
      "tan", -1.2, 1.2, tan; "atan", -3.0, 3.0, atan; "sinh", -2.0, 2.0, sinh; "cosh", -2.0, 2.0, cosh
      "tanh", -2.0, 2.0, tanh; "sigmoid", -3.0, 3.0, sigmoid; "relu", -2.0, 2.0, relu; "softplus", -3.0, 3.0, softplus ]

/// The pullback of f at x applied to w: first order (the one-pass kernel), or with w carrying the perturbation of an
/// outer jvp, which makes the engine compose the rule from differentiable operations instead.
let private pullbacks (f: Tensor -> Tensor) (x: Tensor) (w: Tensor) =
    let back (w: Tensor) = Transform.Vjp(Func<_, _>(fun (xs: Tensor[]) -> f xs.[0]), x).Pullback(w).[0]
    let zero = Tensor.Scalar(0.0, w.DType)
    let struct (composed, _) = Transform.Jvp(Func<_, _>(fun (s: Tensor[]) -> back (w + s.[0])), [| zero |], [| zero + 1.0 |])
    back w, composed

let private fusedTests =
    testList "one-pass first-order derivatives equal the composed rule" [
        for name, lo, hi, f in fusedCases ->
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

let tests =
    testList "primitives" [
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
                testProp sp.Name (fun ((xs, f), seed) -> check sp (xs, f) seed) (Gen.zip sp.Draw genSeed)
        ]
    ]
