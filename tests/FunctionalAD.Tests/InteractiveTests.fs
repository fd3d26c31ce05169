/// The notebook extension (FunctionalAD.Interactive): loaded as .NET Interactive loads it (the kernel extension on a
/// kernel, no Jupyter), then the HTML its formatters produce for tensors, Params, models and charts.
module FunctionalAD.Tests.InteractiveTests

open System.Text.RegularExpressions
open Expecto
open Microsoft.DotNet.Interactive
open Microsoft.DotNet.Interactive.Formatting
open FunctionalAD
open FunctionalAD.Interactive

/// Loads the extension once, on a fresh kernel, as a notebook's `#r "nuget: FunctionalAD.Interactive"` does.
let private loaded =
    lazy (
        use kernel = new CompositeKernel()
        (KernelExtension() :> IKernelExtension).OnLoadAsync(kernel).GetAwaiter().GetResult())

let private html (value: obj) =
    loaded.Force()
    Formatter.ToDisplayString(value, HtmlFormatter.MimeType)

let private count (pattern: string) (s: string) = Regex.Matches(s, pattern).Count

/// The repository's root (the folder with FunctionalAD.sln above the test's binaries).
let private repoRoot () =
    let rec up (d: System.IO.DirectoryInfo) =
        if isNull d then failwith "FunctionalAD.sln not found above the test binaries"
        elif System.IO.File.Exists(System.IO.Path.Combine(d.FullName, "FunctionalAD.sln")) then d.FullName
        else up d.Parent
    up (System.IO.DirectoryInfo System.AppContext.BaseDirectory)

let tests =
    testSequenced <| testList "notebook formatters" [
        testCase "examples/tour.ipynb mirrors the tour" <| fun () ->
            let dir = System.IO.Path.Combine(repoRoot (), "examples")
            let read f = System.IO.File.ReadAllText(System.IO.Path.Combine(dir, f))
            use nb = System.Text.Json.JsonDocument.Parse(read "tour.ipynb")
            let code =
                [ for c in nb.RootElement.GetProperty("cells").EnumerateArray() do
                    if c.GetProperty("cell_type").GetString() = "code" then
                        yield String.concat "" [ for l in c.GetProperty("source").EnumerateArray() -> l.GetString() ] ]
                |> String.concat "\n"
            Expect.stringContains code "#r \"nuget: FunctionalAD.Interactive" "the first cell loads the extension"
            let loads = (read "tour.fsx").Split('\n') |> Array.find (fun l -> l.StartsWith "#load ")
            let examples = loads.Substring(6).Split('"', System.StringSplitOptions.RemoveEmptyEntries) |> Array.filter (fun f -> f.Trim().EndsWith ".fsx")
            Expect.isGreaterThanOrEqual examples.Length 8 "the tour's examples"
            // every line of every example, in the tour's order, except the script-only ones
            let mutable at = 0
            for f in examples do
                for line in (read (f.Trim())).Replace("\r\n", "\n").Split('\n') do
                    let l = line.TrimEnd()
                    if l <> "" && not (l.StartsWith "//") && not (l.StartsWith "#load ") && l <> "open _load.Example" then
                        let i = code.IndexOf(l, at, System.StringComparison.Ordinal)
                        if i < 0 then failtestf "examples/tour.ipynb lacks (or has out of order) this line of %s:\n%s\nregenerate it: dotnet fsi examples/_tour-notebook.fsx" f l
                        at <- i + l.Length
        testCase "a matrix: shape, dtype, device, values and a heatmap" <| fun () ->
            let h = html (Tensor.FromArray([| 1.5; -2.0; 3.25; 4.0; 0.0; 10.0 |], 2, 3))
            Expect.stringContains h "shape <code>[2; 3]</code>" "shape"
            Expect.stringContains h "dtype <code>Float64</code>" "dtype"
            Expect.stringContains h "device <code>cpu</code>" "device"
            for v in [ ">1.5<"; ">-2<"; ">3.25<"; ">4<"; ">0<"; ">10<" ] do Expect.stringContains h v "every value"
            Expect.equal (count "background-color:rgb" h) 6 "each cell coloured"
            Expect.isMatch h @"background-color:rgb\(247,251,255\);color:#000"">-2<" "the smallest value is the lightest"
            Expect.isMatch h @"background-color:rgb\(8,48,107\);color:#fff"">10<" "the largest is the darkest"
        testCase "a vector is one row without heatmap; a scalar its value" <| fun () ->
            let h = html (Tensor.FromArray([| 1.0f; 2.0f; 3.0f |], 3))
            Expect.stringContains h "dtype <code>Float32</code>" "dtype"
            Expect.stringContains h ">3<" "values"
            Expect.equal (count "background-color" h) 0 "no heatmap for a vector"
            Expect.stringContains (html (Tensor.Scalar 2.5)) "<pre>2.5</pre>" "scalar"
        testCase "integers print exactly, booleans as words" <| fun () ->
            Expect.stringContains (html (Tensor.FromArray([| 9007199254740993L |], 1))) ">9007199254740993<" "Int64 beyond 2^53"
            Expect.stringContains (html (Tensor.FromArray([| true; false |], 2))) ">false<" "Bool"
        testCase "a large matrix shows its first and last rows and columns" <| fun () ->
            let t = Tensor.Arange(0.0, 1200.0, 1.0, DType.Float64).Reshape(30, 40)
            let h = html t
            Expect.stringContains h "shape <code>[30; 40]</code>" "the full shape"
            Expect.equal (count "<td style=\"padding" h) (16 * 16) "8 + 8 rows by 8 + 8 columns of values"
            Expect.stringContains h ">1199<" "the last value"
            Expect.stringContains h ">39</th>" "the last column's index"
            Expect.isFalse (h.Contains ">20<") "a middle value is cut"
            Expect.stringContains h "&hellip;" "the column cut is marked"
            Expect.stringContains h "&vellip;" "the row cut is marked"
        testCase "higher ranks show their text, escaped" <| fun () ->
            let h = html (Tensor.Zeros([| 2; 2; 2 |], DType.Float32))
            Expect.stringContains h "shape <code>[2; 2; 2]</code>" "shape"
            Expect.stringContains h "<pre>tensor([[[" "the tensor's text"
        testCase "Params: a table of name, shape, dtype, numel, with names escaped" <| fun () ->
            let p = Params.ofList [ "w<script>&", Tensor.Zeros([| 3; 4 |], DType.Float32); "b", Tensor.Zeros([| 4 |], DType.Float32) ]
            let h = html p
            Expect.stringContains h "<th>name</th><th>shape</th><th>dtype</th><th>numel</th>" "header"
            Expect.stringContains h "<code>w&lt;script&gt;&amp;</code>" "the name, escaped"
            Expect.isFalse (h.Contains "<script>") "no raw markup from a name"
            Expect.stringContains h "<code>[3; 4]</code>" "shape"
            Expect.stringContains h ">12</td>" "numel"
            Expect.stringContains h "2 tensors</th><th style=\"text-align:right\">16<" "totals"
        testCase "a model: its parameter tree" <| fun () ->
            let h = html (nn.mlp [ 3; 5; 2 ] tanh)
            Expect.stringContains h "<b>Model</b> &middot; 32 parameters in 4 tensors" "totals (3*5+5 + 5*2+2)"
            Expect.isGreaterThanOrEqual (count "<ul" h) 2 "nested lists: layers, then their tensors"
            Expect.stringContains h "<code>[3; 5]</code>" "first weight shape"
            Expect.stringContains h "<code>[2]</code>" "last bias shape"
        testCase "a module: its parameter tree" <| fun () ->
            let h = html (Imperative.ModelModule(nn.linear 2 3, 0UL))
            Expect.stringContains h "<b>Module</b> &middot; 9 parameters in 2 tensors" "totals"
        testCase "a chart is shown inline" <| fun () ->
            let h = html (Plot.lossCurve [| 1.0; 0.5 |])
            Expect.stringContains h "Plotly.newPlot" "the chart's script"
            Expect.stringContains h "training loss" "its title"
    ]
