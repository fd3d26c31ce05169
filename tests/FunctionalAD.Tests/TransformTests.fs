/// The transformations: identities, known closed forms, nesting, the talk's examples, inspection.
module FunctionalAD.Tests.TransformTests

open System
open System.Threading
open System.Threading.Tasks
open Expecto
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Tests.Support

let private rosenbrock (x: Tensor) =
    let a, b = x.[0], x.[1]
    (1.0 - a) ** 2.0 + 100.0 * (b - a * a) ** 2.0

let private genSmallVector = Gen.zip (Gen.choose (1, 5)) genSeed

let nesting =
    testList "nesting without perturbation confusion" [
        testCase "d/dx [x * (d/dy (x + y))] = 1 in every mode combination" <| fun () ->
            let one = scalar 1.0
            Expect.equal ((grad (fun x -> x * grad (fun y -> x + y) one) one).item()) 1.0 "reverse over reverse"
            Expect.equal ((diff (fun x -> x * diff (fun y -> x + y) one) one).item()) 1.0 "forward over forward"
            Expect.equal ((grad (fun x -> x * diff (fun y -> x + y) one) one).item()) 1.0 "reverse over forward"
            Expect.equal ((diff (fun x -> x * grad (fun y -> x + y) one) one).item()) 1.0 "forward over reverse"
        testCase "Siskind & Pearlmutter: d/dx [x * d/dy (x * y)] at x=y=1... is 2x = 2" <| fun () ->
            let f (x: Tensor) = x * diff (fun y -> x * y) (scalar 1.0)
            Expect.equal ((diff f (scalar 1.0)).item()) 2.0 "forward"
            Expect.equal ((grad f (scalar 1.0)).item()) 2.0 "reverse"
        testCase "two threads differentiating at once get their own answers" <| fun () ->
            let work (k: float) =
                Task.Run(fun () ->
                    [ for i in 1 .. 200 ->
                        let x = scalar (k + float i / 100.0)
                        (grad (fun x -> x * grad (fun y -> x * y * y) x) x).item(), 6.0 * (k + float i / 100.0) ** 2.0 ])
            let results = Task.WhenAll [| work 1.0; work 2.0; work 3.0 |] |> fun t -> t.Result
            for r in results do
                for (got, expected) in r do Expect.floatClose Accuracy.high got expected "x * (d/dy x y^2 at y = x) = 2x^3, derivative 6x^2"
        testCase "a value used while its transformation is still running, from a sibling at the same level, is reported" <| fun () ->
            use leakedReady = new ManualResetEventSlim(false)
            use siblingDone = new ManualResetEventSlim(false)
            let mutable leaked = Unchecked.defaultof<Tensor>
            let holder =
                Task.Run(fun () ->
                    grad (fun (x: Tensor) -> leaked <- x; leakedReady.Set(); siblingDone.Wait(); x.sum()) (tensor [ 1.0 ]) |> ignore)
            leakedReady.Wait()
            let sibling = Task.Run(fun () -> grad (fun (y: Tensor) -> (y * leaked).sum()) (tensor [ 2.0 ]) |> ignore)
            let e = Expect.throwsC (fun () -> sibling.Wait()) id
            siblingDone.Set()
            holder.Wait()
            Expect.stringContains (e.InnerException.Message) "escaped" "names the escape"
        testCase "a value that escaped a finished transformation is the constant it became (never a zero derivative)" <| fun () ->
            let t = tensor [ 1.0; 2.0; 3.0 ]
            let mutable inner = Unchecked.defaultof<Tensor>
            grad (fun x -> grad (fun z -> inner <- z; sum (z * z)) (tensor [ 10.0; 20.0; 30.0 ]) |> ignore; sum x) t |> ignore
            Expect.sequenceEqual ((grad (fun x -> sum (x * inner)) t).toArray()) [| 10.0; 20.0; 30.0 |] "same thread, deeper level"
            let mutable sibling = Unchecked.defaultof<Tensor>
            grad (fun x -> sibling <- x; x.sum()) (tensor [ 4.0 ]) |> ignore
            Expect.sequenceEqual ((grad (fun (y: Tensor) -> (y * sibling).sum()) (tensor [ 2.0 ])).toArray()) [| 4.0 |] "same level"
            let other = Task.Run(fun () -> (grad (fun x -> sum (x * inner * inner)) t).toArray()).Result
            Expect.sequenceEqual other [| 100.0; 400.0; 900.0 |] "another thread"
            Expect.sequenceEqual ((jvp (fun x -> sum (x * inner)) t (tensor [ 1.0; 0.0; 0.0 ]) |> snd).toArray()) [| 10.0 |] "forward mode"
        testCase "using an escaped value records nothing on its finished tape (no leak)" <| fun () ->
            let mutable inner = Unchecked.defaultof<Tensor>
            grad (fun z -> inner <- z; sum (z * z)) (tensor [ 1.0; 2.0 ]) |> ignore
            let tape = inner.tag.Tape
            let before = tape.Count
            for _ in 1 .. 1000 do grad (fun x -> sum (x * inner)) (tensor [ 1.0; 1.0 ]) |> ignore
            Expect.equal tape.Count before "the finished tape did not grow"
    ]

let closedForms =
    testList "closed forms" [
        testCase "sin -> cos -> -sin -> -cos (grad of grad, diffn)" <| fun () ->
            let x = tensor [ 0.3; 1.2; -2.0 ]
            let sumOf f = fun (t: Tensor) -> (f t : Tensor).sum()
            expectClose 1e-12 (grad (sumOf sin) x) (cos x) "first"
            expectClose 1e-12 (grad (sumOf (grad (sumOf sin))) x) (-(sin x)) "second"
            expectClose 1e-12 (grad (sumOf (grad (sumOf (grad (sumOf sin))))) x) (-(cos x)) "third"
            expectClose 1e-12 (diffn 4 sin (scalar 0.7)) (sin (scalar 0.7)) "diffn 4"
        testCase "Rosenbrock gradient and Hessian at several points" <| fun () ->
            for (a, b) in [ 1.0, 1.0; -1.2, 1.0; 0.5, -0.3; 2.0, 3.0 ] do
                let x = tensor [ a; b ]
                let g = [| -2.0 * (1.0 - a) - 400.0 * a * (b - a * a); 200.0 * (b - a * a) |]
                let h = [| 2.0 - 400.0 * (b - 3.0 * a * a); -400.0 * a; -400.0 * a; 200.0 |]
                expectClose 1e-10 (grad rosenbrock x) (tensor g) "gradient"
                expectClose 1e-10 (hessian rosenbrock x) ((tensor h).reshape(2, 2)) "hessian"
        testCase "x ** x" <| fun () ->
            for v in [ 0.5; 1.0; 2.0; 3.3 ] do
                let d = diff (fun x -> x ** x) (scalar v)
                Expect.floatClose Accuracy.high (d.item()) (v ** v * (log v + 1.0)) "d/dx x^x"
                let d2 = diffn 2 (fun x -> x ** x) (scalar v)
                Expect.floatClose Accuracy.high (d2.item()) (v ** v * ((log v + 1.0) ** 2.0 + 1.0 / v)) "second derivative"
    ]

let conventions =
    testList "non-differentiable points (documented conventions)" [
        testCase "relu'(0) = 0, abs'(0) = 0, sqrt'(0) = +inf, floor' = 0" <| fun () ->
            let at0 f = (grad (fun x -> sum (f x)) (tensor [ 0.0 ])).item ()
            Expect.equal (at0 relu) 0.0 "relu"
            Expect.equal (at0 abs) 0.0 "abs"
            Expect.equal (at0 sqrt) Double.PositiveInfinity "sqrt: +inf, not NaN or 0"
            Expect.equal (at0 floor) 0.0 "floor"
        testCase "max and min split the derivative equally between ties" <| fun () ->
            expectClose 0.0 (grad (fun (x: Tensor) -> x.max ()) (tensor [ 1.0; 3.0; 3.0 ])) (tensor [ 0.0; 0.5; 0.5 ]) "max reduction"
            let ga, gb = Tree.grad (fun (a: Tensor, b: Tensor) -> sum (a.Maximum b)) (tensor [ 2.0 ], tensor [ 2.0 ])
            Expect.equal [ ga.item (); gb.item () ] [ 0.5; 0.5 ] "elementwise maximum"
        testCase "integer and Bool tensors never carry derivatives" <| fun () ->
            let g = grad (fun (x: Tensor) -> sum (x * (x.Gt 0.0).toDtype DType.Float64 + (x.toDtype DType.Int32).toDtype DType.Float64)) (tensor [ 1.5; -2.0 ])
            expectClose 0.0 g (tensor [ 1.0; 0.0 ]) "masks and integer casts are constants"
    ]

let identities =
    testList "identities" [
        testCase "adjoints summed in place: many uses of one value, inputs and cotangent untouched" <| fun () ->
            let g = Generator 21UL
            let x = uniform g [| 4; 3 |] -1.0 1.0
            let u = uniform g [| 4; 3 |] -1.0 1.0
            let xBefore, uBefore = x.ToDoubleArray(), u.ToDoubleArray()
            // five uses of x: its adjoint gets five contributions, two of them the cotangent object itself
            let f (xs: Tensor[]) = xs.[0] + xs.[0] * 2.0 + xs.[0].Sin() + xs.[0].T.T + xs.[0]
            let r = Transform.Vjp(Func<_, _> f, x)
            let first = r.Pullback(u).[0]
            expectClose 1e-12 first (u * (x.Cos() + 5.0)) "vjp = u·(5 + cos x)"
            expectClose 0.0 (r.Pullback(u).[0]) first "a second pullback gives the same"
            Expect.sequenceEqual (u.ToDoubleArray()) uBefore "the cotangent is not written"
            Expect.sequenceEqual (x.ToDoubleArray()) xBefore "the input is not written"
            // the scalar tape: x feeds every step, so its adjoint collects 300 contributions
            let tape (x: Tensor) =
                let mutable y = Tensor.Scalar 1.0
                for _ in 1 .. 300 do y <- y * x + y.Sin()
                y
            let x0 = Tensor.Scalar 0.3
            let viaTape = Transform.Grad(Func<_, _> tape, x0).Item()
            let viaDual = FunctionalAD.Dual.Diff((fun (d: Dual<float>) ->
                let mutable y = Dual<float>(1.0, 0.0)
                for _ in 1 .. 300 do y <- y * d + sin y
                y), 0.3)
            Expect.floatClose Accuracy.high viaTape viaDual "reverse over 300 steps = forward-mode Dual"
        testProp "hessian is symmetric and hvp = hessian v = reverse-over-forward" (fun (n, seed) ->
            let g = Generator seed
            let a = uniform g [| n; n |] -1.0 1.0
            let f (x: Tensor) = (sin (a.matmul x) * x).sum() + (x ** 3.0).sum()
            let x = uniform g [| n |] -1.0 1.0
            let v = uniform g [| n |] -1.0 1.0
            let h = hessian f x
            expectClose 1e-10 h h.T "symmetric"
            let hv = hvp f x v
            expectClose 1e-10 hv (h.matmul v) "hvp = H v"
            let reverseOverForward = grad (fun x -> snd (jvp f x v)) x
            expectClose 1e-10 hv reverseOverForward "forward-over-reverse = reverse-over-forward")
            genSmallVector
        testProp "jacobian: forward and reverse choice agree with each other and with jvp/vjp" (fun (n, seed) ->
            let g = Generator seed
            let a = uniform g [| n + 2; n |] -1.0 1.0
            let wide (x: Tensor) = tanh (a.matmul x)          // more outputs than inputs: forward mode
            let narrow (x: Tensor) = tanh (a.T.matmul x)      // fewer outputs: reverse mode
            let x, y = uniform g [| n |] -1.0 1.0, uniform g [| n + 2 |] -1.0 1.0
            let jw, jn = jacobian wide x, jacobian narrow y
            Expect.sequenceEqual jw.shape [| n + 2; n |] "shape"
            let v = uniform g [| n |] -1.0 1.0
            expectClose 1e-12 (jw.matmul v) (snd (jvp wide x v)) "J v"
            let u = uniform g [| n |] -1.0 1.0
            expectClose 1e-12 (u.matmul jn) ((snd (vjp narrow y)) u) "u J")
            genSmallVector
    ]

let talk =
    testList "the talk's examples" [
        testCase "the gradient of sin over one period equals cos at 0, pi/2, pi, 3pi/2, 2pi" <| fun () ->
            let xs = tensor [ 0.0; Math.PI / 2.0; Math.PI; 3.0 * Math.PI / 2.0; 2.0 * Math.PI ]
            let g = grad (fun x -> sum (sin x)) xs
            expectClose 1e-12 g (tensor [ 1.0; 0.0; -1.0; 0.0; 1.0 ]) "grad sin = cos"
            // and the imperative way: RequiresGrad / Backward
            let x = xs.RequiresGrad("x")
            let gs = (sin x).sum().Backward()
            expectClose 1e-12 gs.[x] (cos xs) ".Backward()"
        testCase "the gradient of a quadratic at a point equals its analytic slope" <| fun () ->
            let f (x: Tensor) = 3.0 * x * x - 4.0 * x + 1.0
            for v in [ -2.0; 0.0; 0.5; 3.0 ] do
                Expect.floatClose Accuracy.veryHigh ((grad f (scalar v)).item()) (6.0 * v - 4.0) "slope"
    ]

let api =
    testList "API" [
        testCase "the natural lines compile without annotations (grad of a tensor)" <| fun () ->
            // These lines are the test: with a grad generic over trees they stop the build with FS0072.
            let g = grad (fun x -> (x * x).sum()) (tensor [ 1.0; 2.0 ])
            expectClose 1e-12 g (tensor [ 2.0; 4.0 ]) "2x"
            let x = tensor [ 1.0; 2.0; 3.0 ]
            expectClose 0.0 (grad (fun x -> x.sum()) x) (tensor [ 1.0; 1.0; 1.0 ]) "ones"
            let v, gv = gradv (fun x -> x.Sin().sum()) x
            expectClose 1e-12 gv (cos x) "gradv"
            Expect.floatClose Accuracy.veryHigh (v.item()) ((sin x).sum().item()) "value"
            expectClose 1e-12 (snd (jvp (fun x -> x.Exp().sum()) x x)) ((x * exp x).sum()) "jvp"
            expectClose 1e-12 ((snd (vjp (fun x -> x.Square()) x)) x) (2.0 * x * x) "vjp"
            expectClose 1e-12 (jacobian (fun x -> x.Square()) x) (linalg.diag (2.0 * x)) "jacobian"
            expectClose 1e-12 (hessian (fun x -> (x * x * x).sum()) x) (linalg.diag (6.0 * x)) "hessian"
            expectClose 1e-12 (hvp (fun x -> (x * x * x).sum()) x x) (6.0 * x * x) "hvp"
            expectClose 1e-12 (diff (fun x -> x.Exp()) (scalar 0.0)) (scalar 1.0) "diff"
        testCase "grad of a function of a tuple returns a tuple" <| fun () ->
            let a, b = tensor [ 1.0; 2.0 ], tensor [ 3.0; 4.0 ]
            let ga, gb = Tree.grad (fun (a: Tensor, b: Tensor) -> (a * b + sin a).sum()) (a, b)
            expectClose 1e-12 ga (b + cos a) "d/da"
            expectClose 1e-12 gb a "d/db"
            let v, (g1, g2, g3) = Tree.gradv (fun (x: Tensor, y: Tensor, z: Tensor) -> (x * y * z).sum()) (scalar 2.0, scalar 3.0, scalar 4.0)
            Expect.equal (v.item()) 24.0 "value"
            Expect.equal [ g1.item(); g2.item(); g3.item() ] [ 12.0; 8.0; 6.0 ] "three gradients"
        testCase "grad over records, lists and maps keeps the structure" <| fun () ->
            let p = Map.ofList [ "w", tensor [ 1.0; 2.0 ]; "b", scalar 0.5 ]
            let g = Tree.grad (fun (p: Map<string, Tensor>) -> (p.["w"] * p.["w"]).sum() + p.["b"]) p
            expectClose 1e-12 g.["w"] (tensor [ 2.0; 4.0 ]) "w"
            expectClose 1e-12 g.["b"] (scalar 1.0) "b"
            let gl = Tree.grad (fun (l: Tensor list) -> (l.[0] * l.[1]).sum()) [ scalar 2.0; scalar 5.0 ]
            Expect.equal (gl |> List.map (fun t -> t.item())) [ 5.0; 2.0 ] "list"
        testCase "stopGradient and noGrad" <| fun () ->
            let x = tensor [ 3.0 ]
            expectClose 1e-12 (grad (fun x -> (x * stopGradient x).sum()) x) x "only one factor differentiated"
            let r = grad (fun (x: Tensor) -> (x + noGrad (fun () -> x * 100.0)).sum()) x
            expectClose 1e-12 r (tensor [ 1.0 ]) "noGrad result is constant"
        testCase "functions ignoring their input have zero gradient" <| fun () ->
            expectClose 0.0 (grad (fun (_: Tensor) -> scalar 1.0) (tensor [ 1.0; 2.0 ])) (tensor [ 0.0; 0.0 ]) "zero"
        testCase "custom function: sin with a hand-written backward calling cos" <| fun () ->
            let mySin = customFn "mySin" (fun x -> sin x) (fun g x _ -> g * cos x) (Some(fun dx x _ -> dx * cos x))
            let x = tensor [ 0.1; 0.7; 2.0 ]
            expectClose 1e-12 (grad (fun x -> (mySin x).sum()) x) (cos x) "reverse"
            expectClose 1e-12 (snd (jvp (fun x -> (mySin x).sum()) x (Tensor.OnesLike x))) ((cos x).sum()) "forward"
            expectClose 1e-12 (grad (fun x -> (grad (fun x -> (mySin x).sum()) x).sum()) x) (-(sin x)) "its backward is differentiable"
            let r = gradcheck (fun x -> (mySin x).sum()) x
            Expect.isTrue r.Passed (string r)
            let noJvp = customFn "noJvp" sin (fun g x _ -> g * cos x) None
            let e = Expect.throwsT<InvalidOperationException> (fun () -> diff noJvp (scalar 1.0) |> ignore) "forward mode without a jvp rule"
            ()
        testCase "gradcheck names the worst element of a wrong gradient" <| fun () ->
            let wrong = customFn "wrongSin" sin (fun g x _ -> g * (cos x + 0.1)) None
            let r = gradcheck (fun x -> (wrong x).sum()) (tensor [ 0.5; 1.0 ])
            Expect.isFalse r.Passed "detects the error"
            Expect.stringContains (string r) "analytic" "reports both values"
            Expect.floatClose Accuracy.medium (r.Analytic - r.Numeric) 0.1 "the injected error"
    ]

/// A record tree, to check that jacobian/hessian/hvp keep any structure (not only tuples).
type private Affine = { W: Tensor; B: Tensor }

/// Central differences of the gradient along v (both trees), leaf by leaf: (∇f(x + εv) - ∇f(x - εv)) / 2ε.
let private numericHvp (f: 'T -> Tensor) (x: 'T) (v: 'T) =
    let eps = 1e-5
    let step k = Tree.map2 (fun (a: Tensor) (b: Tensor) -> a + k * eps * b) x v
    Tree.map2 (fun (p: Tensor) (m: Tensor) -> (p - m) / (2.0 * eps)) (Tree.grad f (step 1.0)) (Tree.grad f (step -1.0))

let trees =
    testList "jacobian, hessian and hvp of trees" [
        testCase "jacobian of a tuple gives one block per input, shaped f(x) @ input" <| fun () ->
            let a, b = tensor [ 1.0; -2.0 ], tensor [ 0.5; 3.0; 4.0 ]
            let f (a: Tensor, b: Tensor) = (a * a).sum() * b          // [3]
            let ja, jb = Tree.jacobian f (a, b)
            Expect.equal ja.shape [| 3; 2 |] "d/da shape"
            Expect.equal jb.shape [| 3; 3 |] "d/db shape"
            // d f_k / d a_i = 2 a_i b_k, d f_k / d b_j = |a|² δ_kj
            expectClose 1e-12 ja (2.0 * b.unsqueeze(1) * a.unsqueeze(0)) "d/da"
            expectClose 1e-12 jb (5.0 * Tensor.eye(3, DType.Float64)) "d/db"
            expectClose 1e-12 ja (jacobian (fun a -> f (a, b)) a) "the tensor jacobian of each leaf"
        testCase "jacobian of a record with a matrix leaf, and of Params, keeps the structure" <| fun () ->
            let x = tensor [ [ 1.0; 2.0 ]; [ -1.0; 0.5 ]; [ 3.0; 1.0 ] ]            // [3, 2]
            let p = { W = tensor [ [ 0.1; 0.2 ]; [ 0.3; -0.4 ] ]; B = tensor [ 1.0; 2.0 ] }
            let f (p: Affine) = tanh (x.matmul p.W + p.B)                          // [3, 2]
            let j = Tree.jacobian f p
            Expect.equal j.W.shape [| 3; 2; 2; 2 |] "W block shape"
            Expect.equal j.B.shape [| 3; 2; 2 |] "B block shape"
            expectClose 1e-12 j.W (jacobian (fun w -> f { p with W = w }) p.W) "W block"
            expectClose 1e-12 j.B (jacobian (fun b -> f { p with B = b }) p.B) "B block"
            let ps = Params.ofList [ "w", p.W; "b", p.B ]
            let jp = Tree.jacobian (fun (q: Params) -> f { W = q.["w"]; B = q.["b"] }) ps
            Expect.equal (Params.names jp) [ "b"; "w" ] "same paths"
            expectClose 1e-12 jp.["w"] j.W "Params w"
            expectClose 1e-12 jp.["b"] j.B "Params b"
        testCase "hessian of a tuple is the Hessian of the flattened leaves, [N, N]" <| fun () ->
            let a, b = tensor [ 1.0; 2.0 ], tensor [ 3.0; -1.0; 0.5 ]
            // f = Σ a_i² b_i (i < 2) + Σ b³:  H_aa = diag(2 b_0..1), H_ab = [diag(2 a), 0], H_bb = diag(6 b)
            let f (a: Tensor, b: Tensor) = (a * a * b.[0..1]).sum() + (b ** 3.0).sum()
            let h = Tree.hessian f (a, b)
            let expected =
                tensor [ [ 6.0; 0.0; 2.0; 0.0; 0.0 ]
                         [ 0.0; -2.0; 0.0; 4.0; 0.0 ]
                         [ 2.0; 0.0; 18.0; 0.0; 0.0 ]
                         [ 0.0; 4.0; 0.0; -6.0; 0.0 ]
                         [ 0.0; 0.0; 0.0; 0.0; 3.0 ] ]
            expectClose 1e-10 h expected "closed form"
        testCase "hessian of a record matches the hessian of the same function of one flat vector" <| fun () ->
            let p = { W = tensor [ [ 0.3; -0.2 ]; [ 0.1; 0.4 ] ]; B = tensor [ 0.5; -1.0 ] }
            let x = tensor [ [ 1.0; 2.0 ]; [ -0.5; 1.5 ] ]
            let f (p: Affine) = (tanh (x.matmul p.W + p.B) ** 2.0).sum()
            let flat = Tensor.Concat([| p.W.flatten(); p.B.flatten() |], 0)
            let g (v: Tensor) = f { W = v.[0..3].reshape(2, 2); B = v.[4..5] }
            expectClose 1e-10 (Tree.hessian f p) (hessian g flat) "same matrix"
        testCase "hvp of a tree returns the tree's structure and matches finite differences of grad" <| fun () ->
            let p = { W = tensor [ [ 0.3; -0.2 ]; [ 0.1; 0.4 ] ]; B = tensor [ 0.5; -1.0 ] }
            let v = { W = tensor [ [ 1.0; 0.0 ]; [ -1.0; 2.0 ] ]; B = tensor [ 0.5; 0.25 ] }
            let x = tensor [ [ 1.0; 2.0 ]; [ -0.5; 1.5 ] ]
            let f (p: Affine) = (sin (x.matmul p.W + p.B) * p.B).sum()
            let hv = Tree.hvp f p v
            let fd = numericHvp f p v
            Expect.equal hv.W.shape [| 2; 2 |] "W shape"
            expectClose 1e-7 hv.W fd.W "W"
            expectClose 1e-7 hv.B fd.B "B"
            let ha, hb = Tree.hvp (fun (a: Tensor, b: Tensor) -> (a * a * b).sum()) (tensor [ 1.0; 2.0 ], tensor [ 3.0; 4.0 ]) (tensor [ 1.0; 0.0 ], tensor [ 0.0; 1.0 ])
            // H (1,0 | 0,1): d/da = 2 b ⊙ va + 2 a ⊙ vb = (6, 4); d/db = 2 a ⊙ va = (2, 0)
            expectClose 1e-12 ha (tensor [ 6.0; 4.0 ]) "a"
            expectClose 1e-12 hb (tensor [ 2.0; 0.0 ]) "b"
        testCase "tree transformations reject mixed dtypes and mismatched directions by name" <| fun () ->
            let f (a: Tensor, b: Tensor) = (a * b.toDtype DType.Float64).sum()
            let message (body: unit -> unit) =
                try body (); failtest "expected an exception" with :? TensorException as e -> e.GetType(), e.Message
            let kind, text = message (fun () -> Tree.hessian f (tensor [ 1.0 ], tensor [ 1.0f ]) |> ignore)
            Expect.equal kind typeof<DTypeMismatchException> "mixed dtypes"
            Expect.stringContains text "hessian" "names the transformation"
            let kind2, text2 = message (fun () -> Tree.hvp f (tensor [ 1.0 ], tensor [ 1.0 ]) (tensor [ 1.0 ], tensor [ 1.0; 2.0 ]) |> ignore)
            Expect.equal kind2 typeof<ShapeMismatchException> "v of another shape"
            Expect.stringContains text2 "hvp" "names the transformation"
        testCase "stopGradient of a tree stops every leaf" <| fun () ->
            let a, b = tensor [ 2.0 ], tensor [ 3.0 ]
            let ga, gb = Tree.grad (fun (a: Tensor, b: Tensor) -> let a', b' = stopGradient (a, b) in (a * a' + b * b' * b').sum()) (a, b)
            expectClose 1e-12 ga a "only the first factor of a is differentiated"
            expectClose 1e-12 gb (b * b) "only the first factor of b is differentiated"
            let p = Params.ofList [ "w", tensor [ 1.5 ] ]
            let gp = Tree.grad (fun (q: Params) -> (q.["w"] * (stopGradient q).["w"]).sum()) p
            expectClose 1e-12 gp.["w"] (tensor [ 1.5 ]) "Params"
    ]

let inspection =
    testList "inspection" [
        testCase "values remember how they were computed" <| fun () ->
            let x = (tensor [ 1.0; 2.0 ]).RequiresGrad("x")
            let y = (tensor [ 3.0; 4.0 ]).RequiresGrad("y")
            let z = x + y
            Expect.equal z.GradFn.Operation "add" "creator"
            Expect.equal (z.GradFn.Inputs |> Seq.map (fun n -> n.Name) |> List.ofSeq) [ "x"; "y" ] "inputs"
            let out = (z * z).sum()
            Expect.stringContains (string out) "grad_fn=<sum>" "printed like PyTorch"
            let text = out.GradFn.ToText()
            Expect.stringContains text "mul(n2, n2)" "text graph"
            Expect.stringContains (out.GradFn.ToDot()) "->" "DOT"
            Expect.stringContains (out.GradFn.ToMermaid()) "flowchart" "Mermaid"
            let gs = out.Backward()
            expectClose 1e-12 gs.[x] (2.0 * (tensor [ 4.0; 6.0 ])) "dx"
        testCase "inside grad, intermediate values have a grad_fn" <| fun () ->
            let mutable seen = ""
            grad (fun (x: Tensor) -> let y = sin x in seen <- y.GradFn.Operation; y.sum()) (tensor [ 1.0 ]) |> ignore
            Expect.equal seen "sin" "grad_fn inside grad"
    ]

let longChain =
    testSequenced <| testList "long chains" [
        testCase "a chain of 10,000,000 scalar ops differentiates without stack overflow" <| fun () ->
            let x = scalar 1.0
            let g = grad (fun x -> let mutable y = x in (for _ in 1 .. 10_000_000 do y <- y * 1.0) ; y) x
            Expect.equal (g.item()) 1.0 "d/dx x*1*1*... = 1"
    ]

/// The backward pass recycles the large arrays only it could reach (ResultPool): results handed out must never change.
let recycling =
    // 40,000 float32 = 160 KB: above the pool's large-object threshold
    let large (seed: int) = Tensor.Randn([| 40_000 |], Generator(uint64 seed))
    testSequenced <| testList "recycled arrays of the backward pass" [
        testCase "gradients stay right and unchanged while later steps recycle arrays" <| fun () ->
            let f (x: Tensor) = (sin x * x).sum()
            let expected (x: Tensor) = cos x * x + sin x
            let xs = [ for s in 1 .. 5 -> large s ]
            let gs = [ for x in xs -> grad f x ]
            let copies = gs |> List.map (fun g -> g.ToArray<float32>())
            for _ in 1 .. 3 do grad f (large 9) |> ignore
            List.iteri2 (fun i (x, g: Tensor) (copy: float32[]) ->
                expectClose 1e-5 g (expected x) $"step {i}"
                Expect.sequenceEqual (g.ToArray<float32>()) copy $"step {i}'s gradient was not changed by later steps") (List.zip xs gs) copies
        testCase "a cotangent that a rule returns a view of, or hands to two inputs, is not recycled" <| fun () ->
            // reshape/transpose vjps return views of their cotangent; add's vjp gives one cotangent to both operands
            let f (x: Tensor) = ((x.Reshape(200, 200) * 2.0).T.Reshape(-1) * x).sum() + (exp (x + x) * x).sum()
            for s in 1 .. 3 do
                let x = large s
                let m = x.Reshape(200, 200)
                let expected = (4.0 * m.T).Reshape(-1) + 2.0 * exp (2.0 * x) * x + exp (2.0 * x)
                expectClose 1e-4 (grad f x) expected $"step {s}"
        testCase "a custom function's backward may keep its cotangent" <| fun () ->
            let kept = Collections.Generic.List<Tensor * float32[]>()
            let square = customFn "keepsG" (fun x -> x * x) (fun g x _ -> kept.Add((g, g.ToArray<float32>())); 2.0 * x * g) None
            for s in 1 .. 4 do
                let x = large s
                expectClose 1e-5 (grad (fun x -> (square (sin x) * x).sum()) x) (2.0 * sin x * cos x * x + sin x * sin x) $"step {s}"
            for (g, copy) in kept do Expect.sequenceEqual (g.ToArray<float32>()) copy "a cotangent the user kept"
        testCase "a convolutional network's gradients are the same on every repetition" <| fun () ->
            // conv, relu, max pooling and a linear layer: rules with many large temporaries (unfold, masks, casts)
            let g = Generator(3UL)
            let x = Tensor.Randn([| 8; 4; 32; 32 |], g)
            let ps = [| Tensor.Randn([| 8; 4; 3; 3 |], g) * 0.2; Tensor.Randn([| 10; 1800 |], g) * 0.02 |]
            let loss (p: Tensor[]) = ((x.conv2d(p.[0]).Relu().maxPool2d(2)).Reshape(8, 1800).MatMul(p.[1].T)).Square().Sum()
            let gradients () = let struct (_, gs) = Transform.ValueAndGrad(Func<Tensor[], Tensor> loss, ps) in gs
            let first = gradients ()
            let copies = first |> Array.map (fun t -> t.ToArray<float32>())
            for _ in 1 .. 3 do
                let again = gradients ()
                Array.iteri2 (fun i (a: Tensor) (c: float32[]) -> Expect.sequenceEqual (a.ToArray<float32>()) c $"gradient {i} on a repetition") again copies
            Array.iteri2 (fun i (a: Tensor) (c: float32[]) -> Expect.sequenceEqual (a.ToArray<float32>()) c $"the first gradient {i}, later") first copies
        testCase "optimizer steps recycle only their temporaries" <| fun () ->
            // Adam through Optim.step (which recycles the update's temporaries) against the formula written out
            let opt = Optim.adam 0.01
            let p0, gs = large 1, [ for s in 2 .. 5 -> large s ]
            let mutable p, state = p0, Optim.init opt p0
            let mutable q, m, v = p0, Tensor.ZerosLike p0, Tensor.ZerosLike p0
            let results = Collections.Generic.List<Tensor * float32[]>()
            gs |> List.iteri (fun i g ->
                let p', state' = Optim.step opt state p g
                p <- p'; state <- state'
                results.Add((p, p.ToArray<float32>()))
                let t = float (i + 1)
                m <- 0.9 * m + 0.1 * g
                v <- 0.999 * v + 0.001 * g * g
                q <- q - 0.01 * (m / (1.0 - 0.9 ** t)) / ((v / (1.0 - 0.999 ** t)).Sqrt() + 1e-8)
                expectClose 1e-5 p q $"step {i + 1}")
            for (r, copy) in results do Expect.sequenceEqual (r.ToArray<float32>()) copy "an earlier step's parameters, later"
        testCase "a rule call's temporaries all go back to the pool, and a full pool makes room for the newest length" <| fun () ->
            // lengths no other test rents; promoted to gen2 first, as arrays on the large object heap are (the pool
            // takes no gen0 array: under the tuned GC settings a large array starts there)
            let rent n = Backends.ResultPool.Rent<float32> n
            let promote () = GC.Collect(); GC.Collect()
            let previous = Backends.ResultPool.BeginLog()
            try
                let mark = Backends.ResultPool.LogMark
                let rented = [| for _ in 1 .. 5 -> rent 51_237 |]
                promote ()
                Expect.isTrue (Backends.ResultPool.RentedSince(mark, rented.[0], true)) "the rule's result was rented since the mark"
                let again = [| for _ in 1 .. 4 -> rent 51_237 |]
                for t in rented.[1..] do
                    Expect.isTrue (again |> Array.exists (fun a -> obj.ReferenceEquals(a, t))) "every temporary is handed out again"
                Expect.isFalse (again |> Array.exists (fun a -> obj.ReferenceEquals(a, rented.[0]))) "the result is not"
                // fill the pool with one length, then give back another: the older length makes room
                let filler = [| for _ in 1 .. int (Backends.ResultPool.CapacityBytes / (4L * 1_000_003L)) + 1 -> rent 1_000_003 |]
                let newest = rent 51_239
                promote ()
                for a in filler do Backends.ResultPool.Return a
                Backends.ResultPool.Return newest
                Expect.isTrue (obj.ReferenceEquals(rent 51_239, newest)) "the newest length is kept"
            finally
                Backends.ResultPool.EndLog previous
        testCase "results the program drops come back once the GC finds them unreachable; results it keeps never change" <| fun () ->
            // sin of 40,000 floats: a large result handed to the program. Half are kept (with a copy of their values
            // and their arrays), half dropped inside a function that has returned, so no local can keep them.
            let arrayOf (t: Tensor) = Backends.ResultPool.ArrayOf(t.Value)
            let x = large 21
            let kept = Collections.Generic.List<Tensor * float32[]>()
            let dropSome () =
                for i in 1 .. 8 do
                    let y = sin (x + float i)
                    if i % 2 = 0 then kept.Add((y, y.ToArray<float32>()))
            let before = Backends.ResultPool.Reclaimed
            dropSome ()
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect()
            Expect.isGreaterThanOrEqual (Backends.ResultPool.Reclaimed - before) 4L "the 4 dropped results came back"
            // new results take the dropped arrays, never a kept one; the kept values stay as they were
            let fresh = [ for i in 1 .. 12 -> cos (x * float i) ]
            let keptArrays = [ for (t, _) in kept -> arrayOf t ]
            for t in fresh do
                Expect.isFalse (keptArrays |> List.exists (fun a -> obj.ReferenceEquals(a, arrayOf t))) "a new result in a kept result's array"
            let all = keptArrays @ [ for t in fresh -> arrayOf t ]
            Expect.equal (all |> List.distinctBy (fun a -> Runtime.CompilerServices.RuntimeHelpers.GetHashCode a) |> List.length) all.Length "every live result has an array of its own"
            for (t, copy) in kept do Expect.sequenceEqual (t.ToArray<float32>()) copy "a kept result, after its neighbours' arrays were reused"
            List.iteri (fun i (t: Tensor) -> expectClose 1e-6 t (cos (x * float (i + 1))) $"new result {i + 1}") fresh
        testCase "four threads dropping and keeping results while collections run see only their own values" <| fun () ->
            // each thread keeps every third result with a copy of its values, drops the rest, and checks every kept
            // one after each step: a recycled array handed to a second owner while the first still held it would show
            let x = large 31
            let work (t: int) =
                let kept = Collections.Generic.List<Tensor * float32[]>()
                for step in 1 .. 30 do
                    let y = sin (x * float (t + 1) + float step)
                    if step % 3 = 0 then kept.Add((y, y.ToArray<float32>()))
                    if step % 10 = 0 then GC.Collect(2, GCCollectionMode.Forced, false)
                    for (k, copy) in kept do
                        if k.ToArray<float32>() <> copy then failwithf "thread %d, step %d: a kept result changed" t step
                kept.Count
            let counts = Array.Parallel.init 4 work
            Expect.equal counts [| 10; 10; 10; 10 |] "every thread kept its results"
        testCase "an array the engine gives back is disarmed: it never comes back a second time while in use" <| fun () ->
            // rent, give back (the engine's proof), rent again and hold it through collections: if the first
            // sentinel were still armed it would bring the array back to the pool while this test holds it
            let n = 51_241
            let a = Backends.ResultPool.Rent<float32> n
            GC.Collect(); GC.Collect() // promoted to gen2, as a large array is
            Backends.ResultPool.Return a
            let b = Backends.ResultPool.Rent<float32> n
            Expect.isTrue (obj.ReferenceEquals(a, b)) "the pool hands the array out again"
            for _ in 1 .. 3 do GC.Collect(); GC.WaitForPendingFinalizers()
            let others = [ for _ in 1 .. 4 -> Backends.ResultPool.Rent<float32> n ]
            Expect.isFalse (others |> List.exists (fun c -> obj.ReferenceEquals(b, c))) "an array in use was handed out again"
            GC.KeepAlive b
        testCase "the collection budget doubles while collections find little, falls back when they find much, and grows with what survives" <| fun () ->
            let half = Backends.ResultPool.CapacityBytes / 2L
            let next (budget, armedBefore, reclaimed, floor) = Backends.ResultPool.NextBudget(budget, armedBefore, reclaimed, floor)
            Expect.equal (next (half, 100L <<< 20, 10L <<< 20, half)) (2L * half) "a program that keeps its results: fewer collections"
            Expect.equal (next (1L <<< 30, 100L <<< 20, 0L, half)) (1L <<< 30) "at most 1 GiB"
            Expect.equal (next (4L * half, 100L <<< 20, 90L <<< 20, half)) (2L * half) "a program that drops them: back towards half the pool"
            Expect.equal (next (half, 100L <<< 20, 90L <<< 20, half)) half "never below half the pool"
            Expect.equal (next (half, 0L, 0L, half)) half "nothing armed before: unchanged"
            Expect.equal (next (half, 100L <<< 20, 90L <<< 20, 3L <<< 30)) (3L <<< 30) "6 GiB alive: a collection per 3 GiB at most"
            Expect.equal (next (half, 100L <<< 20, 10L <<< 20, 3L <<< 30)) (3L <<< 30) "the floor above the 1 GiB cap"
        testCase "traced backward passes (hvp) recycle nothing an outer tape holds" <| fun () ->
            let f (x: Tensor) = (sin x * x).sum()
            for s in 1 .. 3 do
                let x, v = large s, large (s + 10)
                expectClose 1e-4 (hvp f x v) ((2.0 * cos x - x * sin x) * v) $"step {s}"
    ]

/// Binary ops on a broadcast operand whose rows are contiguous or one value read it in place (CpuBackend.BinaryRows).
let broadcastRows =
    testList "binary ops on broadcast rows" [
        testCase "a row, or one value per row, broadcast without a copy gives the materialised operands' result" <| fun () ->
            let g = Generator(5UL)
            let dense (t: Tensor) =
                if t.DType = DType.Float64 then Tensor.FromArray(t.ToArray<float>(), t.Shape) else Tensor.FromArray(t.ToArray<float32>(), t.Shape)
            let check name (a: Tensor) (b: Tensor) (f: Tensor -> Tensor -> Tensor) =
                let bb = b.Expand(a.Shape)
                expectClose 1e-6 (f a bb) (f (dense a) (dense bb)) (name + ", broadcast second")
                expectClose 1e-6 (f bb a) (f (dense bb) (dense a)) (name + ", broadcast first")
            let x, bias = Tensor.Randn([| 8; 300 |], g), Tensor.Randn([| 300 |], g)
            check "a bias row over a batch" x bias (+)
            check "times a row" x bias (*)
            check "a row, Float64" (x.To(DType.Float64)) (bias.To(DType.Float64)) (-)
            check "pow by a row" (x.Abs() + 0.5) bias (fun a b -> a.Pow(b))
            let images, scale = Tensor.Randn([| 4; 3; 20; 20 |], g), Tensor.Randn([| 3; 1; 1 |], g)
            check "one value per channel" images scale (*)
            check "one value per channel, divided" images (scale.Abs() + 1.0) (/)
            let big, row = Tensor.Randn([| 64; 1024 |], g), Tensor.Randn([| 1024 |], g)
            check "rows split over threads" big row (+)
            let grad = Transform.Grad(Func<Tensor, Tensor>(fun b -> ((x + b) * (x - b)).Sum()), bias)
            expectClose 1e-4 grad (-16.0 * bias) "the gradient through broadcast rows"
    ]

/// Elementwise ops on rank-0 CPU values over constants are taped as records of numbers (Autodiff/Tape.cs), not as
/// nodes: the same derivatives as the node path (the same ops on shape [1]) at every order, inspection, the ready
/// callback, several threads recording on one tape.
let scalarTape =
    let draw (rng: Random) (d: Ops.OpDomain) =
        let v = d.Low + (d.High - d.Low) * rng.NextDouble()
        if abs v < d.AwayFromZero then (if v < 0.0 then -d.AwayFromZero - 0.1 else d.AwayFromZero + 0.1) else v
    // op applied, then a few more records that reuse its inputs, so that contributions accumulate
    let chain (op: Autodiff.OpEntry) (xs: Tensor[]) =
        let y = op.Apply.Invoke xs
        y * xs.[0] + sin y + xs.[xs.Length - 1] * 0.5
    testList "the scalar tape" [
        testCase "every elementwise op's gradient on rank-0 values equals the node path's (shape [1])" <| fun () ->
            let rng = Random(11)
            for op in Autodiff.OpRegistry.All |> Seq.filter (fun o -> not o.ZeroDerivative) do
                for dt, tol in [ DType.Float64, 1e-12; DType.Float32, 1e-5 ] do
                    let values = op.Domains |> Array.map (draw rng)
                    let scalars = values |> Array.map (fun v -> Tensor.Scalar(v, dt))
                    let vectors = scalars |> Array.map (fun t -> t.Reshape(1))
                    let struct (v0, g0) = Transform.ValueAndGrad(Func<Tensor[], Tensor> (chain op), scalars)
                    let struct (v1, g1) = Transform.ValueAndGrad(Func<Tensor[], Tensor> (fun xs -> (chain op xs).Sum()), vectors)
                    expectClose tol v0 (v1.Reshape()) $"{op.Name} {dt} value"
                    for i in 0 .. g0.Length - 1 do
                        Expect.equal g0.[i].DType dt $"{op.Name} {dt} gradient dtype"
                        expectClose tol g0.[i] (g1.[i].Reshape()) $"{op.Name} {dt} gradient {i} at %A{values}"
        testCase "second order through records: hessian and grad of grad equal the node path's" <| fun () ->
            let f (x: Tensor) = let mutable y = x in (for _ in 1 .. 5 do y <- y * x + sin y) ; y
            for x0 in [ 0.3; -1.2 ] do
                let h0 = hessian (fun x -> f x) (scalar x0)
                let h1 = hessian (fun x -> (f x).sum()) (tensor [ x0 ])
                expectClose 1e-10 (h0.Reshape(1, 1)) h1 "hessian (forward over reverse)"
                let gg0 = grad (fun x -> grad f x) (scalar x0)
                let gg1 = grad (fun x -> (grad (fun v -> (f v).sum()) x).sum()) (tensor [ x0 ])
                expectClose 1e-10 (gg0.Reshape(1)) gg1 "grad of grad (reverse over reverse)"
            Expect.equal ((grad (fun x -> x * grad (fun y -> x * y) (scalar 1.0)) (scalar 1.0)).item()) 2.0 "no perturbation confusion"
        testCase "a record is inspected like a node, and feeds ops that are not records" <| fun () ->
            let mutable text = ""
            let g =
                grad (fun x ->
                    let y = sin (x * x)
                    Expect.equal y.GradFn.Operation "sin" "creator of a record"
                    Expect.equal (y.GradFn.Inputs.[0].Operation) "mul" "its input's creator"
                    Expect.isTrue (obj.ReferenceEquals(y.GradFn.Inputs.[0].node, y.GradFn.Inputs.[0].node)) "one node per slot"
                    let z = Tensor.Stack([| y; x |], 0).sum() // stack is not a record: its parents are records viewed as nodes
                    text <- z.GradFn.ToText()
                    z) (scalar 0.7)
            Expect.stringContains text "sin(n1)" "text graph through records"
            expectClose 1e-12 g (scalar (cos 0.49 * 1.4 + 1.0)) "gradient through the boundary"
        testCase "a record's value reads like any tensor's, inside the call and after it escaped" <| fun () ->
            let mutable escaped = scalar 0.0
            let g =
                grad (fun x ->
                    let y = x * x + 1.0 // Float32 records (a double scalar takes the tensor's dtype)
                    Expect.equal (y.item()) 1.25 "item"
                    Expect.equal y.Numel 1 "numel"
                    Expect.equal y.Shape [||] "shape"
                    Expect.equal y.DType DType.Float32 "dtype"
                    Expect.stringContains (string y) "grad_fn=<add>" "printed"
                    Expect.sequenceEqual (y.Reshape(1, 1).ToArray<float32>()) [| 1.25f |] "a view of it"
                    escaped <- y
                    y * y) (Tensor.Scalar(0.5f))
            expectClose 1e-6 g (Tensor.Scalar(2.0f * 1.25f * 2.0f * 0.5f)) "gradient"
            expectClose 1e-6 (escaped * 2.0) (Tensor.Scalar(2.5f)) "the escaped value is the constant it became"
            Expect.isTrue (escaped * 2.0).IsConstant "no derivative after its call"
        testCase "the ready callback reports the gradients of rank-0 inputs" <| fun () ->
            let xs = [| scalar 0.5; scalar 2.0; scalar 3.0 |]
            let reported = Collections.Generic.Dictionary<int, float>()
            let struct (_, gs) =
                Transform.ValueAndGrad(Func<Tensor[], Tensor> (fun xs -> sin xs.[0] * xs.[1] + xs.[1]), xs, Action<int, Tensor> (fun i g -> reported.[i] <- g.item()))
            Expect.equal reported.Count 3 "every input reported"
            for i in 0 .. 2 do Expect.equal reported.[i] (gs.[i].item()) $"input {i}"
            Expect.floatClose Accuracy.veryHigh reported.[0] (cos 0.5 * 2.0) "d/dx0"
            Expect.floatClose Accuracy.veryHigh reported.[1] (sin 0.5 + 1.0) "d/dx1"
            Expect.equal reported.[2] 0.0 "unused input"
        testCase "several threads recording on one tape" <| fun () ->
            let g =
                grad (fun x ->
                    let parts = Array.zeroCreate<Tensor> 4
                    Parallel.For(0, 4, fun k ->
                        let mutable y = x
                        for _ in 1 .. 3000 do y <- y * 1.0 + sin y * 0.0 + x * 0.0
                        parts.[k] <- y * float (k + 1)) |> ignore
                    parts |> Array.reduce (+)) (scalar 0.25)
            Expect.floatClose Accuracy.veryHigh (g.item()) 10.0 "d/dx sum_k (k+1)·x"
    ]

let tests = testList "transformations" [ nesting; closedForms; conventions; identities; talk; api; trees; inspection; longChain; recycling; broadcastRows; scalarTape ]
