// 11. Second-order optimization and Gaussian processes through linear algebra.
//     Newton's method on the Rosenbrock function: the step solves H·Δ = ∇f with the Hessian from `hessian` and
//     `linalg.solve`, converging to (1, 1) in a handful of steps. Then Gaussian-process regression: the kernel's
//     length scale is fitted by gradient ascent on the log marginal likelihood, differentiated through `cholesky`
//     and `choleskySolve`; the posterior mean and its ±2σ band are charted.
#load "_load.fsx"
open System
open FunctionalAD
open Plotly.NET
open _load.Example

section "11a. Newton's method on Rosenbrock"
/// f(x, y) = (1 - x)² + 100·(y - x²)², minimum 0 at (1, 1).
let rosenbrock (p: Tensor) =
    let x, y = p.[0], p.[1]
    (1.0 - x) ** 2.0 + 100.0 * (y - x ** 2.0) ** 2.0

let newtonPath =
    (Tensor.FromArray [| -1.2; 1.0 |], [ 0 .. 9 ])
    ||> List.scan (fun p _ -> p - linalg.solve (hessian rosenbrock p) (grad rosenbrock p))
let steps = newtonPath |> List.findIndex (fun p -> (grad rosenbrock p).Abs().Max().item () < 1e-10)
for i, p in List.indexed newtonPath.[.. steps] do
    printfn "step %d: (x, y) = (%.10f, %.10f), f = %.3e, |∇f| = %.3e" i (p.[0].item ()) (p.[1].item ()) ((rosenbrock p).item ()) ((grad rosenbrock p).Abs().Max().item ())
let solution = newtonPath.[steps]
check "Newton converges to (1, 1) in at most 10 steps" (steps <= 10 && (solution - 1.0).Abs().Max().item () < 1e-10)

section "11b. Gaussian-process regression"
let g = Generator 11UL
let n = 25
let xTrain = (Tensor.Rand([| n |], g) * 6.0).To DType.Float64
let truth (x: Tensor) = (2.0 * x).Sin() + 0.3 * x
let noise = 0.1
let yTrain = truth xTrain + noise * (Tensor.Randn([| n |], g)).To DType.Float64

/// The squared-exponential kernel exp(-(a - b)² / (2ℓ²)) between two sets of points.
let kernel (lengthScale: Tensor) (a: Tensor) (b: Tensor) =
    let d = a.Unsqueeze(1) - b.Unsqueeze(0)
    (-(d * d) / (2.0 * lengthScale * lengthScale)).Exp()

let eye = Tensor.Eye(n, dtype = DType.Float64)
/// log p(y | X, ℓ) = -½·yᵀK⁻¹y - Σ log Lᵢᵢ - n/2·log 2π with K = k(X, X) + σₙ²I = L·Lᵀ.
let logMarginal (logLength: Tensor) =
    let l = linalg.cholesky (kernel (logLength.Exp()) xTrain xTrain + noise * noise * eye)
    let alpha = linalg.choleskySolve (yTrain.Unsqueeze(1)) l
    -0.5 * (yTrain.Unsqueeze(1) * alpha).Sum() - (linalg.diagonal l).Log().Sum() - 0.5 * float n * log (2.0 * Math.PI)

// gradient ascent on θ = log ℓ, from a length scale far too long (ℓ = 3), with a step size that grows after an
// uphill step and halves (the step retried) after a downhill one
let theta0 = Tensor.FromArray([| log 3.0 |]).[0]
let fitted =
    ((theta0, 1e-3), [ 1 .. 40 ])
    ||> List.scan (fun (theta, rate) _ ->
        let gradient = grad logMarginal theta
        let rec attempt rate =
            let next = theta + rate * gradient
            if (logMarginal next).item () > (logMarginal theta).item () || rate < 1e-12 then next, rate * 2.0
            else attempt (rate * 0.5)
        attempt rate)
    |> List.map fst
let thetaFit = List.last fitted
for i in [ 0; 5; 10; 20; 30; 40 ] do
    let t = fitted.[i]
    printfn "step %2d: ℓ = %.4f, log p(y) = %.4f, d log p / d log ℓ = %.2e" i (t.Exp().item ()) ((logMarginal t).item ()) ((grad logMarginal t).item ())
let lFit = thetaFit.Exp()
check "the log marginal likelihood improves" ((logMarginal thetaFit).item () > (logMarginal theta0).item () + 1.0)
check "the length scale moves from 3 to a stationary point below 1.5" (lFit.item () < 1.5 && abs ((grad logMarginal thetaFit).item ()) < 1e-2)

// the posterior at test points: mean K*ᵀK⁻¹y, variance k** - ‖L⁻¹K*‖²
let xTest = Tensor.Linspace(0.0, 6.0, 200, DType.Float64)
let l = linalg.cholesky (kernel lFit xTrain xTrain + noise * noise * eye)
let kStar = kernel lFit xTrain xTest
let mean = (kStar * linalg.choleskySolve (yTrain.Unsqueeze(1)) l).Sum(0)
let v = linalg.solveTriangular false false l kStar
let std = (1.0 - (v * v).Sum(0)).Clamp(0.0, 1.0).Sqrt()
let rmse = ((mean - truth xTest) ** 2.0).Mean().Sqrt().item ()
printfn "fitted ℓ = %.4f; posterior mean vs the true function: RMSE %.4f" (lFit.item ()) rmse
check "the posterior mean follows the true function (RMSE < 0.15)" (rmse < 0.15)
let inBand = ((mean - truth xTest).Abs().Le(2.0 * std + noise)).To(DType.Float64).Mean().item ()
check "the true function lies within ±2σ (+σₙ) on at least 90% of the grid" (inBand >= 0.9)

let xs, m, s = xTest.ToDoubleArray(), mean.ToDoubleArray(), std.ToDoubleArray()
[ Chart.Range(xs, m, Array.map2 (fun a b -> a + 2.0 * b) m s, Array.map2 (fun a b -> a - 2.0 * b) m s,
              StyleParam.Mode.Lines, Name = "posterior mean ± 2σ")
  Chart.Line(xs, (truth xTest).ToDoubleArray(), Name = "true function", LineDash = StyleParam.DrawingStyle.Dash)
  Chart.Point(xTrain.ToDoubleArray(), yTrain.ToDoubleArray(), Name = "observations") ]
|> Chart.combine
|> Chart.withTitle (sprintf "Gaussian process, fitted length scale %.3f" (lFit.item ()))
|> Plot.save (output "11-gp.html")
|> printfn "chart: %s"
