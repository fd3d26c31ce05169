// 8. A small MLP classifier on two interleaved spirals, trained with Adam and Train.fit; > 95% accuracy.
#load "_load.fsx"
open System
open FunctionalAD
open _load.Example

section "8. MLP on two spirals"
let n = 200   // points per class
let g = Generator 7UL
let spiral cls =
    [| for i in 0 .. n - 1 ->
        let r = 0.2 + 0.8 * float i / float n
        let angle = 1.5 * Math.PI * float i / float n + (if cls = 1 then Math.PI else 0.0)
        [| r * cos angle + 0.02 * g.NextNormal(); r * sin angle + 0.02 * g.NextNormal() |] |]
let points = Array.append (spiral 0) (spiral 1)
let x = (Tensor.FromJagged points).toDtype DType.Float32
let y = Tensor.FromArray(Array.init (2 * n) (fun i -> if i < n then 0L else 1L))

let net = nn.mlp [ 2; 64; 64; 2 ] nn.tanh
let p0, apply = Model.init 1UL net
printfn "%O" p0
let config = { Train.defaults with Epochs = 60; BatchSize = 50; Optimizer = Optim.adam 0.01; Seed = 3UL }
let sw = Diagnostics.Stopwatch.StartNew()
let p, history = Train.fit config (fun p xb yb -> Loss.crossEntropy (apply p xb) yb) p0 x y
let accuracy = ((apply p x).argmax(1).Eq(y)).To(DType.Float32).Mean().item ()
printfn "trained %d epochs in %.1f s: loss %.4f -> %.4f, accuracy %.1f%%" config.Epochs sw.Elapsed.TotalSeconds history.[0] history.[history.Length - 1] (100.0 * accuracy)
check "accuracy > 95%" (accuracy > 0.95)
Plot.lossCurve history |> Plot.save (output "08-loss.html") |> printfn "chart: %s"
