// 7. Define-by-run: ordinary F# control flow decides the computation on every call, and grad follows it.
#load "_load.fsx"
open FunctionalAD
open _load.Example

section "7. Define-by-run"
// The loop body depends on the data: halve while the norm is large, otherwise square; branch count varies.
let f (x: Tensor) =
    let mutable y = x
    let mutable steps = 0
    while (y.Abs().sum().item ()) > 1.0 && steps < 20 do
        y <- (if steps % 2 = 0 then y * 0.5 else sin y)
        steps <- steps + 1
    printfn "  f took %d data-dependent steps" steps
    sum (y * y)
let x = tensor [ 3.0; -1.0 ]
let g = grad f x
printfn "grad f %O = %O" x g
let small = tensor [ 0.3; 0.2 ]
printfn "grad f %O = %O (no loop iterations: the gradient of sum(x²) is 2x)" small (grad f small)
check "another input, another path" ((grad f small).toArray() = (2.0 * small).toArray())
let r = gradcheck f x
printfn "%O" r
check "gradient of data-dependent control flow" r.Passed

// Recursion works the same way.
let rec power (x: Tensor) n = if n = 0 then scalar 1.0 else x * power x (n - 1)
check "d/dx x^5 = 5x^4 at 2" ((grad (fun x -> power x 5) (scalar 2.0)).item () = 80.0)

printfn """
Define-and-run (TensorFlow 1, Theano) first builds a static graph with symbolic placeholders and special
control-flow nodes (tf.cond, tf.while_loop), then runs it; the graph cannot depend on values. FunctionalAD, like
PyTorch and JAX's eager mode, records the operations that actually ran: `if`, `while`, `match` and recursion are
just F#, and each call to `grad` differentiates the path this input took."""
