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
    ]

[<EntryPoint>]
let main argv = runTestsWithCLIArgs [] argv all
