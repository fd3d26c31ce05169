// The tour of FunctionalAD: tensors, then gradients. Run with:  dotnet fsi build.fsx -- -t Tour
#load "_load.fsx"
open System
open FunctionalAD

let section title = printfn "\n=== %s ===" title

section "Tensors are immutable values"
let x = tensor [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
printfn "x =\n%O" x
printfn "shape %A, dtype %A, device %O" x.shape x.dtype x.device
let y = x + 1.0                      // a new tensor; x is unchanged (no in-place add_)
printfn "x + 1 =\n%O\nx is still\n%O" y x

section "Creation, reshape, broadcasting, matmul"
let r = Tensor.randn ([ 2; 3 ], seed = 42UL)
printfn "randn (seed 42) =\n%O" r
printfn "arange 6 |> reshape 3x2 =\n%O" ((Tensor.arange 6.0).reshape(3, 2))
let b = tensor [ 10.0; 20.0; 30.0 ]
printfn "x + [10; 20; 30] (broadcast over rows) =\n%O" (x + b)
printfn "x @ x.T =\n%O" (x.matmul x.T)

section "The .NET array bridge"
let arr = x.toArray2D ()
printfn "toArray2D: %A" arr
printfn "back from Array2D: %O" (tensor arr)

section "Gradients"
let f (x: Tensor) = sum (sin x * x)
let xs = tensor [ 0.0; 0.5; 1.0 ]
let g = grad f xs
printfn "grad (sum (sin x * x)) at %O\n  = %O\n  expected cos x * x + sin x = %O" xs g (cos xs * xs + sin xs)
let v, g2 = gradv f xs
printfn "value and gradient in one pass: %O, %O" v g2
printfn "second derivative of sin at 1: %O (= -sin 1 = %.4f)" (diffn 2 sin (scalar 1.0)) (-(Math.Sin 1.0))
printfn "hessian of sum x^3 at [1; 2]:\n%O" (hessian (fun x -> sum (x ** 3.0)) (tensor [ 1.0; 2.0 ]))
let ok = (g - (cos xs * xs + sin xs)).Abs().max().item() < 1e-12
printfn "\ncheck: gradient matches the closed form: %b" ok
if not ok then exit 1
