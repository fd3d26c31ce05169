/// The charts of FunctionalAD.Plotting: what their HTML declares (titles, axis labels, log axis, dashes, no fixed
/// width, plotly.js inline), and each chart kind rendered in a real headless browser (Debian's chromium), which fails
/// on a blank page or one with a JavaScript error.
module FunctionalAD.Tests.ChartTests

open System
open System.Diagnostics
open System.IO
open System.IO.Compression
open System.Text.RegularExpressions
open Expecto
open FunctionalAD

/// A minimal PNG reader (8-bit RGB or RGBA, not interlaced: what chromium's screenshots are).
module Png =
    let private be32 (b: byte[]) (i: int) = (int b.[i] <<< 24) ||| (int b.[i + 1] <<< 16) ||| (int b.[i + 2] <<< 8) ||| int b.[i + 3]

    /// (width, height, rgb) where rgb holds 3 bytes per pixel, row by row.
    let decode (png: byte[]) : int * int * byte[] =
        let signature = [| 137uy; 80uy; 78uy; 71uy; 13uy; 10uy; 26uy; 10uy |]
        if png.Length < 8 || png.[0..7] <> signature then failwith "not a PNG file"
        let mutable pos = 8
        let mutable width, height, colorType = 0, 0, 0
        use idat = new MemoryStream()
        let mutable fin = false
        while not fin && pos + 8 <= png.Length do
            let length = be32 png pos
            let kind = Text.Encoding.ASCII.GetString(png, pos + 4, 4)
            let data = pos + 8
            match kind with
            | "IHDR" ->
                width <- be32 png data
                height <- be32 png (data + 4)
                colorType <- int png.[data + 9]
                if png.[data + 8] <> 8uy || (colorType <> 2 && colorType <> 6) || png.[data + 12] <> 0uy then
                    failwithf "PNG: only 8-bit RGB/RGBA without interlacing is read (depth %d, colour type %d)" png.[data + 8] colorType
            | "IDAT" -> idat.Write(png, data, length)
            | "IEND" -> fin <- true
            | _ -> ()
            pos <- data + length + 4
        let bpp = if colorType = 6 then 4 else 3
        let stride = width * bpp
        idat.Position <- 0L
        use z = new ZLibStream(idat, CompressionMode.Decompress)
        use raw = new MemoryStream()
        z.CopyTo raw
        let raw = raw.ToArray()
        if raw.Length < height * (stride + 1) then failwith "PNG: image data shorter than its header says"
        let cur = Array.zeroCreate<byte> stride
        let prev = Array.zeroCreate<byte> stride
        let rgb = Array.zeroCreate<byte> (width * height * 3)
        for y in 0 .. height - 1 do
            let row = y * (stride + 1)
            let filter = raw.[row]
            for i in 0 .. stride - 1 do
                let x = raw.[row + 1 + i]
                let a = if i >= bpp then int cur.[i - bpp] else 0
                let b = int prev.[i]
                let c = if i >= bpp then int prev.[i - bpp] else 0
                let predictor =
                    match filter with
                    | 0uy -> 0
                    | 1uy -> a
                    | 2uy -> b
                    | 3uy -> (a + b) / 2
                    | 4uy ->
                        let p = a + b - c
                        let pa, pb, pc = abs (p - a), abs (p - b), abs (p - c)
                        if pa <= pb && pa <= pc then a elif pb <= pc then b else c
                    | f -> failwithf "PNG: unknown filter %d" f
                cur.[i] <- byte ((int x + predictor) &&& 0xFF)
            for px in 0 .. width - 1 do
                for ch in 0 .. 2 do
                    rgb.[(y * width + px) * 3 + ch] <- cur.[px * bpp + ch]
            Array.blit cur 0 prev 0 stride
        width, height, rgb

/// Headless chromium, when installed.
module Browser =
    let executable =
        lazy (
            let dirs = (Environment.GetEnvironmentVariable "PATH" |> Option.ofObj |> Option.defaultValue "").Split(':')
            [ "chromium"; "chromium-browser"; "google-chrome" ]
            |> List.tryPick (fun name -> dirs |> Array.map (fun d -> Path.Combine(d, name)) |> Array.tryFind File.Exists))

    /// Runs the browser headless on a file with extra arguments; returns its standard output.
    let run (extra: string list) (file: string) : string =
        let exe = executable.Force() |> Option.defaultWith (fun () -> failwith "chromium is not installed")
        let profile = Path.Combine(Path.GetTempPath(), "fad-chromium-" + Guid.NewGuid().ToString("N"))
        let psi = ProcessStartInfo(exe, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
        for a in [ "--headless"; "--no-sandbox"; "--disable-gpu"; "--disable-dev-shm-usage"; "--hide-scrollbars"
                   "--user-data-dir=" + profile ] @ extra @ [ Uri(file).AbsoluteUri ] do
            psi.ArgumentList.Add a
        try
            use p = Process.Start psi
            let err = p.StandardError.ReadToEndAsync()
            let out = p.StandardOutput.ReadToEndAsync()
            if not (p.WaitForExit 120_000) then
                p.Kill true
                failwithf "chromium did not finish within 120 s on %s" file
            if p.ExitCode <> 0 then failwithf "chromium exited with %d: %s" p.ExitCode err.Result
            out.Result
        finally
            try Directory.Delete(profile, true) with _ -> ()

/// What the browser made of a page.
type Rendered =
    { /// JavaScript errors the page raised (uncaught exceptions, scripts or resources that failed to load).
      Errors: string list
      /// The DOM after the scripts ran.
      Dom: string
      /// Share of screenshot pixels that are neither the white page nor the plot area's background.
      Ink: float
      /// Pixels in the first trace's colour (plotly's #636efa).
      FirstTracePixels: int }

/// Records errors on the page's root element, where --dump-dom shows them; put before every other script.
let private errorCatcher =
    """<script>(function(){function note(m){var r=document.documentElement;r.setAttribute('data-page-errors',(r.getAttribute('data-page-errors')||'')+m+'; ');}
window.addEventListener('error',function(e){note(e.message||('failed to load '+((e.target&&(e.target.src||e.target.href))||'a resource')));},true);
window.addEventListener('unhandledrejection',function(e){note('unhandled rejection: '+e.reason);});})();</script>"""

let windowWidth, windowHeight = 1200, 700

/// Renders a page in headless chromium: the DOM after its scripts ran, and a screenshot's pixels.
let render (html: string) : Rendered =
    let dir = Path.Combine(Path.GetTempPath(), "fad-charts-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory dir |> ignore
    try
        let page = Path.Combine(dir, "page.html")
        let at = html.IndexOf("<head>", StringComparison.OrdinalIgnoreCase)
        let withCatcher = if at >= 0 then html.Insert(at + 6, errorCatcher) else errorCatcher + html
        File.WriteAllText(page, withCatcher)
        let size = sprintf "--window-size=%d,%d" windowWidth windowHeight
        let shot = Path.Combine(dir, "shot.png")
        // one run: the DOM once the scripts ran (virtual time lets timers finish), and a screenshot
        let dom = Browser.run [ size; "--virtual-time-budget=10000"; "--screenshot=" + shot; "--dump-dom" ] page
        let w, h, rgb = Png.decode (File.ReadAllBytes shot)
        let near (r: int, g: int, b: int) i = abs (int rgb.[i] - r) + abs (int rgb.[i + 1] - g) + abs (int rgb.[i + 2] - b) <= 24
        let mutable ink, first = 0, 0
        for p in 0 .. w * h - 1 do
            let i = p * 3
            if not (near (255, 255, 255) i) && not (near (229, 236, 246) i) then ink <- ink + 1
            if near (99, 110, 250) i then first <- first + 1
        let errors =
            match Regex.Match(dom, "data-page-errors=\"([^\"]*)\"") with
            | m when m.Success -> m.Groups.[1].Value.Split("; ", StringSplitOptions.RemoveEmptyEntries) |> List.ofArray
            | _ -> []
        { Errors = errors; Dom = dom; Ink = float ink / float (w * h); FirstTracePixels = first }
    finally
        try Directory.Delete(dir, true) with _ -> ()

/// Fails unless the page rendered a plot: no JavaScript error, plotly's SVG present, ink on the screenshot and the
/// first trace drawn.
let expectRendered (name: string) (r: Rendered) =
    if not r.Errors.IsEmpty then failtestf "%s: the page raised JavaScript errors: %s" name (String.Join("; ", r.Errors))
    Expect.stringContains r.Dom "class=\"main-svg\"" (name + ": plotly drew its SVG")
    Expect.isGreaterThan r.Ink 0.002 (sprintf "%s: the screenshot is not blank (%.4f of pixels inked)" name r.Ink)
    Expect.isGreaterThan r.FirstTracePixels 100 (name + ": the first trace is drawn")

/// The text of the SVG element with this class (a chart's title, an axis title).
let svgText (cls: string) (dom: string) =
    let m = Regex.Match(dom, "<text class=\"" + cls + "\"[^>]*>([^<]*)<")
    if m.Success then Some(Net.WebUtility.HtmlDecode m.Groups.[1].Value) else None

/// The main SVG's width in pixels.
let svgWidth (dom: string) =
    let m = Regex.Match(dom, "<svg class=\"main-svg\"[^>]*?width=\"([0-9.]+)\"")
    if m.Success then float m.Groups.[1].Value else 0.0

/// Each chart kind the Plot module draws, with the title and axis labels it should show.
let kinds () =
    let xs = [| for i in 0 .. 60 -> float i / 10.0 |]
    let x = Tensor.FromArray([| 0.0; 1.0; 2.0; 3.0; 4.0 |], 5, 1)
    let y = Tensor.FromArray([| 0.1; 2.2; 3.9; 6.1; 8.0 |], 5, 1)
    [ "lines", Plot.lines [ "sin", xs, Array.map sin xs; "cos", xs, Array.map cos xs; "cos again", xs, Array.map cos xs ], ("series", "x", "y")
      "functionWithTangent", Plot.functionWithTangent (fun t -> t * t) 1.0 (-1.0, 2.0), ("f and its tangent at x = 1", "x", "f(x)")
      "lossCurve", Plot.lossCurve [| 2.0; 1.0; 0.3; 0.05; 0.01 |], ("training loss", "epoch", "loss (log scale)")
      "scatterWithFit", Plot.scatterWithFit x y (fun t -> t * 2.0), ("data and fit", "x", "y") ]

let private layoutJson (html: string) =
    let m = Regex.Match(html, @"var layout = (\{.*?\});\s*var config", RegexOptions.Singleline)
    if m.Success then m.Groups.[1].Value else failwith "no layout in the chart's HTML"

let tests =
    testList "charts" [
        testList "what the HTML declares" [
            for name, chart, (title, xLabel, yLabel) in kinds () do
                testCase name <| fun () ->
                    let html = Plot.toHtml chart
                    let layout = layoutJson html
                    Expect.stringContains layout (sprintf "\"title\":{\"text\":\"%s\"}" title) "the chart's title"
                    Expect.stringContains layout (sprintf "\"xaxis\":{\"title\":{\"text\":\"%s\"}" xLabel) "the x axis label"
                    Expect.stringContains layout (sprintf "\"title\":{\"text\":\"%s\"}" yLabel) "the y axis label"
                    use doc = Text.Json.JsonDocument.Parse layout
                    Expect.isFalse (fst (doc.RootElement.TryGetProperty "width")) "no fixed width: the chart follows the page"
                    Expect.stringContains html "\"responsive\":true" "plotly.js resizes it with the window"
                    Expect.stringContains html "plotly.js v" "plotly.js is embedded"
                    Expect.isFalse (Regex.IsMatch(html, "<script[^>]+src=")) "no script is loaded from the network"
            testCase "a loss curve has a log-scale y axis, a linear one when a loss is 0" <| fun () ->
                Expect.stringContains (layoutJson (Plot.toHtml (Plot.lossCurve [| 1.0; 0.1 |]))) "\"type\":\"log\"" "log axis"
                Expect.isFalse ((layoutJson (Plot.toHtml (Plot.lossCurve [| 1.0; 0.0 |]))).Contains "\"type\":\"log\"") "no log of 0"
            testCase "series after the first are dashed, each differently" <| fun () ->
                let html = Plot.toHtml (Plot.lines [ "a", [| 0.0; 1.0 |], [| 0.0; 1.0 |]; "b", [| 0.0; 1.0 |], [| 0.0; 1.0 |]; "c", [| 0.0; 1.0 |], [| 0.0; 1.0 |] ])
                let dashes = Regex.Matches(html, "\"dash\":\"([a-z]+)\"") |> Seq.map (fun m -> m.Groups.[1].Value) |> List.ofSeq
                Expect.equal dashes [ "solid"; "dash"; "dot" ] "line patterns in series order"
            testCase "Plot.title and Plot.axes replace the labels" <| fun () ->
                let layout = Plot.lines [ "a", [| 0.0; 1.0 |], [| 1.0; 2.0 |] ] |> Plot.title "T <1>" |> Plot.axes "time" "height" |> Plot.toHtml |> layoutJson
                Expect.stringContains layout "\"title\":{\"text\":\"T <1>\"}" "title"
                Expect.stringContains layout "\"xaxis\":{\"title\":{\"text\":\"time\"}" "x label"
                Expect.stringContains layout "\"yaxis\":{\"title\":{\"text\":\"height\"}" "y label"
            testCase "a series whose x and y differ in length is refused by name" <| fun () ->
                let e = Expect.throwsC (fun () -> Plot.lines [ "short", [| 0.0; 1.0 |], [| 1.0 |] ] |> ignore) id
                Expect.stringContains e.Message "'short' has 2 x values and 1 y values" "names the series and lengths"
            testCase "Plot.save writes the page and returns its full path" <| fun () ->
                let dir = Path.Combine(Path.GetTempPath(), "fad-save-" + Guid.NewGuid().ToString("N"))
                try
                    let path = Plot.lossCurve [| 1.0; 0.5 |] |> Plot.save (Path.Combine(dir, "sub", "loss.html"))
                    Expect.isTrue (Path.IsPathRooted path && File.Exists path) "written where asked, folder created"
                    Expect.stringContains (File.ReadAllText path) "training loss" "the chart is in it"
                finally
                    try Directory.Delete(dir, true) with _ -> ()
        ]
        testList "in a headless browser" [
            let skipWithout () =
                if Browser.executable.Force().IsNone then
                    skiptest "not run: chromium is not installed (.ci/run installs it with apt-get where it can)"
            for name, chart, (title, xLabel, yLabel) in kinds () do
                testCase name <| fun () ->
                    skipWithout ()
                    let r = render (Plot.toHtml chart)
                    expectRendered name r
                    Expect.equal (svgText "gtitle" r.Dom) (Some title) "the title is shown"
                    Expect.equal (svgText "xtitle" r.Dom) (Some xLabel) "the x axis label is shown"
                    Expect.equal (svgText "ytitle" r.Dom) (Some yLabel) "the y axis label is shown"
                    Expect.isGreaterThan (svgWidth r.Dom) (0.9 * float windowWidth) "the chart takes the page's width"
                    if name = "lines" then Expect.stringContains r.Dom "stroke-dasharray" "the overlapping series is dashed"
            testCase "the check fails on a blank page" <| fun () ->
                skipWithout ()
                let r = render "<!DOCTYPE html><html><head></head><body></body></html>"
                Expect.throwsT<AssertException> (fun () -> expectRendered "blank" r) "a blank page is reported"
                Expect.isLessThan r.Ink 0.001 "nothing inked"
            testCase "the check fails on a page with a JavaScript error" <| fun () ->
                skipWithout ()
                let html = Plot.toHtml (Plot.lossCurve [| 1.0; 0.5 |])
                let broken = html.Replace("</body>", "<script>notAFunction();</script></body>")
                let r = render broken
                Expect.exists r.Errors (fun e -> e.Contains "notAFunction") "the error is recorded"
                Expect.throwsT<AssertException> (fun () -> expectRendered "errored" r) "an errored page is reported"
        ]
    ]
