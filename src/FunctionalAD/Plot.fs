namespace FunctionalAD

open System
open System.IO
open Plotly.NET

/// Charts with Plotly.NET. Saved charts embed plotly.js, so the HTML works offline.
module Plot =

    let private values (t: Tensor) = t.ToDoubleArray()

    /// A line chart of several named series (x, y).
    let lines (series: (string * float[] * float[]) list) : GenericChart =
        series |> List.map (fun (name, x, y) -> Chart.Line(x, y, Name = name)) |> Chart.combine

    /// f over [lo, hi] and its tangent line at x0 (slope from `grad`).
    let functionWithTangent (f: Tensor -> Tensor) (x0: float) (lo: float, hi: float) : GenericChart =
        let xs = Tensor.Linspace(lo, hi, 200, DType.Float64)
        let ys = noGrad (fun () -> f xs)
        let slope = (grad (fun (x: Tensor) -> (f x).Sum()) (scalar x0)).Item()
        let y0 = (f (scalar x0)).Item()
        let tangent = xs.ToDoubleArray() |> Array.map (fun x -> y0 + slope * (x - x0))
        [ Chart.Line(values xs, values ys, Name = "f")
          Chart.Line(values xs, tangent, Name = sprintf "tangent at %g (slope %.4f)" x0 slope)
          Chart.Point([ x0 ], [ y0 ], Name = "x0") ]
        |> Chart.combine
        |> Chart.withTitle "function and tangent"

    /// The loss history of a training run.
    let lossCurve (history: float[]) : GenericChart =
        Chart.Line([ 1 .. history.Length ], history, Name = "loss")
        |> Chart.withXAxisStyle "epoch"
        |> Chart.withYAxisStyle "loss"
        |> Chart.withTitle "training loss"

    /// The samples (x, y) as points and a fitted function as a line over them (x and y: [n] or [n; 1]).
    let scatterWithFit (x: Tensor) (y: Tensor) (fit: Tensor -> Tensor) : GenericChart =
        let xs = values x |> Array.sort
        let grid = Tensor.FromArray(xs, xs.Length, 1).To(x.DType)
        let fitted = noGrad (fun () -> fit grid) |> values
        [ Chart.Point(values x, values y, Name = "data")
          Chart.Line(xs, fitted, Name = "fit") ]
        |> Chart.combine

    /// A heatmap of a matrix (values.[row].[column]), each cell annotated with its value, row 0 at the top (a
    /// confusion matrix: true classes as rows, predictions as columns). Throws ArgumentException when the labels do
    /// not match the matrix's rows and columns.
    let heatmap (rowLabels: string[]) (columnLabels: string[]) (values: float[][]) : GenericChart =
        if values.Length <> rowLabels.Length || values |> Array.exists (fun row -> row.Length <> columnLabels.Length) then
            invalidArg "values" (sprintf "Plot.heatmap: %d row labels and %d column labels for a matrix of %d rows of lengths %A"
                                     rowLabels.Length columnLabels.Length values.Length (values |> Array.map Array.length |> Array.distinct))
        let text = values |> Array.map (Array.map (fun v -> v.ToString("G4", Globalization.CultureInfo.InvariantCulture)))
        Chart.AnnotatedHeatmap(values, text, X = columnLabels, Y = rowLabels, ReverseYAxis = true)

    /// Writes the chart as a self-contained HTML file (plotly.js embedded) and returns the full path.
    let save (path: string) (chart: GenericChart) : string =
        let full = Path.GetFullPath path
        Directory.CreateDirectory(Path.GetDirectoryName full) |> ignore
        chart
        |> Chart.withDisplayOptions (DisplayOptions.init (PlotlyJSReference = PlotlyJSReference.Full))
        |> Chart.saveHtml full
        full

    /// Opens the chart in the default browser.
    let show (chart: GenericChart) = chart |> Chart.show
