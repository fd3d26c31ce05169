// 2. Values remember how they were computed: the creator of z = x + y, and the whole graph.
#load "_load.fsx"
open FunctionalAD
open _load.Example

section "2. Values carry their history"
let x = (tensor [ 1.0; 2.0 ]).RequiresGrad "x"
let y = (tensor [ 3.0; 4.0 ]).RequiresGrad "y"
let z = x + y
printfn "z = %O" z
printfn "z was created by: %s, from %A" z.GradFn.Operation [ for i in z.GradFn.Inputs -> i.Name ]
let out = (z * z).mean ()
printfn "out = %O" out
printfn "graph of out:\n%s" (out.GradFn.ToText())
printfn "as Mermaid:\n%s" (out.GradFn.ToMermaid())
let grads = out.Backward()
printfn "d out / d x = %O (= z, since out = mean(z²) over 2 elements)" grads.[x]
check "creator of z is add" (z.GradFn.Operation = "add")
check "gradient" (grads.[x].toArray() = [| 4.0; 6.0 |])

// The functional way: no tracking flags, the transformation records what it needs.
let g = grad (fun x -> ((x + stopGradient y) ** 2.0).mean ()) (tensor [ 1.0; 2.0 ])
printfn "grad of the same function: %O" g
check "same gradient functionally" (g.toArray() = [| 4.0; 6.0 |])
