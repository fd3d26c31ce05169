// 4. A custom differentiable function (PyTorch's torch.autograd.Function): sin with a hand-written backward.
#load "_load.fsx"
open FunctionalAD
open _load.Example

section "4. Custom function"
let mySin =
    customFn "mySin"
        (fun x -> sin x)                          // forward
        (fun g x _ -> g * cos x)                  // backward: d sin = cos
        (Some(fun dx x _ -> dx * cos x))          // forward-mode rule (optional)
let x = tensor [ 0.1; 0.5; 1.0; 2.0 ]
printfn "mySin x = %O" (mySin x)
printfn "grad (sum mySin) = %O\ncos x            = %O" (grad (fun x -> sum (mySin x)) x) (cos x)
let r = gradcheck (fun x -> sum (mySin x)) x
printfn "%O" r
check "gradcheck of the custom function" r.Passed
// Its backward is made of differentiable ops, so higher derivatives work too.
let second = grad (fun x -> sum (grad (fun x -> sum (mySin x)) x)) x
check "second derivative = -sin" (((second + sin x).Abs().max().item ()) < 1e-12)
// A wrong backward is caught:
let broken = customFn "broken" sin (fun g x _ -> g * cos x * 1.01) None
let rb = gradcheck (fun x -> sum (broken x)) x
printfn "%O" rb
check "gradcheck catches a wrong backward" (not rb.Passed)
