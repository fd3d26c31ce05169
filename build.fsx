// FunctionalAD build script (FAKE 5 targets):  dotnet fsi build.fsx -- -t <Target>
// Targets: Clean, Build, Test (default), Data, Tour, Examples, Bench, Pack, Distributed (the MPI tests alone).
#r "nuget: Fake.Core.Target, 5.20.3"
#r "nuget: Fake.DotNet.Cli, 5.20.3"
// FAKE 5's own dependencies ask for versions the package source does not have (Microsoft.Build >= 16.4.0, ...), so a clean
// restore printed 22 NU1603 lines ("... was not found, ... was resolved instead"); these pin what NuGet resolved.
#r "nuget: Microsoft.Build, 16.6.0"
#r "nuget: Microsoft.Build.Framework, 16.6.0"
#r "nuget: Microsoft.Build.Tasks.Core, 16.6.0"
#r "nuget: Microsoft.Build.Utilities.Core, 16.6.0"
#r "nuget: NuGet.Frameworks, 5.11.0"
#r "nuget: NuGet.Protocol, 5.7.0"
#r "nuget: System.CodeDom, 4.5.0"
#r "nuget: System.Reactive, 5.0.0"
#r "nuget: System.Resources.Extensions, 7.0.0"
#r "nuget: System.Security.Cryptography.Pkcs, 7.0.0"
#r "nuget: System.Security.Cryptography.ProtectedData, 4.4.0"

open System
open System.IO
open System.Text.RegularExpressions
open Fake.Core
open Fake.Core.TargetOperators

let args = fsi.CommandLineArgs |> Array.skip 1 |> List.ofArray
Context.setExecutionContext (Context.RuntimeContext.Fake(Context.FakeExecutionContext.Create false "build.fsx" args))

let root = __SOURCE_DIRECTORY__
let configuration = "Release"

/// SourceLink needs the repository's hosted URL (see Directory.Build.props): on when a remote's URL is a web or ssh
/// address. A clone of a local folder (CI clones one) has a path for a remote, which SourceLink warns about on
/// every build.
let hasGitRemote =
    try
        let psi = Diagnostics.ProcessStartInfo("git", "remote -v", WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true)
        use p = Diagnostics.Process.Start psi
        let out = p.StandardOutput.ReadToEnd()
        p.WaitForExit()
        p.ExitCode = 0 && Regex.IsMatch(out, @"^\S+\s+(https?://|ssh://|git@)", RegexOptions.Multiline)
    with _ -> false

/// The text without ANSI escape sequences (colours, cursor moves).
let stripAnsi (s: string) = Regex.Replace(s, @"\x1B\[[0-9;?]*[A-Za-z]", "")

/// Runs a program in `directory`, echoing its output; returns (exit code, captured output).
let runIn (directory: string) (exe: string) (arguments: string) =
    let psi = Diagnostics.ProcessStartInfo(exe, arguments, WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true)
    psi.Environment.["DOTNET_CLI_TELEMETRY_OPTOUT"] <- "1"
    psi.Environment.["DOTNET_NOLOGO"] <- "1"
    if hasGitRemote then psi.Environment.["EnableSourceLink"] <- "true"
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
            // a log or pipe gets the text without the colour codes test runners and compilers write
            Console.WriteLine(if Console.IsOutputRedirected then stripAnsi e.Data else e.Data)
    p.OutputDataReceived.Add sink
    p.ErrorDataReceived.Add sink
    p.Start() |> ignore
    p.BeginOutputReadLine()
    p.BeginErrorReadLine()
    p.WaitForExit()
    p.ExitCode, out.ToString()

/// Runs a program in the repository's root, echoing its output; returns (exit code, captured output).
let run (exe: string) (arguments: string) = runIn root exe arguments

let dotnet arguments =
    let code, _ = run "dotnet" arguments
    if code <> 0 then failwithf "dotnet %s failed with exit code %d" arguments code


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

/// The F# package's README snippet as a newcomer runs it: a fresh script in a temporary folder outside the
/// repository that takes the packed packages from the local folder `feed` (`#i "nuget: <feed>"`,
/// `#r "nuget: FunctionalAD, <version>"`), run by dotnet fsi. Passes when the script runs to the end (its natural
/// `grad (fun x -> (x * x).sum()) ...` line compiled and gave 2x) and its output holds no warning (NU1605 for an
/// FSharp.Core floor above F# Interactive's, FS warnings, ...). Returns (passed, what was wrong).
let fsiPackageScriptTest (feed: string) (version: string) : bool * string =
    let readme = File.ReadAllText(Path.Combine(root, "src", "FunctionalAD", "README.md"))
    let snippet = Regex.Match(readme, "```fsharp\r?\n(.*?)```", RegexOptions.Singleline)
    if not snippet.Success then false, "src/FunctionalAD/README.md has no ```fsharp snippet"
    elif not (snippet.Groups.[1].Value.Contains "#r \"nuget: FunctionalAD\"") then false, "the README snippet does not start from #r \"nuget: FunctionalAD\""
    else
        let reference = sprintf "#i \"nuget: %s\"\n#r \"nuget: FunctionalAD, %s\"" feed version
        let check = "\nif g.toArray() <> [| 2.0; 4.0 |] then failwithf \"the natural grad line gave %O\" g\nprintfn \"package script: done\"\n"
        let script = snippet.Groups.[1].Value.Replace("#r \"nuget: FunctionalAD\"", reference) + check
        let dir = Path.Combine(Path.GetTempPath(), "functionalad-fsi-" + Guid.NewGuid().ToString("N"))
        Directory.CreateDirectory dir |> ignore
        try
            File.WriteAllText(Path.Combine(dir, "readme.fsx"), script)
            let code, out = runIn dir "dotnet" "fsi readme.fsx"
            let warnings = Regex.Matches(stripAnsi out, @"^.*\b(warning|NU\d{4}|FS\d{4})\b.*$", RegexOptions.Multiline ||| RegexOptions.IgnoreCase)
            if code <> 0 then false, sprintf "dotnet fsi exited with %d" code
            elif not (out.Contains "package script: done") then false, "the script did not run to its end"
            elif warnings.Count > 0 then false, sprintf "%d warning lines, the first: %s" warnings.Count (warnings.[0].Value.Trim())
            else true, "no warnings, the natural grad line compiled and gave 2x"
        finally
            try Directory.Delete(dir, true) with _ -> ()

/// A fresh C# console application (tests/PackageConsumerCSharp) that references only the packed FunctionalAD.CSharp
/// (Core comes with it) from `feed`: it subclasses Module and trains it. Its checks, each counted as a test: the build
/// prints no warning, the program's own "check:" lines pass, and the application's output folder holds no
/// FSharp.Core.dll and no Plotly.NET.dll (a C# app depends on language-neutral assemblies only).
let csharpPackageChecks (feed: string) (version: string) : (string * bool) list =
    let dir = Path.Combine(root, "tests", "PackageConsumerCSharp")
    for sub in [ "bin"; "obj" ] do
        if Directory.Exists(Path.Combine(dir, sub)) then Directory.Delete(Path.Combine(dir, sub), true)
    let buildCode, buildOut =
        run "dotnet" (sprintf "build tests/PackageConsumerCSharp/PackageConsumerCSharp.csproj -c %s -p:FunctionalADVersion=%s -p:RestoreAdditionalProjectSources=\"%s\"" configuration version feed)
    let warnings = Regex.Matches(buildOut, @": warning [A-Z]+[0-9]+") |> Seq.map (fun m -> m.Value) |> Seq.distinct |> List.ofSeq
    let output = Path.Combine(dir, "bin", configuration, "net10.0")
    let built = buildCode = 0 && File.Exists(Path.Combine(output, "PackageConsumerCSharp.dll"))
    let runCode, runOut = if built then run "dotnet" (sprintf "\"%s\"" (Path.Combine(output, "PackageConsumerCSharp.dll"))) else 1, ""
    let programChecks = Regex.Matches(runOut, @"^check: .*: (ok|FAILED)$", RegexOptions.Multiline) |> Seq.map (fun m -> m.Groups.[1].Value) |> List.ofSeq
    let absent (file: string) = built && not (File.Exists(Path.Combine(output, file)))
    [ "the C# app builds against the packages without warnings", buildCode = 0 && warnings.IsEmpty
      "a C# subclass of Module trains (the app's checks pass)", runCode = 0 && not programChecks.IsEmpty && List.forall ((=) "ok") programChecks
      "the C# app's output holds no FSharp.Core.dll", absent "FSharp.Core.dll"
      "the C# app's output holds no Plotly.NET.dll", absent "Plotly.NET.dll" ]

/// A user's Expecto project (tests/PackageConsumer) that references only the packed packages: pack them with a
/// version of their own into artifacts/package-test (so no earlier package in the NuGet cache can stand in),
/// restore from there plus the usual NuGet sources, build, run; then the C# application against the same feed
/// (csharpPackageChecks). Returns (exit code, output) of the F# project and the C# checks.
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
    let fsiScript = fsiPackageScriptTest feed version
    let csChecks = try csharpPackageChecks feed version with e -> [ sprintf "the C# package test ran (%s)" e.Message, false ]
    // the uniquely versioned packages would pile up in the NuGet cache: drop them
    let cache = match Environment.GetEnvironmentVariable "NUGET_PACKAGES" with
                | null | "" -> Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".nuget", "packages")
                | p -> p
    if Directory.Exists cache then
        for d in Directory.GetDirectories(cache, "functionalad*") do
            let versioned = Path.Combine(d, version)
            if Directory.Exists versioned then Directory.Delete(versioned, true)
    result, fsiScript, csChecks

/// The MPI tests (tests/FunctionalAD.Distributed.Tests, built by Build; needs MPICH: apt-get install mpich libmpich12).
/// Runs each mode of the test program alone (a world of one process, no MPI loaded) and under `mpirun.mpich -np N`,
/// counting its "check: ...: ok|FAILED" lines, then checks the failure modes from outside: a rank that throws, a rank
/// that stalls past the collective timeout, a world-size mismatch (exit code, time, message, processes left).
/// Returns (passed, failed).
let distributedTests () =
    let dll = sprintf "tests/FunctionalAD.Distributed.Tests/bin/%s/net10.0/FunctionalAD.Distributed.Tests.dll" configuration
    let mutable passed, failed = 0, 0
    let record name ok =
        printfn "check: %s: %s" name (if ok then "ok" else "FAILED")
        if ok then passed <- passed + 1 else failed <- failed + 1
    let count (what: string) (code: int, out: string) =
        let checks = Regex.Matches(out, @"^check: .*: (ok|FAILED)", RegexOptions.Multiline) |> Seq.map (fun m -> m.Groups.[1].Value) |> List.ofSeq
        let bad = checks |> List.filter ((<>) "ok") |> List.length
        passed <- passed + checks.Length - bad
        failed <- failed + bad
        if code <> 0 && bad = 0 then record (sprintf "%s exits with code 0 (it exited with %d)" what code) false
    let mpirun =
        Environment.GetEnvironmentVariable("PATH").Split(':')
        |> Array.map (fun d -> Path.Combine(d, "mpirun.mpich")) |> Array.tryFind File.Exists
    // a process whose command line holds token: one left behind by a failed job
    let leftBehind (token: string) =
        Directory.Exists "/proc" &&
        Directory.GetDirectories "/proc"
        |> Array.exists (fun d ->
            try Char.IsDigit(Path.GetFileName(d).[0]) && File.ReadAllText(Path.Combine(d, "cmdline")).Contains token with _ -> false)
    let timed f =
        let sw = Diagnostics.Stopwatch.StartNew()
        let r = f ()
        r, sw.Elapsed.TotalSeconds
    for mode in [ "allreduce"; "hook"; "loader" ] do count mode (run "dotnet" (sprintf "%s %s" dll mode))
    match mpirun with
    | None -> record "MPICH is installed (mpirun.mpich on PATH; Debian: apt-get install mpich libmpich12)" false
    | Some mpirun ->
        for np in [ 1; 2; 3 ] do count (sprintf "allreduce -np %d" np) (run mpirun (sprintf "-np %d dotnet %s allreduce" np dll))
        count "parity -np 2" (run mpirun (sprintf "-np 2 dotnet %s parity" dll))
        count "fit -np 2" (run mpirun (sprintf "-np 2 dotnet %s fit" dll))
        let token = Guid.NewGuid().ToString "N"
        let (code, out), seconds = timed (fun () -> run mpirun (sprintf "-np 2 dotnet %s throw 10 %s" dll token))
        record "a rank that throws at step 10 makes mpirun exit non-zero" (code <> 0)
        record (sprintf "... within 10 seconds (%.1f s)" seconds) (seconds < 10.0)
        record "... with the failing rank's message on stderr" (out.Contains "rank 1 of 2" && out.Contains "injected failure at step 10")
        Threading.Thread.Sleep 500
        record "... and no process left behind" (not (leftBehind token))
        let token = Guid.NewGuid().ToString "N"
        let (code, out), seconds = timed (fun () -> run mpirun (sprintf "-np 2 dotnet %s stall %s" dll token))
        record (sprintf "a rank stalled past the 2 s collective timeout aborts the job (exit code %d, %.1f s)" code seconds)
            (code <> 0 && seconds < 30.0 && out.Contains "barrier did not complete within 2 s")
        Threading.Thread.Sleep 500
        record "... and no process left behind" (not (leftBehind token))
        // Open MPI's launcher starting an MPICH program: the environment says 2, MPI says 1
        let code, out = run "env" (sprintf "OMPI_COMM_WORLD_SIZE=2 dotnet %s world" dll)
        record "a world-size mismatch (launcher 2, MPI 1) is an error" (code <> 0 && out.Contains "sees a world of 1")
    passed, failed

Target.create "Distributed" (fun _ ->
    let passed, failed = distributedTests ()
    printfn "%d passed, %d failed" passed failed
    if failed > 0 then failwith "distributed tests failed")

Target.create "Test" (fun _ ->
    // F# property suite (Expecto) then the C# facade suite (xunit); one summary line for CI.
    let fsCode, fsOut = run "dotnet" (sprintf "run --project tests/FunctionalAD.Tests -c %s --no-build -- --summary" configuration)
    let csCode, csOut = run "dotnet" (sprintf "test tests/FunctionalAD.CSharp.Tests -c %s --no-build" configuration)
    // The examples are tested too: each printed "check: ...: ok" passes, a FAILED check or a crash fails.
    let tourCode, tourOut = run "dotnet" "fsi examples/tour.fsx"
    let csExCode, csExOut = run "dotnet" (sprintf "run --project examples/CSharp -c %s --no-build" configuration)
    let kitCode, kitOut = run "dotnet" "fsi examples/12-testing-your-gradients.fsx"
    let (pkgCode, pkgOut), (fsiOk, fsiDetail), csPkgChecks =
        try packageTest () with e -> (1, e.Message), (false, e.Message), [ "the C# package test ran", false ]
    for name, ok in csPkgChecks do printfn "check: %s: %s" name (if ok then "ok" else "FAILED")
    let csPkgPassed = csPkgChecks |> List.filter snd |> List.length
    let csPkgFailed = csPkgChecks.Length - csPkgPassed
    let distPassed, distFailed = distributedTests ()
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
    let passed = num expecto 2 + num xunit 2 + examplesPassed + num packaged 2 + csPkgPassed + (if fsiOk then 1 else 0) + distPassed
    // a suite that crashed before reporting counts as one failure
    let failed =
        num expecto 4 + num expecto 5 + num xunit 1 + examplesFailed
        + num packaged 4 + num packaged 5 + csPkgFailed + distFailed
        + (if expecto.Success then 0 else 1) + (if xunit.Success then 0 else 1) + (if packaged.Success && pkgCode = 0 then 0 else 1)
        + (if fsiOk then 0 else 1)
    printfn "F#: %s" (if expecto.Success then expecto.Value else sprintf "no Expecto summary (exit code %d)" fsCode)
    printfn "C#: %s" (if xunit.Success then xunit.Value else sprintf "no xunit summary (exit code %d)" csCode)
    printfn "packages: %s" (if packaged.Success then packaged.Value else sprintf "the package test did not run to a summary (exit code %d)" pkgCode)
    printfn "package script (F#, the README's snippet in dotnet fsi): %s" (if fsiOk then "ok: " + fsiDetail else "FAILED: " + fsiDetail)
    printfn "C# package: %d checks passed, %d failed" csPkgPassed csPkgFailed
    printfn "examples: %d checks passed, %d failed (tour exit code %d, C# example exit code %d)" examplesPassed examplesFailed tourCode csExCode
    printfn "distributed (MPI): %d checks passed, %d failed" distPassed distFailed
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
"Data" ==> "Test" |> ignore
"Build" ==> "Tour" |> ignore
"Data" ==> "Tour" |> ignore
"Data" ==> "Examples" |> ignore
"Build" ==> "Examples" |> ignore
"Build" ==> "Pack" |> ignore
"Build" ==> "Bench" |> ignore
"Build" ==> "Distributed" |> ignore

Target.runOrDefaultWithArguments "Test"
