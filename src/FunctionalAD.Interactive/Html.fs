namespace FunctionalAD.Interactive

open System
open System.Globalization
open System.Net
open System.Text
open FunctionalAD
open FunctionalAD.Imperative

/// HTML views of FunctionalAD values, as the notebook formatters show them: tensors as tables (a heatmap for
/// matrices, large ones cut to their first and last rows and columns), Params as a table, models as their parameter
/// tree. Every text that comes from the user (parameter names) is HTML-escaped.
module Html =

    /// Along each dimension at most this many entries are shown; a longer one shows its first and last `Edge`
    /// entries with an ellipsis between.
    [<Literal>]
    let MaxItems = 20

    /// Entries shown at each end of a dimension longer than `MaxItems`.
    [<Literal>]
    let Edge = 8

    /// HTML-escapes a text (&lt; &gt; &amp; quotes).
    let escape (s: string) = WebUtility.HtmlEncode s

    /// A shape in F# list notation, "[2; 3]" ("[]" for a scalar).
    let shapeText (shape: int[]) = "[" + String.Join("; ", shape) + "]"

    let private deviceText (t: Tensor) = string t.Device

    /// The tensor cut to its shown entries: each dimension longer than MaxItems keeps its first and last Edge.
    let private shownPart (t: Tensor) =
        let mutable v = t.StopGradient()
        for d in 0 .. t.Rank - 1 do
            let n = t.Shape.[d]
            if n > MaxItems then v <- Tensor.Concat([| v.Narrow(d, 0, Edge); v.Narrow(d, n - Edge, Edge) |], d)
        v

    /// Display texts and heat values (finite numbers; NaN for none) of a tensor's elements, row-major.
    let private cells (t: Tensor) : string[] * float[] =
        let inv = CultureInfo.InvariantCulture
        match t.DType with
        | DType.Bool -> let a = t.ToArray<bool>() in a |> Array.map (fun b -> if b then "true" else "false"), a |> Array.map (fun b -> if b then 1.0 else 0.0)
        | DType.Int32 -> let a = t.ToArray<int>() in a |> Array.map (fun v -> v.ToString inv), a |> Array.map float
        | DType.Int64 -> let a = t.ToArray<int64>() in a |> Array.map (fun v -> v.ToString inv), a |> Array.map float
        | DType.Float32 -> let a = t.ToArray<float32>() in a |> Array.map (fun v -> v.ToString("G6", inv)), a |> Array.map float
        | _ -> let a = t.ToArray<float>() in a |> Array.map (fun v -> v.ToString("G6", inv)), a

    /// Positions shown along a dimension of size n: Some index, or None for the ellipsis.
    let private positions (n: int) =
        if n <= MaxItems then [ for i in 0 .. n - 1 -> Some i ]
        else [ for i in 0 .. Edge - 1 -> Some i ] @ [ None ] @ [ for i in n - Edge .. n - 1 -> Some i ]

    /// Background and text colour of a heatmap cell: white (the smallest value) to dark blue (the largest); grey for
    /// NaN and infinities.
    let private heat (lo: float) (hi: float) (v: float) =
        if Double.IsNaN v || Double.IsInfinity v then "background-color:#d9d9d9;color:#000"
        else
            let s = if hi > lo then (v - lo) / (hi - lo) else 0.5
            let mix (a: float) (b: float) = int (Math.Round(a + (b - a) * s))
            sprintf "background-color:rgb(%d,%d,%d);color:%s" (mix 247.0 8.0) (mix 251.0 48.0) (mix 255.0 107.0) (if s > 0.55 then "#fff" else "#000")

    let private cellStyle = "padding:2px 6px;text-align:right;font-family:monospace"

    /// The tensor as HTML: a header (shape, dtype, device, whether it is tracked for gradients) and its values: a
    /// scalar's value, a vector as one row, a matrix as a heatmap table, higher ranks as their text. Dimensions longer
    /// than MaxItems are cut to their first and last Edge entries (an ellipsis marks the cut); values are read only
    /// for the shown part.
    let tensor (t: Tensor) : string =
        let sb = StringBuilder()
        let add (s: string) = sb.Append s |> ignore
        add "<div class=\"fad-tensor\">"
        add (sprintf "<div><b>Tensor</b> shape <code>%s</code> &middot; dtype <code>%s</code> &middot; device <code>%s</code> &middot; %d elements%s</div>"
                 (escape (shapeText t.Shape)) (escape (string t.DType)) (escape (deviceText t)) t.Numel
                 (if t.IsTracked then " &middot; tracked" else ""))
        match t.Rank with
        | 0 ->
            let text, _ = cells t
            add (sprintf "<pre>%s</pre>" (escape text.[0]))
        | 1 | 2 when t.Numel > 0 ->
            let shown = shownPart t
            let text, values = cells shown
            let rows, cols = (if t.Rank = 1 then 1 else t.Shape.[0]), t.Shape.[t.Rank - 1]
            let shownCols = if cols > MaxItems then 2 * Edge else cols
            let finite = values |> Array.filter Double.IsFinite
            let lo, hi = (if finite.Length = 0 then 0.0, 0.0 else Array.min finite, Array.max finite)
            let matrix = t.Rank = 2
            add "<table class=\"fad-values\" style=\"border-collapse:collapse\">"
            add "<tr><th></th>"
            for c in positions cols do
                add (match c with Some j -> sprintf "<th style=\"%s\">%d</th>" cellStyle j | None -> "<th>&hellip;</th>")
            add "</tr>"
            let mutable shownRow = 0
            for r in (if matrix then positions rows else [ Some 0 ]) do
                add "<tr>"
                match r with
                | None ->
                    add "<th>&vellip;</th>"
                    for _ in positions cols do add "<td style=\"text-align:center\">&vellip;</td>"
                | Some i ->
                    add (if matrix then sprintf "<th style=\"%s\">%d</th>" cellStyle i else "<th></th>")
                    let mutable shownCol = 0
                    for c in positions cols do
                        match c with
                        | None -> add "<td>&hellip;</td>"
                        | Some _ ->
                            let k = shownRow * shownCols + shownCol
                            let style = if matrix then cellStyle + ";" + heat lo hi values.[k] else cellStyle
                            add (sprintf "<td style=\"%s\">%s</td>" style (escape text.[k]))
                            shownCol <- shownCol + 1
                    shownRow <- shownRow + 1
                add "</tr>"
            add "</table>"
        // a multi-row tensor's text starts on a new line (for FSI's "val t: Tensor =" prefix); not in a <pre>
        | _ -> add (sprintf "<pre>%s</pre>" (escape ((string t).TrimStart([| '\r'; '\n' |]))))
        add "</div>"
        sb.ToString()

    /// Params as a table: name, shape, dtype and number of elements of each tensor, in path order, and the totals.
    let parameters (p: Params) : string =
        let sb = StringBuilder()
        let add (s: string) = sb.Append s |> ignore
        add "<table class=\"fad-params\" style=\"border-collapse:collapse\"><tr><th>name</th><th>shape</th><th>dtype</th><th>numel</th></tr>"
        for name, t in Params.toList p do
            add (sprintf "<tr><td><code>%s</code></td><td><code>%s</code></td><td>%s</td><td style=\"text-align:right\">%d</td></tr>"
                     (escape name) (escape (shapeText t.Shape)) (escape (string t.DType)) t.Numel)
        let n = Params.count p
        add (sprintf "<tr><th colspan=\"3\" style=\"text-align:left\">%d tensor%s</th><th style=\"text-align:right\">%d</th></tr></table>" n (if n = 1 then "" else "s") (Params.numel p))
        sb.ToString()

    type private Node =
        | Leaf of Tensor
        | Branch of (string * Node) list

    /// Paths split at '.' into a tree, keeping the parameters' order.
    let rec private treeOf (entries: (string list * Tensor) list) : (string * Node) list =
        entries
        |> List.groupBy (fun (path, _) -> List.head path)
        |> List.map (fun (head, group) ->
            match group with
            | [ ([ _ ], t) ] -> head, Leaf t
            | _ -> head, Branch(treeOf [ for path, t in group -> (match path with [ _ ] -> [ "(value)" ] | _ -> List.tail path), t ]))

    let rec private numelOf node =
        match node with
        | Leaf t -> int64 t.Numel
        | Branch children -> children |> List.sumBy (snd >> numelOf)

    let rec private renderTree (sb: StringBuilder) (children: (string * Node) list) =
        sb.Append "<ul style=\"margin:0;padding-left:1.4em\">" |> ignore
        for name, node in children do
            match node with
            | Leaf t ->
                sb.Append(sprintf "<li><code>%s</code> <code>%s</code> %s (%d)</li>" (escape name) (escape (shapeText t.Shape)) (escape (string t.DType)) t.Numel) |> ignore
            | Branch grand ->
                sb.Append(sprintf "<li><code>%s</code> (%d)" (escape name) (numelOf node)) |> ignore
                renderTree sb grand
                sb.Append "</li>" |> ignore
        sb.Append "</ul>" |> ignore

    /// A model's parameters as a tree (paths split at '.': "l1.w" under "l1"), each leaf with its shape, dtype and
    /// number of elements, each branch with its total; `kind` heads it ("Model", "Module").
    let parameterTree (kind: string) (p: Params) : string =
        let sb = StringBuilder()
        sb.Append(sprintf "<div class=\"fad-model\"><div><b>%s</b> &middot; %d parameters in %d tensors</div>" (escape kind) (Params.numel p) (Params.count p)) |> ignore
        renderTree sb (treeOf [ for name, t in Params.toList p -> List.ofArray (name.Split '.'), t ])
        sb.Append "</div>" |> ignore
        sb.ToString()

    /// A model as its parameter tree (the parameters it declares, initialised with seed 0 to learn their shapes).
    let model (m: Model<Tensor -> Tensor>) : string = parameterTree "Model" (fst (Model.init 0UL m))

    /// A module as the tree of its current parameters.
    let ``module`` (m: Module) : string =
        parameterTree "Module" (Params.ofList [ for p in m.NamedParameters() -> p.Name, p.Parameter.Value ])
