// Loads FunctionalAD into an F# script: `#load "_load.fsx"` then `open FunctionalAD`.
// Build first (`dotnet fsi build.fsx -- -t Build`); this references the Release build of src/FunctionalAD, whose
// bin folder holds every dependency (System.Numerics.Tensors, ...), and of src/FunctionalAD.Plotting (Plotly.NET, ...).
#r "../src/FunctionalAD/bin/Release/net10.0/System.Numerics.Tensors.dll"
#r "../src/FunctionalAD/bin/Release/net10.0/FunctionalAD.Core.dll"
#r "../src/FunctionalAD/bin/Release/net10.0/FunctionalAD.dll"
// charts (Plot.*): the FunctionalAD.Plotting package and its Plotly.NET dependencies
#r "../src/FunctionalAD.Plotting/bin/Release/net10.0/DynamicObj.dll"
#r "../src/FunctionalAD.Plotting/bin/Release/net10.0/Giraffe.ViewEngine.dll"
#r "../src/FunctionalAD.Plotting/bin/Release/net10.0/Newtonsoft.Json.dll"
#r "../src/FunctionalAD.Plotting/bin/Release/net10.0/Plotly.NET.dll"
#r "../src/FunctionalAD.Plotting/bin/Release/net10.0/FunctionalAD.Plotting.dll"

// Tensors, Params, models and optimizer states print well by themselves (ToString / StructuredFormatDisplay).

module Example =
    /// Prints a check; a failed check ends the script with exit code 1 (the examples run in CI).
    let check (name: string) (ok: bool) =
        printfn "check: %s: %s" name (if ok then "ok" else "FAILED")
        if not ok then exit 1

    /// Where examples write their charts.
    let output (file: string) = System.IO.Path.Combine(__SOURCE_DIRECTORY__, "output", file)

    let section (title: string) = printfn "\n=== %s ===" title
