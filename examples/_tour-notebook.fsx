// Writes examples/tour.ipynb, the Polyglot Notebook of the tour: the examples tour.fsx loads, in its order, each
// as a heading (its header comment) and code cells (its paragraphs), without the script-only lines (#load of
// _load.fsx, `open _load.Example`). Run after changing an example:  dotnet fsi examples/_tour-notebook.fsx
// The test "examples/tour.ipynb mirrors the tour" fails while the notebook is out of date.
open System
open System.IO
open System.Text.Json
open System.Text.Json.Nodes

module TourNotebook =
    /// The example scripts tour.fsx loads, in order.
    let examples (dir: string) =
        let tour = File.ReadAllText(Path.Combine(dir, "tour.fsx"))
        let line = tour.Split('\n') |> Array.find (fun l -> l.StartsWith "#load ")
        line.Substring(6).Split('"', StringSplitOptions.RemoveEmptyEntries)
        |> Array.map (fun s -> s.Trim()) |> Array.filter (fun s -> s.EndsWith ".fsx")

    /// Lines a script needs and a notebook must not have (the notebook's first cells stand for them).
    let scriptOnly (line: string) =
        let l = line.Trim()
        l.StartsWith "#load " || l = "open _load.Example"

    /// (heading, code paragraphs) of one example: its leading comment is the heading, the rest is split at blank lines.
    let split (text: string) =
        let lines = text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n')
        let header = lines |> Array.takeWhile (fun l -> l.StartsWith "//")
        let heading = header |> Array.map (fun l -> l.TrimStart('/').Trim()) |> String.concat " "
        let body = lines |> Array.skip header.Length |> Array.filter (scriptOnly >> not)
        let paragraphs =
            (body, [ [] ]) ||> Array.foldBack (fun l acc ->
                match acc with
                | current :: rest when String.IsNullOrWhiteSpace l -> if List.isEmpty current then acc else [] :: current :: rest
                | current :: rest -> (l :: current) :: rest
                | [] -> [ [ l ] ])
            |> List.filter (List.isEmpty >> not)
            // a paragraph of `open` lines only joins the next one
            |> List.fold (fun (acc, pending) p ->
                if p |> List.forall (fun (l: string) -> l.StartsWith "open ") then acc, pending @ p
                else acc @ [ pending @ p ], []) ([], [])
            |> fun (acc, pending) -> if List.isEmpty pending then acc else acc @ [ pending ]
            |> List.map (String.concat "\n")
        heading, paragraphs

    let private source (text: string) =
        let lines = text.Split('\n')
        JsonArray([| for i in 0 .. lines.Length - 1 -> JsonValue.Create(if i < lines.Length - 1 then lines.[i] + "\n" else lines.[i]) :> JsonNode |])

    let private markdown (text: string) =
        JsonObject(dict [ "cell_type", JsonValue.Create "markdown" :> JsonNode; "metadata", JsonObject(); "source", source text ])

    let private code (text: string) =
        let meta = JsonObject(dict [ "dotnet_interactive", JsonObject(dict [ ("language", JsonValue.Create "fsharp" :> JsonNode) ]) :> JsonNode
                                     "polyglot_notebook", JsonObject(dict [ ("kernelName", JsonValue.Create "fsharp" :> JsonNode) ]) ])
        JsonObject(dict [ "cell_type", JsonValue.Create "code" :> JsonNode; "execution_count", null; "metadata", meta
                          "outputs", JsonArray(); "source", source text ])

    let intro = """# The FunctionalAD tour

The examples of `examples/tour.fsx` in order, as a Polyglot Notebook (VS Code with the Polyglot Notebooks
extension). The first cell loads `FunctionalAD.Interactive`, whose formatters show tensors as tables (a heatmap for
matrices), `Params` as a table, models as their parameter tree and charts inline. To use this repository's build
instead of the published packages, pack it first (`dotnet fsi build.fsx -- -t Pack`) and add its `artifacts`
folder as a source in the first cell (`#i "nuget: <this repository>/artifacts"`).

Generated from the scripts by `examples/_tour-notebook.fsx`; each script is also runnable on its own."""

    let setup = """#r "nuget: FunctionalAD.Interactive, *-*"
open FunctionalAD

/// What the scripts' _load.fsx gives them: a printed check, the charts' folder, a section heading.
module Example =
    let check (name: string) (ok: bool) = printfn "check: %s: %s" name (if ok then "ok" else "FAILED")
    let output (file: string) = System.IO.Path.Combine("output", file)
    let section (title: string) = printfn "\n=== %s ===" title
open Example"""

    let display = [ "## Rich display\n\nThe last value of a cell is shown with the extension's formatters."
                    "tensor [ [ 1.0; -2.0; 3.0 ]; [ 4.0; 0.5; -6.0 ] ]   // shape, dtype, device, values as a heatmap"
                    "nn.mlp [ 2; 16; 1 ] tanh                           // the parameter tree"
                    "Plot.lossCurve [| 1.0; 0.3; 0.08; 0.02; 0.01 |]    // a chart, inline" ]

    /// The notebook as JSON text.
    let build (dir: string) =
        let cells = JsonArray()
        cells.Add(markdown intro)
        cells.Add(code setup)
        for file in examples dir do
            let heading, paragraphs = split (File.ReadAllText(Path.Combine(dir, file)))
            cells.Add(markdown (sprintf "## %s\n\n`examples/%s`" heading file))
            for p in paragraphs do cells.Add(code p)
        cells.Add(markdown display.Head)
        for c in display.Tail do cells.Add(code c)
        let kernelspec = JsonObject(dict [ "display_name", JsonValue.Create ".NET (F#)" :> JsonNode; "language", JsonValue.Create "F#"; "name", JsonValue.Create ".net-fsharp" ])
        let languageInfo = JsonObject(dict [ ("name", JsonValue.Create "polyglot-notebook" :> JsonNode) ])
        let kernelInfo = JsonObject(dict [ ("defaultKernelName", JsonValue.Create "fsharp" :> JsonNode) ])
        let metadata = JsonObject(dict [ "kernelspec", kernelspec :> JsonNode; "language_info", languageInfo; "polyglot_notebook", JsonObject(dict [ ("kernelInfo", kernelInfo :> JsonNode) ]) ])
        let notebook = JsonObject(dict [ "cells", cells :> JsonNode; "metadata", metadata; "nbformat", JsonValue.Create 4; "nbformat_minor", JsonValue.Create 2 ])
        notebook.ToJsonString(JsonSerializerOptions(WriteIndented = true)) + "\n"

if fsi.CommandLineArgs.Length > 0 && Path.GetFileName(fsi.CommandLineArgs.[0]) = "_tour-notebook.fsx" then
    let path = Path.Combine(__SOURCE_DIRECTORY__, "tour.ipynb")
    File.WriteAllText(path, TourNotebook.build __SOURCE_DIRECTORY__)
    printfn "wrote %s" path
