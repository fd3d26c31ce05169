// 12. Testing your own gradients with FunctionalAD.Testing: a layer with a hand-written backward, a property that
// finds a deliberately wrong backward (and shows the tiny counterexample it shrinks to), and the corrected layer
// passing. In a test project, reference the FunctionalAD.Testing package and put the properties in Expecto's
// testProperty (Expecto.FsCheck), FsCheck.Xunit or NUnit; here FsCheck runs them directly.
#load "_load.fsx"
#r "../src/FunctionalAD.Testing/bin/Release/net10.0/FsCheck.dll"
#r "../src/FunctionalAD.Testing/bin/Release/net10.0/FunctionalAD.Testing.dll"
open FsCheck
open FunctionalAD
open FunctionalAD.Testing
open _load.Example

section "12. Testing your gradients"

// A softplus layer, log(1 + eˣ), with a hand-written backward. The bug: the backward uses the output y where the
// formula needs the input x (σ(y) instead of σ(x)), a slip that type-checks and looks plausible.
let softplusWrong = customFn "softplus" (fun x -> log (1.0 + exp x)) (fun g x y -> g * sigmoid y) None
let softplus = customFn "softplus" (fun x -> log (1.0 + exp x)) (fun g x y -> g * sigmoid x) None

// Inputs: Float64 tensors of rank 0..3 and sizes 1..4 with values in [-3, 3]; they shrink toward fewer elements
// and simpler values (0, 1, -1, ...).
let inputs = Tensors.arb DType.Float64 (Values.between -3.0 3.0) Shapes.small

// One line per property: the layer's reverse gradient = finite differences, and its second derivative too.
let wrong = Prop.customGradientMatches inputs softplusWrong
let right = Prop.customGradientMatches inputs softplus

let config = Config.Quick.WithMaxTest(100).WithReplay(Some { Rnd = Rnd(12345UL, 67891UL); Size = None })
match Prop.counterexample config wrong with
| Some(args, message) ->
    let x = List.head args :?> Tensor
    let report = message.Split('\n') |> Array.takeWhile (fun l -> not (l.TrimStart().StartsWith "at FunctionalAD"))
    printfn "the wrong backward fails; FsCheck shrinks the input to x = %O\n%s" x (String.concat "\n" report)
    check "the property finds the wrong backward" true
    check "the counterexample has at most 2 elements" (x.Numel <= 2)
| None -> check "the property finds the wrong backward" false
check "the corrected backward passes 100 random inputs" (Prop.counterexample config right |> Option.isNone)

// The checks work on single values too, and throw CheckFailedException with a readable message in any framework.
Check.customGradient (fun x -> softplus x * x) (tensor [ 0.5; -1.5 ])
Check.allClose (softplus (tensor [ 0.0 ])) (tensor [ log 2.0 ])
check "Check.customGradient and Check.allClose accept the corrected layer" true
