/// scatter, scatterReduce, indexAdd, indexPut, bucketize and indexing by a tensor (t.[mask], t.[idx]) (issue 17):
/// PyTorch's documented examples and hand-computed values, derivatives at orders 1 and 2 against finite differences
/// (the testing kit's Check.gradientsN), tie splitting, and the error messages.
module FunctionalAD.Tests.ScatterTests

open System
open Expecto
open FunctionalAD
open FunctionalAD.Testing
open FunctionalAD.Tests.Support

let private values (t: Tensor) = t.ToDoubleArray()

// PyTorch's scatter_reduce example: input [1, 2, 3, 4], src [1..6], index [0, 1, 0, 1, 2, 1]
let private input = tensor [ 1.0; 2.0; 3.0; 4.0 ]
let private src = tensor [ 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 ]
let private index = tensor [ 0L; 1L; 0L; 1L; 2L; 1L ]

let private reduce r includeSelf = (input.ScatterReduce(0, index, src, r, includeSelf)) |> values

let private knownValues =
    testList "known values" [
        testCase "scatter, as PyTorch's documented example" <| fun () ->
            let s = Tensor.Arange(1.0, 11.0, 1.0, DType.Float64).Reshape(2, 5)
            let r = (Tensor.Zeros([| 3; 5 |], DType.Float64)).Scatter(0, tensor [ [ 0L; 1L; 2L; 0L ] ], s)
            Expect.sequenceEqual (values r) [| 1.0; 0.0; 0.0; 4.0; 0.0; 0.0; 2.0; 0.0; 0.0; 0.0; 0.0; 0.0; 3.0; 0.0; 0.0 |] "dim 0"
            let r1 = (Tensor.Zeros([| 2; 3 |], DType.Float64)).Scatter(1, tensor [ [ 2L; 0L ]; [ 1L; 1L ] ], 7.5)
            Expect.sequenceEqual (values r1) [| 7.5; 0.0; 7.5; 0.0; 7.5; 0.0 |] "dim 1 with a scalar (the repeated position is written once)"
            let last = (Tensor.Zeros([| 2 |], DType.Float64)).Scatter(0, tensor [ 1L; 1L ], tensor [ 5.0; 6.0 ])
            Expect.sequenceEqual (values last) [| 0.0; 6.0 |] "a repeated position takes the last value"
        testCase "scatterReduce, all reductions, with and without self" <| fun () ->
            Expect.sequenceEqual (reduce ScatterReduction.Sum true) [| 5.0; 14.0; 8.0; 4.0 |] "sum (PyTorch's docs)"
            Expect.sequenceEqual (reduce ScatterReduction.Sum false) [| 4.0; 12.0; 5.0; 4.0 |] "sum without self"
            Expect.sequenceEqual (reduce ScatterReduction.Amax false) [| 3.0; 6.0; 5.0; 4.0 |] "amax without self (PyTorch's docs)"
            Expect.sequenceEqual (reduce ScatterReduction.Amax true) [| 3.0; 6.0; 5.0; 4.0 |] "amax"
            Expect.sequenceEqual (reduce ScatterReduction.Amin true) [| 1.0; 2.0; 3.0; 4.0 |] "amin"
            Expect.sequenceEqual (reduce ScatterReduction.Amin false) [| 1.0; 2.0; 5.0; 4.0 |] "amin without self"
            Expect.sequenceEqual (reduce ScatterReduction.Prod true) [| 3.0; 96.0; 15.0; 4.0 |] "prod"
            Expect.sequenceEqual (reduce ScatterReduction.Prod false) [| 3.0; 48.0; 5.0; 4.0 |] "prod without self"
            expectClose 1e-15 (tensor (reduce ScatterReduction.Mean true)) (tensor [ 5.0 / 3.0; 3.5; 4.0; 4.0 ]) "mean"
            Expect.sequenceEqual (reduce ScatterReduction.Mean false) [| 2.0; 4.0; 5.0; 4.0 |] "mean without self"
            let ints = (tensor [ 1L; 2L ]).ScatterReduce(0, tensor [ 1L; 1L ], tensor [ 7L; -3L ], ScatterReduction.Amax)
            Expect.sequenceEqual (ints.ToArray<int64>()) [| 1L; 7L |] "Int64 amax"
            let ints = (tensor [ 1L; 2L ]).ScatterReduce(0, tensor [ 0L ], tensor [ 7L ], ScatterReduction.Amin, false)
            Expect.sequenceEqual (ints.ToArray<int64>()) [| 7L; 2L |] "Int64 amin without self"
        testCase "indexAdd, indexPut, bucketize" <| fun () ->
            let x = Tensor.Ones([| 3; 2 |], DType.Float64)
            let r = x.IndexAdd(0, tensor [ 2L; 0L; 2L ], tensor [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ]; [ 5.0; 6.0 ] ], 2.0)
            Expect.sequenceEqual (values r) [| 7.0; 9.0; 1.0; 1.0; 13.0; 17.0 |] "indexAdd accumulates, times alpha"
            let m = Tensor.Zeros([| 2; 3 |], DType.Float64)
            let put = m.IndexPut([| tensor [ 0L; 1L; -1L ]; tensor [ 2L; 0L; 0L ] |], tensor [ 1.0; 2.0; 3.0 ])
            Expect.sequenceEqual (values put) [| 0.0; 0.0; 1.0; 3.0; 0.0; 0.0 |] "indexPut: last write wins, negative from the end"
            let acc = m.IndexPut([| tensor [ 0L; 1L; -1L ]; tensor [ 2L; 0L; 0L ] |], tensor [ 1.0; 2.0; 3.0 ], true)
            Expect.sequenceEqual (values acc) [| 0.0; 0.0; 1.0; 5.0; 0.0; 0.0 |] "indexPut accumulate"
            let rows = m.IndexPut([| tensor [ 1L ] |], tensor [ 4.0; 5.0; 6.0 ])
            Expect.sequenceEqual (values rows) [| 0.0; 0.0; 0.0; 4.0; 5.0; 6.0 |] "indexPut of a row, values broadcast"
            let masked = m.IndexPut([| tensor [ [ true; false; true ]; [ false; false; true ] ] |], scalar 9.0)
            Expect.sequenceEqual (values masked) [| 9.0; 0.0; 9.0; 0.0; 0.0; 9.0 |] "indexPut with a Bool mask"
            let b = Tensor.Bucketize(tensor [ [ 1.0; 6.0 ]; [ 3.0; 9.0 ] ], tensor [ 1.0; 3.0; 5.0; 7.0; 9.0 ])
            Expect.sequenceEqual (b.ToArray<int64>()) [| 0L; 3L; 1L; 4L |] "bucketize (PyTorch's docs)"
            let br = Tensor.Bucketize(tensor [ [ 1.0; 6.0 ]; [ 3.0; 9.0 ] ], tensor [ 1.0; 3.0; 5.0; 7.0; 9.0 ], true)
            Expect.sequenceEqual (br.ToArray<int64>()) [| 1L; 3L; 2L; 5L |] "bucketize right"
        testCase "t.[mask] and t.[idx]" <| fun () ->
            let t = tensor [ [ 1.0; -2.0; 3.0 ]; [ -4.0; 5.0; -6.0 ] ]
            let sel = t.[t.Gt 0.0]
            Expect.sequenceEqual sel.Shape [| 3 |] "a mask of the tensor's shape gives 1-D"
            Expect.sequenceEqual (values sel) [| 1.0; 3.0; 5.0 |] "selected in row-major order"
            let rowsSel = t.[tensor [ false; true ]]
            Expect.sequenceEqual rowsSel.Shape [| 1; 3 |] "a mask of the leading dimension selects rows"
            let picked = t.[tensor [ [ 1L; -2L ]; [ -1L; 1L ] ]]
            Expect.sequenceEqual picked.Shape [| 2; 2; 3 |] "index shape then the remaining dims"
            Expect.sequenceEqual (values picked.[0, 1]) [| 1.0; -2.0; 3.0 |] "-2 counts from the end"
            Expect.sequenceEqual (values (t.[tensor [| 1; 0 |]])) [| -4.0; 5.0; -6.0; 1.0; -2.0; 3.0 |] "Int32 index"
            Expect.sequenceEqual (values t.[1]) [| -4.0; 5.0; -6.0 |] "an int index still selects a row"
            Expect.equal (t.[1, 2].item()) -6.0 "and two ints an element"
            Expect.sequenceEqual (values t.[0..0]) [| 1.0; -2.0; 3.0 |] "and a range slices"
    ]

let private derivatives =
    let self = tensor [ 0.5; -1.5; 2.0; 0.0 ]
    let source = tensor [ 1.2; -0.7; 0.3; 2.5; -1.1; 0.9 ]
    testList "derivatives" [
        testCase "scatterReduce: orders 1 and 2 equal finite differences (prod through a zero)" <| fun () ->
            for r in [ ScatterReduction.Sum; ScatterReduction.Mean; ScatterReduction.Prod; ScatterReduction.Amax; ScatterReduction.Amin ] do
                for includeSelf in [ true; false ] do
                    try
                        Check.gradientsN (fun xs -> (xs.[0].ScatterReduce(0, index, xs.[1], r, includeSelf) * tensor [ 1.0; 2.0; -1.0; 3.0 ]).Sum()) [| self; source |]
                    with e -> failtestf "%A includeSelf=%b: %s" r includeSelf e.Message
        testCase "scatter, indexAdd, indexPut, t.[mask], t.[idx]: orders 1 and 2" <| fun () ->
            let w = tensor [ [ 1.0; -2.0; 0.5 ]; [ 3.0; 1.5; -1.0 ] ]
            let x = tensor [ [ 0.3; -1.2; 2.0 ]; [ 0.7; 1.1; -0.4 ] ]
            let checks : (string * (Tensor[] -> Tensor)) list =
                [ "scatter", fun xs -> (xs.[0].Scatter(1, tensor [ [ 2L; 0L ]; [ 1L; 1L ] ], xs.[1].Narrow(1, 0, 2)) * w).Square().Sum()
                  "indexAdd", fun xs -> (xs.[0].IndexAdd(1, tensor [ 2L; 2L; 0L ], xs.[1].Narrow(0, 0, 2), 0.5) * w).Square().Sum()
                  "indexPut", fun xs -> (xs.[0].IndexPut([| tensor [ 1L; 0L; 1L ]; tensor [ 2L; 1L; 2L ] |], xs.[1].[0]) * w).Square().Sum()
                  "indexPut accumulate", fun xs -> (xs.[0].IndexPut([| tensor [ 1L; 0L; 1L ] |], xs.[1], true) * w.[0]).Square().Sum()
                  "t.[mask]", fun xs -> (xs.[0].[x.Gt 0.5] * xs.[1].Narrow(0, 0, 2).[x.Le 0.5]).Sum()
                  "t.[idx]", fun xs -> (xs.[0].[tensor [ -1L; 0L; 1L; 1L ]] * xs.[1].[tensor [ 1L; 1L; 0L; 0L ]]).Sum() ]
            let other = tensor [ [ 0.2; 0.4; -0.6 ]; [ 1.3; -0.8; 0.9 ]; [ 0.1; 0.5; 0.7 ] ]
            for name, f in checks do
                try Check.gradientsN f [| x; other |]
                with e -> failtestf "%s: %s" name e.Message
        testCase "amax and amin share ties equally between self and the sources, as PyTorch's" <| fun () ->
            let g = grad (fun (xs: Tensor) -> xs.Narrow(0, 0, 2).ScatterReduce(0, tensor [ 0L; 0L; 1L ], xs.Narrow(0, 2, 3), ScatterReduction.Amax).Sum()) (tensor [ 3.0; 1.0; 3.0; 3.0; 0.5 ])
            Expect.sequenceEqual (values g) [| 1.0 / 3.0; 1.0; 1.0 / 3.0; 1.0 / 3.0; 0.0 |] "three-way tie"
            let g = grad (fun (xs: Tensor) -> xs.Narrow(0, 0, 1).ScatterReduce(0, tensor [ 0L; 0L ], xs.Narrow(0, 1, 2), ScatterReduction.Amin, false).Sum()) (tensor [ 3.0; 1.0; 1.0 ])
            Expect.sequenceEqual (values g) [| 0.0; 0.5; 0.5 |] "without self"
        testCase "prod's derivative is exact with two zeros in a group" <| fun () ->
            let g = grad (fun (xs: Tensor) -> xs.Narrow(0, 0, 1).ScatterReduce(0, tensor [ 0L; 0L ], xs.Narrow(0, 1, 2), ScatterReduction.Prod).Sum()) (tensor [ 0.0; 0.0; 2.0 ])
            Expect.sequenceEqual (values g) [| 0.0; 0.0; 0.0 |] "two zeros: every derivative is 0, no NaN"
            let g = grad (fun (xs: Tensor) -> xs.Narrow(0, 0, 1).ScatterReduce(0, tensor [ 0L; 0L ], xs.Narrow(0, 1, 2), ScatterReduction.Prod).Sum()) (tensor [ 0.0; 5.0; 2.0 ])
            Expect.sequenceEqual (values g) [| 10.0; 0.0; 0.0 |] "one zero"
    ]

let private errors =
    let t = tensor [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]
    let message (f: unit -> Tensor) =
        try f () |> ignore; failtest "expected an exception" with :? TensorException as e -> e.Message
    testList "errors" [
        testCase "an index out of range names the value and the dimension's size" <| fun () ->
            let m = message (fun () -> t.[tensor [ 0L; 2L ]])
            Expect.stringContains m "index 2" "names the index"
            Expect.stringContains m "size 2" "names the size"
            Expect.stringContains (message (fun () -> t.[tensor [ -3L ]])) "index -3" "negative too"
            Expect.stringContains (message (fun () -> t.Scatter(0, tensor [ [ 5L ] ], t))) "index 5" "scatter"
            Expect.stringContains (message (fun () -> t.IndexAdd(1, tensor [ 2L ], t.Narrow(1, 0, 1)))) "index 2 is out of range for dimension 1 of size 2" "indexAdd"
            Expect.stringContains (message (fun () -> t.IndexPut([| tensor [ 0L ]; tensor [ 7L ] |], scalar 1.0))) "index 7 is out of range for dimension 1" "indexPut"
        testCase "a mask of the wrong shape, a float index, mismatched shapes" <| fun () ->
            let m = message (fun () -> t.[tensor [ true; false; true ]])
            Expect.stringContains m "mask of shape [3]" "names the mask's shape"
            Expect.stringContains m "[2,2]" "and the tensor's"
            Expect.throwsT<ShapeMismatchException> (fun () -> t.[tensor [ [ true; false ] ]] |> ignore) "a [1, 2] mask for [2, 2]"
            Expect.throwsT<DTypeMismatchException> (fun () -> t.[tensor [ 1.0 ]] |> ignore) "a float index"
            Expect.throwsT<ShapeMismatchException> (fun () -> t.IndexAdd(0, tensor [ 1L ], t) |> ignore) "indexAdd source shape"
            Expect.throwsT<ShapeMismatchException> (fun () -> t.Scatter(0, tensor [ [ 0L; 1L; 0L ] ], t) |> ignore) "index larger than source"
            Expect.throwsT<DTypeMismatchException> (fun () -> (tensor [ 1L ]).ScatterReduce(0, tensor [ 0L ], tensor [ 1L ], ScatterReduction.Mean) |> ignore) "integer mean"
    ]

let tests = testList "scatter and indexing" [ knownValues; derivatives; errors ]
