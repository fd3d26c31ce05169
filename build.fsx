// FunctionalAD build script (FAKE 5 targets):  dotnet fsi build.fsx -- -t <Target>
// Targets: Clean, Build, Test (default), Tour, Examples, Bench, Pack.
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

/// SourceLink needs the repository's remote URL (see Directory.Build.props): on when `git remote` names one.
let hasGitRemote =
    try
        let psi = Diagnostics.ProcessStartInfo("git", "remote", WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true)
        use p = Diagnostics.Process.Start psi
        let out = p.StandardOutput.ReadToEnd()
        p.WaitForExit()
        p.ExitCode = 0 && out.Trim() <> ""
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
    let fsiScript = fsiPackageScriptTest feed version
    // the uniquely versioned packages would pile up in the NuGet cache: drop them
    let cache = match Environment.GetEnvironmentVariable "NUGET_PACKAGES" with
                | null | "" -> Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".nuget", "packages")
                | p -> p
    if Directory.Exists cache then
        for d in Directory.GetDirectories(cache, "functionalad*") do
            let versioned = Path.Combine(d, version)
            if Directory.Exists versioned then Directory.Delete(versioned, true)
    result, fsiScript

Target.create "Test" (fun _ ->
    // F# property suite (Expecto) then the C# facade suite (xunit); one summary line for CI.
    let fsCode, fsOut = run "dotnet" (sprintf "run --project tests/FunctionalAD.Tests -c %s --no-build -- --summary" configuration)
    let csCode, csOut = run "dotnet" (sprintf "test tests/FunctionalAD.CSharp.Tests -c %s --no-build" configuration)
    // The examples are tested too: each printed "check: ...: ok" passes, a FAILED check or a crash fails.
    let tourCode, tourOut = run "dotnet" "fsi examples/tour.fsx"
    let csExCode, csExOut = run "dotnet" (sprintf "run --project examples/CSharp -c %s --no-build" configuration)
    let kitCode, kitOut = run "dotnet" "fsi examples/12-testing-your-gradients.fsx"
    let (pkgCode, pkgOut), (fsiOk, fsiDetail) = try packageTest () with e -> (1, e.Message), (false, e.Message)
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
    let passed = num expecto 2 + num xunit 2 + examplesPassed + num packaged 2 + (if fsiOk then 1 else 0)
    // a suite that crashed before reporting counts as one failure
    let failed =
        num expecto 4 + num expecto 5 + num xunit 1 + examplesFailed
        + num packaged 4 + num packaged 5
        + (if expecto.Success then 0 else 1) + (if xunit.Success then 0 else 1) + (if packaged.Success && pkgCode = 0 then 0 else 1)
        + (if fsiOk then 0 else 1)
    printfn "F#: %s" (if expecto.Success then expecto.Value else sprintf "no Expecto summary (exit code %d)" fsCode)
    printfn "C#: %s" (if xunit.Success then xunit.Value else sprintf "no xunit summary (exit code %d)" csCode)
    printfn "packages: %s" (if packaged.Success then packaged.Value else sprintf "the package test did not run to a summary (exit code %d)" pkgCode)
    printfn "package script (F#, the README's snippet in dotnet fsi): %s" (if fsiOk then "ok: " + fsiDetail else "FAILED: " + fsiDetail)
    printfn "examples: %d checks passed, %d failed (tour exit code %d, C# example exit code %d)" examplesPassed examplesFailed tourCode csExCode
    printfn "%d passed, %d failed" passed failed
    if failed > 0 || fsCode <> 0 || csCode <> 0 || pkgCode <> 0 then failwith "tests failed")

let scripts () =
    Directory.GetFiles(Path.Combine(root, "examples"), "*.fsx")
    |> Array.filter (fun f -> let n = Path.GetFileName f in not (n.StartsWith "_") && n <> "tour.fsx")
    |> Array.sort

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
"Build" ==> "Examples" |> ignore
"Build" ==> "Pack" |> ignore
"Build" ==> "Bench" |> ignore

Target.runOrDefaultWithArguments "Test"
