// FunctionalAD build script (FAKE 5 targets):  dotnet fsi build.fsx -- -t <Target>
// Targets: Clean, Build, Test (default), Data, Tour, Examples, Bench, Pack.
#r "nuget: Fake.Core.Target, 5.20.3"
#r "nuget: Fake.DotNet.Cli, 5.20.3"

open System
open System.IO
open System.Text.RegularExpressions
open Fake.Core
open Fake.Core.TargetOperators

let args = fsi.CommandLineArgs |> Array.skip 1 |> List.ofArray
Context.setExecutionContext (Context.RuntimeContext.Fake(Context.FakeExecutionContext.Create false "build.fsx" args))

let root = __SOURCE_DIRECTORY__
let configuration = "Release"

/// Runs a program, echoing its output; returns (exit code, captured output).
let run (exe: string) (arguments: string) =
    let psi = Diagnostics.ProcessStartInfo(exe, arguments, WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true)
    psi.Environment.["DOTNET_CLI_TELEMETRY_OPTOUT"] <- "1"
    psi.Environment.["DOTNET_NOLOGO"] <- "1"
    // F# scripts run in FSI, whose runtime settings we do not own: give it the GC settings FunctionalAD's
    // applications get (see src/FunctionalAD.Core/build/FunctionalAD.Core.targets).
    psi.Environment.["DOTNET_GCLOHThreshold"] <- "0x4000000"
    psi.Environment.["DOTNET_gcServer"] <- "1"
    psi.Environment.["DOTNET_GCHeapCount"] <- "1"
    if OperatingSystem.IsLinux() then psi.Environment.["DOTNET_GCName"] <- "libclrgc.so"
    use p = new Diagnostics.Process(StartInfo = psi)
    let out = Text.StringBuilder()
    let sink (e: Diagnostics.DataReceivedEventArgs) =
        if not (isNull e.Data) then
            lock out (fun () -> out.AppendLine e.Data |> ignore)
            Console.WriteLine e.Data
    p.OutputDataReceived.Add sink
    p.ErrorDataReceived.Add sink
    p.Start() |> ignore
    p.BeginOutputReadLine()
    p.BeginErrorReadLine()
    p.WaitForExit()
    p.ExitCode, out.ToString()

let dotnet arguments =
    let code, _ = run "dotnet" arguments
    if code <> 0 then failwithf "dotnet %s failed with exit code %d" arguments code

let stripAnsi (s: string) = Regex.Replace(s, @"\x1B\[[0-9;?]*[A-Za-z]", "")

Target.create "Clean" (fun _ ->
    for dir in [ "src"; "tests"; "examples"; "bench"; "gpu" ] do
        if Directory.Exists(Path.Combine(root, dir)) then
            for d in Directory.GetDirectories(Path.Combine(root, dir), "*", SearchOption.AllDirectories) do
                let name = Path.GetFileName d
                if (name = "bin" || name = "obj") && Directory.Exists d then Directory.Delete(d, true)
    if Directory.Exists(Path.Combine(root, "artifacts")) then Directory.Delete(Path.Combine(root, "artifacts"), true))

Target.create "Build" (fun _ -> dotnet (sprintf "build FunctionalAD.sln -c %s" configuration))

/// The packages, as the Pack target makes them, in `output`; `version` overrides the package version (the built
/// assemblies are packed as they are: no rebuild).
let pack (output: string) (version: string option) =
    let v = match version with Some v -> sprintf " -p:PackageVersion=%s" v | None -> ""
    dotnet (sprintf "pack FunctionalAD.sln -c %s --no-build -o \"%s\"%s" configuration output v)

/// A user's Expecto project (tests/PackageConsumer) that references only the packed packages: pack them with a
/// version of their own into artifacts/package-test (so no earlier package in the NuGet cache can stand in),
/// restore from there plus the usual NuGet sources, build, run. Returns (exit code, output).
let packageTest () =
    let version = sprintf "0.1.0-packagetest.%s" (DateTime.UtcNow.ToString "yyyyMMddHHmmss")
    let feed = Path.Combine(root, "artifacts", "package-test")
    if Directory.Exists feed then Directory.Delete(feed, true)
    pack feed (Some version)
    let project = "tests/PackageConsumer/PackageConsumer.fsproj"
    let buildCode, buildOut =
        run "dotnet" (sprintf "build %s -c %s -p:FunctionalADVersion=%s -p:RestoreAdditionalProjectSources=\"%s\"" project configuration version feed)
    let result =
        if buildCode <> 0 then buildCode, buildOut
        else run "dotnet" (sprintf "tests/PackageConsumer/bin/%s/net10.0/PackageConsumer.dll --summary" configuration)
    // the uniquely versioned packages would pile up in the NuGet cache: drop them
    let cache = match Environment.GetEnvironmentVariable "NUGET_PACKAGES" with
                | null | "" -> Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".nuget", "packages")
                | p -> p
    if Directory.Exists cache then
        for d in Directory.GetDirectories(cache, "functionalad*") do
            let versioned = Path.Combine(d, version)
            if Directory.Exists versioned then Directory.Delete(versioned, true)
    result

Target.create "Test" (fun _ ->
    // F# property suite (Expecto) then the C# facade suite (xunit); one summary line for CI.
    let fsCode, fsOut = run "dotnet" (sprintf "run --project tests/FunctionalAD.Tests -c %s --no-build -- --summary" configuration)
    let csCode, csOut = run "dotnet" (sprintf "test tests/FunctionalAD.CSharp.Tests -c %s --no-build" configuration)
    // The examples are tested too: each printed "check: ...: ok" passes, a FAILED check or a crash fails.
    let tourCode, tourOut = run "dotnet" "fsi examples/tour.fsx"
    let csExCode, csExOut = run "dotnet" (sprintf "run --project examples/CSharp -c %s --no-build" configuration)
    let kitCode, kitOut = run "dotnet" "fsi examples/12-testing-your-gradients.fsx"
    let pkgCode, pkgOut = try packageTest () with e -> 1, e.Message
    let checks = Regex.Matches(tourOut + kitOut, @"^check: .*: (ok|FAILED)$", RegexOptions.Multiline) |> Seq.map (fun m -> m.Groups.[1].Value) |> List.ofSeq
    let examplesPassed = (checks |> List.filter ((=) "ok") |> List.length) + (if csExCode = 0 then 1 else 0)
    let tourFailed = checks |> List.filter ((=) "FAILED") |> List.length
    // a failed check also makes the tour exit non-zero; count the exit code only when no check said why
    let examplesFailed =
        tourFailed + (if (tourCode <> 0 || kitCode <> 0) && tourFailed = 0 then 1 else 0) + (if csExCode <> 0 then 1 else 0)
    let fsOut, csOut = stripAnsi fsOut, stripAnsi csOut
    let expecto = Regex.Match(fsOut, @"EXPECTO!\s+(\d+) tests run.*?(\d+) passed, (\d+) ignored, (\d+) failed, (\d+) errored")
    let xunit = Regex.Match(csOut, @"Failed:\s+(\d+), Passed:\s+(\d+), Skipped:\s+(\d+), Total:\s+(\d+)")
    let packaged = Regex.Match(stripAnsi pkgOut, @"EXPECTO!\s+(\d+) tests run.*?(\d+) passed, (\d+) ignored, (\d+) failed, (\d+) errored")
    let num (m: Match) (i: int) = if m.Success then int m.Groups.[i].Value else 0
    let passed = num expecto 2 + num xunit 2 + examplesPassed + num packaged 2
    // a suite that crashed before reporting counts as one failure
    let failed =
        num expecto 4 + num expecto 5 + num xunit 1 + examplesFailed
        + num packaged 4 + num packaged 5
        + (if expecto.Success then 0 else 1) + (if xunit.Success then 0 else 1) + (if packaged.Success && pkgCode = 0 then 0 else 1)
    printfn "F#: %s" (if expecto.Success then expecto.Value else sprintf "no Expecto summary (exit code %d)" fsCode)
    printfn "C#: %s" (if xunit.Success then xunit.Value else sprintf "no xunit summary (exit code %d)" csCode)
    printfn "packages: %s" (if packaged.Success then packaged.Value else sprintf "the package test did not run to a summary (exit code %d)" pkgCode)
    printfn "examples: %d checks passed, %d failed (tour exit code %d, C# example exit code %d)" examplesPassed examplesFailed tourCode csExCode
    printfn "%d passed, %d failed" passed failed
    if failed > 0 || fsCode <> 0 || csCode <> 0 || pkgCode <> 0 then failwith "tests failed")

let scripts () =
    Directory.GetFiles(Path.Combine(root, "examples"), "*.fsx")
    |> Array.filter (fun f -> let n = Path.GetFileName f in not (n.StartsWith "_") && n <> "tour.fsx")
    |> Array.sort

/// Fashion-MNIST's four IDX files, as the examples read them (data/ is git-ignored).
let fashionMnistFolder = Path.Combine(root, "data", "fashion-mnist")
let fashionMnistFiles =
    [ "train-images-idx3-ubyte.gz"; "train-labels-idx1-ubyte.gz"; "t10k-images-idx3-ubyte.gz"; "t10k-labels-idx1-ubyte.gz" ]

/// Runs a program quietly in a folder; returns (exit code, output) or None when the program does not exist.
let tryRunIn (dir: string) (exe: string) (arguments: string) =
    try
        let psi = Diagnostics.ProcessStartInfo(exe, arguments, WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true)
        use p = Diagnostics.Process.Start psi
        let out = p.StandardOutput.ReadToEndAsync()
        let err = p.StandardError.ReadToEnd()
        p.WaitForExit()
        Some(p.ExitCode, out.Result + err)
    with :? ComponentModel.Win32Exception -> None

Target.create "Data" (fun _ ->
    // Debian and Ubuntu package Fashion-MNIST (dataset-fashion-mnist): `apt-get download` fetches the .deb without
    // root and dpkg-deb unpacks it; the four files land in usr/share/datasets/fashion-mnist.
    let missing () = fashionMnistFiles |> List.filter (fun f -> not (File.Exists(Path.Combine(fashionMnistFolder, f))))
    if List.isEmpty (missing ()) then printfn "Fashion-MNIST: data/fashion-mnist holds the four files"
    else
        let manual =
            sprintf "Put the four Fashion-MNIST files (%s) into %s: from https://github.com/zalandoresearch/fashion-mnist (data/fashion), or on Debian/Ubuntu `apt-get download dataset-fashion-mnist` and `dpkg-deb -x` the package (they are in usr/share/datasets/fashion-mnist)."
                (String.concat ", " fashionMnistFiles) fashionMnistFolder
        let work = Path.Combine(Path.GetTempPath(), sprintf "functionalad-data-%d" (Diagnostics.Process.GetCurrentProcess().Id))
        Directory.CreateDirectory work |> ignore
        try
            let download () = tryRunIn work "apt-get" "download dataset-fashion-mnist"
            printfn "Fashion-MNIST: fetching the Debian package dataset-fashion-mnist (about 30 MB) into data/fashion-mnist"
            let fetched =
                match download () with
                | None -> failwithf "Fashion-MNIST: this machine has no apt-get. %s" manual
                | Some(0, _) -> true
                | Some _ ->
                    // the package lists may predate the package (or be empty, as in containers): refresh them (needs root)
                    match tryRunIn work "apt-get" "update -qq" with
                    | Some(0, _) -> (match download () with Some(0, _) -> true | _ -> false)
                    | _ -> false
            if not fetched then failwithf "Fashion-MNIST: `apt-get download dataset-fashion-mnist` failed (no such package in the apt sources, or no network; `apt-get update` needs root). %s" manual
            let deb = Directory.GetFiles(work, "dataset-fashion-mnist_*.deb") |> Array.exactlyOne
            match tryRunIn work "dpkg-deb" (sprintf "-x \"%s\" unpacked" deb) with
            | Some(0, _) -> ()
            | other -> failwithf "Fashion-MNIST: dpkg-deb could not unpack %s (%A). %s" deb (Option.map snd other) manual
            Directory.CreateDirectory fashionMnistFolder |> ignore
            for f in fashionMnistFiles do
                File.Copy(Path.Combine(work, "unpacked", "usr", "share", "datasets", "fashion-mnist", f), Path.Combine(fashionMnistFolder, f), true)
            printfn "Fashion-MNIST: %s" fashionMnistFolder
        finally
            Directory.Delete(work, true)
        if not (List.isEmpty (missing ())) then failwithf "Fashion-MNIST: still missing %A. %s" (missing ()) manual)

Target.create "Tour" (fun _ -> dotnet "fsi examples/tour.fsx")

Target.create "Examples" (fun _ ->
    for s in scripts () do
        printfn "==> %s" (Path.GetFileName s)
        dotnet (sprintf "fsi \"%s\"" s)
    dotnet (sprintf "run --project examples/CSharp -c %s" configuration))

Target.create "Bench" (fun _ ->
    // dotnet fsi drops the first "--"; what follows a second one goes to the bench: -t Bench -- --quick
    let extra = match args |> List.skipWhile ((<>) "--") with _ :: rest -> rest |> List.map (sprintf " %s") |> String.concat "" | [] -> ""
    dotnet (sprintf "run --project bench/FunctionalAD.Bench -c %s --%s" configuration extra))

// Every packable project of the solution (everything under src/: Core, FunctionalAD, CSharp, Gpu, Testing).
Target.create "Pack" (fun _ -> pack (Path.Combine(root, "artifacts")) None)

"Build" ==> "Test" |> ignore
"Build" ==> "Tour" |> ignore
"Data" ==> "Tour" |> ignore
"Data" ==> "Examples" |> ignore
"Build" ==> "Examples" |> ignore
"Build" ==> "Pack" |> ignore
"Build" ==> "Bench" |> ignore

Target.runOrDefaultWithArguments "Test"
