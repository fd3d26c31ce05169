/// Bad input gets a clear exception naming the operation, the shapes/dtypes and what was expected.
module FunctionalAD.Tests.ErrorTests

open System
open Expecto
open FunctionalAD

let private throwsWith<'E when 'E :> exn> (parts: string list) (f: unit -> obj) =
    Expect.throwsT<'E> (f >> ignore) "should throw"
    let msg =
        try f () |> ignore; "" with :? 'E as e -> e.Message
    for p in parts do Expect.stringContains msg p (sprintf "message %A names %s" msg p)

let tests =
    testList "errors" [
        testCase "matmul names both shapes and the mismatch" <| fun () ->
            throwsWith<ShapeMismatchException> [ "matmul"; "[2,3]"; "[4,5]"; "3 != 4" ]
                (fun () -> box ((Tensor.zeros [ 2; 3 ]).matmul (Tensor.zeros [ 4; 5 ])))
        testCase "broadcasting failure names the op and shapes" <| fun () ->
            throwsWith<ShapeMismatchException> [ "add"; "[2,3]"; "[4]"; "not broadcastable" ]
                (fun () -> box (Tensor.zeros [ 2; 3 ] + Tensor.zeros [ 4 ]))
        testCase "reshape with the wrong element count" <| fun () ->
            throwsWith<ShapeMismatchException> [ "reshape"; "[2,3]"; "[4]" ] (fun () -> box ((Tensor.zeros [ 2; 3 ]).reshape 4))
        testCase "axis out of range" <| fun () ->
            throwsWith<TensorException> [ "sum"; "dimension 2"; "rank 2" ] (fun () -> box ((Tensor.zeros [ 2; 3 ]).sum 2))
        testCase "negative shape" <| fun () ->
            throwsWith<ShapeMismatchException> [ "zeros"; "[2,-1]"; "negative" ] (fun () -> box (Tensor.zeros [ 2; -1 ]))
            throwsWith<ShapeMismatchException> [ "zeros"; "[-1]" ] (fun () -> box (Tensor.zeros [ -1 ]))
            throwsWith<ShapeMismatchException> [ "ones"; "[-1]" ] (fun () -> box (Tensor.ones [ -1 ]))
            throwsWith<ShapeMismatchException> [ "full"; "[-3]" ] (fun () -> box (Tensor.full([ -3 ], 1.0)))
        testCase "data that does not fill the shape" <| fun () ->
            throwsWith<ShapeMismatchException> [ "tensor"; "5 values"; "[2,3]" ] (fun () -> box (Tensor.FromArray([| 1.0; 2.0; 3.0; 4.0; 5.0 |], 2, 3)))
        testCase "ragged nested lists" <| fun () ->
            throwsWith<ShapeMismatchException> [ "tensor"; "rectangular" ] (fun () -> box (tensor [ [ 1.0; 2.0 ]; [ 3.0 ] ]))
        testCase "transcendental functions refuse Bool" <| fun () ->
            throwsWith<DTypeMismatchException> [ "sin"; "Bool" ] (fun () -> box (sin (tensor [ true ])))
        testCase "item of a non-scalar" <| fun () ->
            throwsWith<ShapeMismatchException> [ "item"; "[3]" ] (fun () -> box ((Tensor.zeros [ 3 ]).item()))
        testCase "index out of range" <| fun () ->
            throwsWith<TensorException> [ "indexSelect"; "index 5"; "size 3" ] (fun () -> box ((Tensor.zeros [ 3 ]).IndexSelect(0, tensor [ 5L ])))
            throwsWith<TensorException> [ "index"; "index 3"; "dimension 0 of size 3" ] (fun () -> box ((Tensor.zeros [ 3 ]).[3]))
            throwsWith<TensorException> [ "select"; "index 3" ] (fun () -> box ((Tensor.zeros [ 3 ]).Select(0, 3)))
        testCase "an index past the second dimension names dimension 1" <| fun () ->
            let t = Tensor.zeros [ 2; 3 ]
            throwsWith<TensorException> [ "index 7"; "dimension 1 of size 3"; "[2,3]" ] (fun () -> box t.[0, 7])
            throwsWith<TensorException> [ "index -4"; "dimension 1 of size 3" ] (fun () -> box t.[1, -4])
            throwsWith<TensorException> [ "index 2"; "dimension 0 of size 2" ] (fun () -> box t.[2, 0])
        testCase "Optim.step refuses gradients of other names, naming both" <| fun () ->
            let p = Params.ofList [ "w", tensor [ 1.0 ]; "b", tensor [ 2.0 ] ]
            let g = Params.ofList [ "w", tensor [ 1.0 ]; "bias", tensor [ 2.0 ] ]
            let opt = Optim.sgd 0.1
            throwsWith<ArgumentException> [ "Optim.step"; "\"b\""; "\"bias\"" ] (fun () -> box (Optim.step opt (Optim.init opt p) p g))
        testCase "crossEntropy names itself, the class and the class count" <| fun () ->
            let logits = Tensor.zeros [ 2; 3 ]
            throwsWith<TensorException> [ "crossEntropy"; "class 5"; "3 classes" ] (fun () -> box (Loss.crossEntropy logits (tensor [ 5L; 0L ])))
            throwsWith<TensorException> [ "crossEntropy"; "class -1"; "3 classes" ] (fun () -> box (Loss.crossEntropy logits (tensor [ 0L; -1L ])))
            throwsWith<TensorException> [ "crossEntropy"; "class 3"; "3 classes" ]
                (fun () -> box (Loss.crossEntropyOptions Mean None None 0.0 logits (tensor [ 3L; 0L ])))
            throwsWith<TensorException> [ "nll"; "class 4"; "3 classes" ] (fun () -> box (Loss.nll logits (tensor [ 0; 4 ])))
            let msg = try Loss.crossEntropy logits (tensor [ 5L; 0L ]) |> ignore; "" with e -> e.Message
            Expect.isFalse (msg.Contains "gather") (sprintf "the internal gather stays hidden: %s" msg)
        testCase "crossEntropy with float class indices says indices must be integers" <| fun () ->
            throwsWith<DTypeMismatchException> [ "crossEntropy"; "must be integers"; "Float64" ]
                (fun () -> box (Loss.crossEntropy (Tensor.zeros [ 2; 3 ]) (tensor [ 1.0; 0.0 ])))
            // probabilities of the logits' shape are soft labels, still accepted
            Expect.isTrue (Double.IsFinite((Loss.crossEntropy (Tensor.zeros [ 2; 3 ]) (Tensor.full([ 2; 3 ], 1.0 / 3.0))).item())) "soft labels"
        testCase "grad of a non-scalar function says what to use instead" <| fun () ->
            throwsWith<ShapeMismatchException> [ "grad"; "[3]"; "jacobian" ] (fun () -> box (grad (fun (x: Tensor) -> x * 2.0) (Tensor.zeros [ 3; ] |> fun t -> t.toDtype DType.Float64)))
        testCase "diff of a non-scalar input" <| fun () ->
            throwsWith<ShapeMismatchException> [ "diff"; "scalar"; "[2]"; "jvp" ] (fun () -> box (diff sin (tensor [ 1.0; 2.0 ])))
        testCase "integer inputs cannot be differentiated" <| fun () ->
            throwsWith<DTypeMismatchException> [ "grad"; "floating point"; "Int32" ] (fun () -> box (grad (fun (x: Tensor) -> x.sum()) (tensor [ 1; 2 ])))
        testCase "jvp tangent of the wrong shape" <| fun () ->
            throwsWith<ShapeMismatchException> [ "jvp"; "[3]"; "[2]" ] (fun () -> box (jvp (fun (x: Tensor) -> x.sum()) (tensor [ 1.0; 2.0 ]) (tensor [ 1.0; 2.0; 3.0 ])))
        testCase "exceptions are ArgumentExceptions carrying the operation" <| fun () ->
            try (Tensor.zeros [ 2 ] + Tensor.zeros [ 3 ]) |> ignore; failtest "no throw"
            with :? ArgumentException as e ->
                Expect.equal (e :?> TensorException).Operation "add" "operation property"
        testCase "a failed operation leaves its inputs unchanged" <| fun () ->
            let x = tensor [ 1.0; 2.0 ]
            (try (x + Tensor.zeros [ 3 ]) |> ignore with _ -> ())
            Expect.sequenceEqual (x.toArray()) [| 1.0; 2.0 |] "unchanged"
    ]
