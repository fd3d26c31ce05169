// 3. The gradient of sin over one period equals cos: with grad, and with the imperative Backward().
#load "_load.fsx"
open System
open FunctionalAD
open _load.Example

section "3. d/dx sin = cos"
let xs = Tensor.linspace (0.0, 2.0 * Math.PI, 25, DType.Float64)
let g = grad (fun x -> sum (sin x)) xs
let at = [ 0; 6; 12; 18; 24 ]  // 0, pi/2, pi, 3pi/2, 2pi
for i in at do printfn "x = %.4f  grad = %+.6f  cos x = %+.6f" (xs.[i].item ()) (g.[i].item ()) (cos (xs.[i].item ()))
let worst = (g - cos xs).Abs().max().item ()
check (sprintf "grad sin = cos everywhere (worst difference %.2e)" worst) (worst < 1e-12)

let tracked = xs.RequiresGrad "x"
let viaBackward = (sin tracked).sum().Backward().[tracked]
check "Backward() agrees" (((viaBackward - g).Abs().max().item ()) = 0.0)

Plot.lines [ "sin x", xs.toArray (), (sin xs).toArray (); "grad sin x", xs.toArray (), g.toArray (); "cos x", xs.toArray (), (cos xs).toArray () ]
|> Plot.title "sin x, its gradient and cos x (the gradient lies on cos: dashed over it)"
|> Plot.axes "x" "value"
|> Plot.save (output "03-sin-cos.html")
|> printfn "chart: %s"
