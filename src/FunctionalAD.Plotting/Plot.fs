namespace FunctionalAD

open System
open System.IO
open Plotly.NET

/// Charts with Plotly.NET (package FunctionalAD.Plotting, kept apart so the core F# package carries no charting
/// dependencies). Every chart has a title and axis labels, takes the width of the page it is shown in, and draws its
/// second and later series dashed, so a series that lies exactly on an earlier one (a gradient on its analytic
/// derivative) stays visible. Saved charts embed plotly.js, so the HTML renders offline.
module Plot =

    let private values (t: Tensor) = t.ToDoubleArray()

    /// Line patterns by series index: the first solid, the next ones dashed differently.
    let private dashes =
        [| StyleParam.DrawingStyle.Solid
           StyleParam.DrawingStyle.Dash
           StyleParam.DrawingStyle.Dot
           StyleParam.DrawingStyle.DashDot
           StyleParam.DrawingStyle.LongDash
           StyleParam.DrawingStyle.LongDashDot |]

    let private line (index: int) (name: string) (x: float[]) (y: float[]) =
        Chart.Line(x, y, Name = name, LineDash = dashes.[index % dashes.Length], LineWidth = 2.5)

    /// Title, axis labels and a width that follows the page: Plotly.NET gives every chart a fixed 600 px width,
    /// removed here, and plotly.js's responsive mode resizes the chart with the window.
    let private styled (title: string) (xLabel: string) (yLabel: string) (chart: GenericChart) =
        chart
        |> Chart.withTitle title
        |> Chart.withXAxisStyle (TitleText = xLabel)
        |> Chart.withYAxisStyle (TitleText = yLabel)
        |> Chart.withLayoutStyle (AutoSize = true, Height = 500)
        |> GenericChart.mapLayout (fun layout -> layout.RemoveProperty "width" |> ignore; layout)
        |> Chart.withConfig (Config.init (Responsive = true))

    /// Replaces the chart's title.
    let title (text: string) (chart: GenericChart) : GenericChart = chart |> Chart.withTitle text

    /// Replaces the chart's axis labels (x, then y).
    let axes (xLabel: string) (yLabel: string) (chart: GenericChart) : GenericChart =
        chart |> Chart.withXAxisStyle (TitleText = xLabel) |> Chart.withYAxisStyle (TitleText = yLabel)

    /// A line chart of several named series (name, x, y), titled "series" with axes "x" and "y" (change them with
    /// `Plot.title` and `Plot.axes`); the first series is solid, the others dashed.
    /// Throws ArgumentException when a series' x and y differ in length.
    let lines (series: (string * float[] * float[]) list) : GenericChart =
        for name, x, y in series do
            if x.Length <> y.Length then
                invalidArg (nameof series) (sprintf "Plot.lines: series '%s' has %d x values and %d y values; they must pair up" name x.Length y.Length)
        series
        |> List.mapi (fun i (name, x, y) -> line i name x y)
        |> Chart.combine
        |> styled "series" "x" "y"

    /// f over [lo, hi] (200 points) and its tangent line at x0, whose slope comes from reverse-mode AD; f maps a
    /// Float64 tensor elementwise.
    let functionWithTangent (f: Tensor -> Tensor) (x0: float) (lo: float, hi: float) : GenericChart =
        let xs = Tensor.Linspace(lo, hi, 200, DType.Float64)
        let ys = noGrad (fun () -> f xs)
        let slope = Transform.Grad(Func<Tensor, Tensor>(fun x -> (f x).Sum()), Tensor.Scalar x0).Item()
        let y0 = (f (Tensor.Scalar x0)).Item()
        let tangent = values xs |> Array.map (fun x -> y0 + slope * (x - x0))
        [ line 0 "f" (values xs) (values ys)
          line 1 (sprintf "tangent at %g (slope %.4f)" x0 slope) (values xs) tangent
          Chart.Point([ x0 ], [ y0 ], Name = "x0") ]
        |> Chart.combine
        |> styled (sprintf "f and its tangent at x = %g" x0) "x" "f(x)"

    /// The loss history of a training run (one value per epoch or step) on a log-scale y axis, where a falling loss
    /// stays readable over orders of magnitude; a linear axis when some loss is zero or negative (no logarithm).
    let lossCurve (history: float[]) : GenericChart =
        let positive = history.Length > 0 && history |> Array.forall (fun v -> v > 0.0)
        let chart =
            line 0 "loss" [| for i in 1 .. history.Length -> float i |] history
            |> styled "training loss" "epoch" (if positive then "loss (log scale)" else "loss")
        if positive then chart |> Chart.withYAxisStyle (AxisType = StyleParam.AxisType.Log) else chart

    /// The samples (x, y) as points and a fitted function as a line over them (x and y: [n] or [n; 1]).
    let scatterWithFit (x: Tensor) (y: Tensor) (fit: Tensor -> Tensor) : GenericChart =
        let xs = values x |> Array.sort
        let grid = Tensor.FromArray(xs, xs.Length, 1).To(x.DType)
        let fitted = noGrad (fun () -> fit grid) |> values
        [ Chart.Point(values x, values y, Name = "data")
          line 1 "fit" xs fitted ]
        |> Chart.combine
        |> styled "data and fit" "x" "y"

    /// A heatmap of a matrix (values.[row].[column]), each cell annotated with its value, row 0 at the top (a
    /// confusion matrix: true classes as rows, predictions as columns), titled "heatmap" with axes "column" and "row"
    /// (change them with `Plot.title` and `Plot.axes`). Throws ArgumentException when the labels do not match the
    /// matrix's rows and columns.
    let heatmap (rowLabels: string[]) (columnLabels: string[]) (values: float[][]) : GenericChart =
        if values.Length <> rowLabels.Length || values |> Array.exists (fun row -> row.Length <> columnLabels.Length) then
            invalidArg "values" (sprintf "Plot.heatmap: %d row labels and %d column labels for a matrix of %d rows of lengths %A"
                                     rowLabels.Length columnLabels.Length values.Length (values |> Array.map Array.length |> Array.distinct))
        let text = values |> Array.map (Array.map (fun v -> v.ToString("G4", Globalization.CultureInfo.InvariantCulture)))
        Chart.AnnotatedHeatmap(values, text, X = columnLabels, Y = rowLabels, ReverseYAxis = true)
        |> styled "heatmap" "column" "row"

    /// The chart as a complete HTML page with plotly.js embedded (no network needed to render it).
    let toHtml (chart: GenericChart) : string =
        chart
        |> Chart.withDisplayOptions (DisplayOptions.init (PlotlyJSReference = PlotlyJSReference.Full))
        |> GenericChart.toEmbeddedHTML

    /// Writes the chart as a self-contained HTML file (plotly.js embedded) and returns the full path; creates the
    /// folder when missing.
    let save (path: string) (chart: GenericChart) : string =
        let full = Path.GetFullPath path
        Directory.CreateDirectory(Path.GetDirectoryName full) |> ignore
        File.WriteAllText(full, toHtml chart)
        full

    /// Opens the chart in the default browser (a temporary page with plotly.js embedded, as `toHtml`).
    let show (chart: GenericChart) =
        chart |> Chart.withDisplayOptions (DisplayOptions.init (PlotlyJSReference = PlotlyJSReference.Full)) |> Chart.show
