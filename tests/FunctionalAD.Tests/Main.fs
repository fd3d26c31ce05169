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
        ChartTests.tests
        InteractiveTests.tests
        StateTests.tests
        ScatterTests.tests
        DistributionTests.tests
        LbfgsTests.tests
    ]

[<EntryPoint>]
let main argv =
    match argv with
    | [| "--write-checkpoints-forever"; path |] -> PersistenceTests.writeForever path; 0 // the atomic-write test's child
    | _ ->
        // output to a file or pipe (CI logs, build.fsx) gets neither colours nor the progress spinner's escape codes
        let plain = if System.Console.IsOutputRedirected then [| "--colours"; "0"; "--no-spinner" |] else [||]
        runTestsWithCLIArgs [] (Array.append plain argv) all
