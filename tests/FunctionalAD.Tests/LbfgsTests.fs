/// L-BFGS (issue 17): Rosenbrock to (1, 1), a quadratic in a few iterations, two iterations computed by hand with
/// exact fractions, trees of tensors, the stopping rules and the C# entry point.
module FunctionalAD.Tests.LbfgsTests

open System
open Expecto
open FunctionalAD
open FunctionalAD.Tests.Support

let private rosenbrock (x: Tensor) =
    let a, b = x.[0], x.[1]
    (1.0 - a).Square() + 100.0 * (b - a.Square()).Square()

let tests =
    testList "lbfgs" [
        testCase "Rosenbrock converges to (1, 1) in fewer than 100 iterations" <| fun () ->
            let r = Lbfgs.minimizeWith { Lbfgs.defaults with MaxIter = 100 } rosenbrock (tensor [ -1.5; 2.0 ])
            Expect.isLessThan r.Iterations 100 (sprintf "iterations (stopped by %s)" r.Reason)
            expectClose 1e-5 r.Minimizer (tensor [ 1.0; 1.0 ]) (sprintf "the minimizer (%d iterations, %s)" r.Iterations r.Reason)
            Expect.isLessThan r.Loss 1e-9 "the loss"
            Expect.equal r.Trace.Length (r.Iterations + 1) "one loss per iteration and the start"
            Expect.isTrue (r.Trace |> Array.pairwise |> Array.forall (fun (a, b) -> b <= a)) "the line search never increases the loss"
        testCase "a quadratic in a few iterations; a tuple of tensors" <| fun () ->
            let m = tensor [ [ 2.0; 0.3; 0.0 ]; [ 0.3; 1.0; 0.2 ]; [ 0.0; 0.2; 3.0 ] ]
            let a = m.MatMul(m.Transpose(0, 1)) + Tensor.Eye(3, Nullable(), DType.Float64)
            let b = tensor [ 1.0; -2.0; 0.5 ]
            let quad (x: Tensor) = 0.5 * x.Dot(a.MatMul(x)) - b.Dot(x)
            let exact = Linalg.Solve(a, b)
            let r = Lbfgs.minimize quad (tensor [ 0.0; 0.0; 0.0 ])
            Expect.isLessThanOrEqual r.Iterations 8 (sprintf "a few iterations (%s)" r.Reason)
            expectClose 1e-6 r.Minimizer exact "the solution of A x = b"
            // two blocks with different curvature, as a tuple: the tolerances on the change stop it near 1e-5
            let f (x: Tensor, y: Tensor) = quad x + quad (y * 2.0)
            let r = Lbfgs.minimizeWith { Lbfgs.defaults with MaxIter = 50 } f (tensor [ 0.0; 0.0; 0.0 ], tensor [ 1.0; 1.0; 1.0 ])
            let x, y = r.Minimizer
            expectClose 1e-4 x exact (sprintf "x (%d iterations, %s)" r.Iterations r.Reason)
            expectClose 1e-4 y (exact / 2.0) "y"
        testCase "two iterations without line search equal a hand computation" <| fun () ->
            // f = (x² + 10y²)/2 from (1, 1): t₁ = 1/‖g‖₁ = 1/11, then one two-loop step of length 1 (fractions by hand)
            let f (x: Tensor) = 0.5 * (x.[0].Square() + 10.0 * x.[1].Square())
            let cfg = { Lbfgs.defaults with StrongWolfe = false; MaxEval = Some 100 }
            let r1 = Lbfgs.minimizeWith { cfg with MaxIter = 2 } f (tensor [ 1.0; 1.0 ])
            let one = Lbfgs.minimizeWith { cfg with MaxIter = 1 } f (tensor [ 1.0; 1.0 ])
            expectClose 1e-15 one.Minimizer (tensor [ 10.0 / 11.0; 1.0 / 11.0 ]) "after one iteration"
            expectClose 1e-15 r1.Minimizer (tensor [ 8091900.0 / 10011001.0; -80919.0 / 10011001.0 ]) "after two"
        testCase "stopping rules and settings" <| fun () ->
            let r = Lbfgs.minimize (fun (x: Tensor) -> x.Square().Sum()) (tensor [ 0.0; 0.0 ])
            Expect.equal r.Reason "gradient tolerance" "already at the minimum"
            Expect.equal r.Iterations 0 "no iteration"
            let capped = Lbfgs.minimizeWith { Lbfgs.defaults with MaxIter = 3 } rosenbrock (tensor [ -1.5; 2.0 ])
            Expect.isTrue (capped.Reason = "max iterations" || capped.Reason = "max evaluations") capped.Reason
            Expect.throwsT<ArgumentException> (fun () -> Lbfgs.minimizeWith { Lbfgs.defaults with HistorySize = 0 } rosenbrock (tensor [ 0.0; 0.0 ]) |> ignore) "history 0"
        testCase "the C# entry point" <| fun () ->
            let r = LbfgsSolver.Minimize(Func<Tensor, Tensor>(fun x -> (x - 3.0).Square().Sum()), tensor [ 0.0; 1.0 ], maxIter = 30)
            expectClose 1e-9 r.Minimizer (tensor [ 3.0; 3.0 ]) "minimizer"
    ]
