module FunctionalAD.Tests.Main

open Expecto

let all =
    testList "FunctionalAD" [
        TensorTests.tests
        ErrorTests.tests
        PrimitiveTests.tests
        KitTests.tests
        TransformTests.tests
        DualTests.tests
        ApiTests.tests
        GemmTests.tests
        GpuTests.tests
        NumericsTests.tests
        FuzzTests.tests
        OpTests.tests
        PersistenceTests.tests
        DataTests.tests
        ReaderTests.tests
        ConvTests.tests
        ResamplingTests.tests
        LinalgTests.tests
    ]

[<EntryPoint>]
let main argv =
    match argv with
    | [| "--write-checkpoints-forever"; path |] -> PersistenceTests.writeForever path; 0 // the atomic-write test's child
    | _ -> runTestsWithCLIArgs [] argv all
