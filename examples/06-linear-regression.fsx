// 6. Linear regression on noisy y = 3x + 2: an nn.linear model, MSE, SGD. Once functionally (grad + Optim),
//    once imperatively (ZeroGrad / Backward / Step); both reach the same parameters.
#load "_load.fsx"
open FunctionalAD
open FunctionalAD.Imperative
open _load.Example

section "6. Linear regression"
let g = Generator 42UL
let x = Tensor.Rand([| 100; 1 |], g) * 4.0 - 2.0
let y = 3.0 * x + 2.0 + 0.3 * Tensor.Randn([| 100; 1 |], g)
let net = nn.linear 1 1

// Functional: parameters are values, training is a fold.
let p0, apply = Model.init 0UL net
printfn "before: w = %.4f, b = %.4f" (p0.["w"].item ()) (p0.["b"].item ())
let opt = Optim.sgd 0.1
let loss p = Loss.mse (apply p x) y
let (pFinal, _), history =
    ((p0, Optim.init opt p0), [ 1 .. 200 ])
    ||> List.mapFold (fun (p, s) _ ->
        let value, grads = Tree.gradv loss p
        value.item (), Optim.step opt s p grads)
    |> fun (h, state) -> state, h
printfn "after (functional): w = %.4f, b = %.4f, loss %.5f" (pFinal.["w"].item ()) (pFinal.["b"].item ()) (List.last history)

// Imperative, like the PyTorch tutorial.
let m = ModelModule(net, 0UL)
let sgd = Sgd(m.Parameters, 0.1)
for epoch in 1 .. 200 do
    sgd.ZeroGrad()
    let l = Loss.mse (m.Forward x) y
    l.Backward() |> ignore
    sgd.Step()
for np in m.NamedParameters() do printfn "after (imperative): %s = %.4f" np.Name (np.Parameter.Value.item ())

check "slope ~ 3" (abs (pFinal.["w"].item () - 3.0) < 0.1)
check "intercept ~ 2" (abs (pFinal.["b"].item () - 2.0) < 0.1)
check "both styles agree" (abs (m.Params.["w"].item () - pFinal.["w"].item ()) < 1e-5)
Plot.scatterWithFit x y (apply pFinal) |> Plot.save (output "06-fit.html") |> printfn "chart: %s"
Plot.lossCurve (Array.ofList history) |> Plot.save (output "06-loss.html") |> printfn "chart: %s"
