/// The properties of examples/12-testing-your-gradients.fsx as a user's Expecto suite would write them, built
/// against the packed packages only.
module PackageConsumer.Program

open Expecto
open FsCheck
open FunctionalAD
open FunctionalAD.Testing

let softplusWrong = customFn "softplus" (fun x -> log (1.0 + exp x)) (fun g x y -> g * sigmoid y) None
let softplus = customFn "softplus" (fun x -> log (1.0 + exp x)) (fun g x y -> g * sigmoid x) None
let inputs = Tensors.arb DType.Float64 (Values.between -3.0 3.0) Shapes.small
let config = { FsCheckConfig.defaultConfig with maxTest = 100; replay = Some(12345UL, 67891UL, None) }

let tests =
    testList "a user's suite on the packed FunctionalAD.Testing" [
        testPropertyWithConfig config "the corrected softplus backward matches finite differences" (Prop.customGradientMatches inputs softplus)
        testPropertyWithConfig config "a plain composition's gradients match" (Prop.gradientsMatch inputs (fun x -> tanh x * x))
        testCase "the wrong backward is found, with a counterexample of at most 2 elements" <| fun () ->
            let quick = Config.Quick.WithMaxTest(100).WithReplay(Some { Rnd = Rnd(12345UL, 67891UL); Size = None })
            match Prop.counterexample quick (Prop.customGradientMatches inputs softplusWrong) with
            | Some(args, message) ->
                let x = List.head args :?> Tensor
                Expect.isLessThanOrEqual x.Numel 2 (sprintf "shrunk to %O" x)
                Expect.stringContains message "reverse-mode gradient" "the message says what differs"
            | None -> failtest "the wrong backward was not found"
        testCase "Check.allClose names the worst element" <| fun () ->
            Check.allClose (softplus (tensor [ 0.0 ])) (tensor [ log 2.0 ])
            let e = Expect.throwsC (fun () -> Check.allClose (tensor [ 1.0; 2.5 ]) (tensor [ 1.0; 2.0 ])) id
            Expect.stringContains e.Message "index [1]" "names the index"
    ]

[<EntryPoint>]
let main argv =
    // output to a file or pipe gets neither colours nor the progress spinner's escape codes
    let plain = if System.Console.IsOutputRedirected then [| "--colours"; "0"; "--no-spinner" |] else [||]
    runTestsWithCLIArgs [] (Array.append plain argv) tests
