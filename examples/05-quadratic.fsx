// 5. A quadratic: the gradient at a point is the analytic slope; plot the curve and its tangent.
#load "_load.fsx"
open FunctionalAD
open _load.Example

section "5. Quadratic"
let f (x: Tensor) = 3.0 * x ** 2.0 - 4.0 * x + 1.0      // f'(x) = 6x - 4
let x0 = 2.0
let slope = (grad f (scalar x0)).item ()
printfn "f'(%g) = %g (analytic 6x - 4 = %g)" x0 slope (6.0 * x0 - 4.0)
check "slope" (abs (slope - (6.0 * x0 - 4.0)) < 1e-12)
printfn "f''(x) = %g (diffn 2)" ((diffn 2 f (scalar x0)).item ())
Plot.functionWithTangent f x0 (-1.0, 4.0) |> Plot.save (output "05-quadratic.html") |> printfn "chart: %s"
