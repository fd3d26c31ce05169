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
        ConvKernelTests.tests
        ResamplingTests.tests
        LinalgTests.tests
        ChartTests.tests
        InteractiveTests.tests
        StateTests.tests
        ScatterTests.tests
        DistributionTests.tests
        LbfgsTests.tests
        AttentionTests.tests
    ]

/// Console text without ANSI escape sequences: Expecto writes colour resets even with `--colours 0`.
type private PlainWriter(inner: System.IO.TextWriter) =
    inherit System.IO.TextWriter()
    let mutable inEscape = false
    let plain (s: string) =
        let kept = System.Text.StringBuilder(s.Length)
        for c in s do
            if c = '\u001b' then inEscape <- true
            elif inEscape then (if System.Char.IsLetter c then inEscape <- false)
            else kept.Append c |> ignore
        kept.ToString()
    override _.Encoding = inner.Encoding
    override _.Write(c: char) = inner.Write(plain (string c))
    override _.Write(s: string) = if not (isNull s) then inner.Write(plain s)
    override w.Write(chars: char[], index: int, count: int) = w.Write(System.String(chars, index, count))
    override _.Flush() = inner.Flush()

[<EntryPoint>]
let main argv =
    match argv with
    | [| "--write-checkpoints-forever"; path |] -> PersistenceTests.writeForever path; 0 // the atomic-write test's child
    | _ ->
        // output to a file or pipe (CI logs, build.fsx) gets neither colours nor the progress spinner's escape codes
        let plain =
            if System.Console.IsOutputRedirected then
                System.Console.SetOut(new PlainWriter(System.Console.Out))
                [| "--colours"; "0"; "--no-spinner" |]
            else [||]
        runTestsWithCLIArgs [] (Array.append plain argv) all
