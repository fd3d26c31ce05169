namespace FunctionalAD

open System
open FunctionalAD.Persistence

/// How the tensors of a file compare with the parameters a model expects (`Params.loadMatching`).
type LoadReport =
    { /// Names loaded from the file (same name, shape and dtype as the model's).
      Loaded: string list
      /// Names the model has and the file lacks (they keep the model's values).
      Missing: string list
      /// Names the file has and the model lacks (ignored).
      Unexpected: string list
      /// Names in both whose shape or dtype differ, with the difference in words (they keep the model's values).
      Mismatched: (string * string) list }
    /// True when every name, shape and dtype matched.
    member r.IsExact = r.Missing.IsEmpty && r.Unexpected.IsEmpty && r.Mismatched.IsEmpty
    /// The differences, one per line ("" when exact).
    override r.ToString() =
        [ for n in r.Missing -> sprintf "  missing from the file: '%s'" n
          for n in r.Unexpected -> sprintf "  not in the model: '%s'" n
          for n, why in r.Mismatched -> sprintf "  '%s': %s" n why ]
        |> String.concat "\n"

/// The tensors of a file do not match the parameters a model expects (strict loading).
type LoadMismatchException(file: string, report: LoadReport) =
    inherit Exception(sprintf "%s: the file does not match the model's parameters (load with strict = false to load what matches):\n%O" file report)
    /// The file that was read.
    member _.File = file
    /// What differs.
    member _.Report = report

/// The text of a parameter table (Params, models): a header line, then one indented line per parameter. The lines
/// after the first are indented by two, as F# Interactive indents the first when it breaks `val p: Params =`.
module internal ParameterTable =
    let format (kind: string) (rows: (string * int[] * DType) seq) =
        let rows = Array.ofSeq rows
        let total = rows |> Array.sumBy (fun (_, shape, _) -> Array.fold (*) 1 shape)
        let lines = rows |> Array.map (fun (name, shape, dtype) -> sprintf "\n  %-24s %-14s %A" name (Shape.Format shape) dtype)
        sprintf "%s (%d tensors, %d elements)%s" kind rows.Length total (String.concat "" lines)

/// An immutable tree of named tensors: the parameters of a model. Names are paths ("l1.w") that mirror the
/// model's scopes. A Params value is a tree for `Tree.grad`/`Tree.jvp`/`Tree.vjp` (gradients come back as Params
/// of the same names) and for the optimizers.
[<CustomEquality; NoComparison; StructuredFormatDisplay("{Display}")>]
type Params =
    private { Entries: Map<string, Tensor> }

    /// The parameter paths, sorted.
    member p.Names : string[] = p.Entries |> Seq.map (fun kv -> kv.Key) |> Array.ofSeq
    /// The number of tensors.
    member p.Count = p.Entries.Count
    /// True when `path` names a parameter.
    member p.ContainsKey(path: string) = p.Entries.ContainsKey path
    /// The entries as a read-only dictionary (path -> tensor), for C# and for enumeration.
    member p.ToDictionary() : Collections.Generic.IReadOnlyDictionary<string, Tensor> =
        Collections.Generic.Dictionary<string, Tensor>(p.Entries :> Collections.Generic.IDictionary<string, Tensor>)
    /// Params from (path, tensor) pairs. Throws ArgumentException when a path repeats.
    static member Create(entries: Collections.Generic.IEnumerable<Collections.Generic.KeyValuePair<string, Tensor>>) =
        let pairs = entries |> Seq.map (fun kv -> kv.Key, kv.Value) |> List.ofSeq
        match pairs |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1) with
        | Some(name, _) -> invalidArg "entries" (sprintf "Params.Create: '%s' appears more than once" name)
        | None -> { Entries = Map.ofList pairs }

    /// The tensor at `path`. Throws KeyNotFoundException naming the path and the available names.
    member p.Item
        with get (path: string) =
            match p.Entries.TryFind path with
            | Some t -> t
            | None ->
                raise (Collections.Generic.KeyNotFoundException(
                    sprintf "Params: no parameter '%s'; it has %s" path (String.Join(", ", p.Entries.Keys))))

    /// Writes the parameters to a safetensors file (names = paths, e.g. "l1.w"), atomically and with a checksum;
    /// PyTorch (`safetensors.torch.load_file`), JAX and Hugging Face tools read it. Throws IOException on failure.
    member p.Save(path: string, [<Runtime.InteropServices.Optional; Runtime.InteropServices.DefaultParameterValue(null: Collections.Generic.IReadOnlyDictionary<string, string>)>] metadata: Collections.Generic.IReadOnlyDictionary<string, string>) =
        SafeTensors.Save(path, p.Entries |> Seq.map (fun kv -> Collections.Generic.KeyValuePair(kv.Key, kv.Value.StopGradient())), metadata)

    /// Every tensor of a safetensors file as Params (names become paths). Throws CorruptFileException when the
    /// file is damaged or its checksum differs, FileNotFoundException when it does not exist.
    static member Load(path: string) =
        let file = SafeTensors.Load(path)
        { Entries = file.Tensors |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq }

    /// Loads a safetensors file into the structure of `like` (a model's Params): every name, shape and dtype is
    /// checked. Returns the loaded Params (entries that did not match keep `like`'s tensors) and what differed.
    static member LoadMatching(path: string, like: Params) : struct (Params * LoadReport) =
        let file = SafeTensors.Load(path)
        let loaded, missing, mismatched = ResizeArray(), ResizeArray(), ResizeArray()
        let entries =
            like.Entries |> Map.map (fun name expected ->
                match file.ByName.TryGetValue name with
                | false, _ -> missing.Add name; expected
                | true, t when t.DType <> expected.DType || t.Shape <> expected.Shape ->
                    mismatched.Add((name, sprintf "the file has %A %s, the model %A %s" t.DType (Shape.Format t.Shape) expected.DType (Shape.Format expected.Shape)))
                    expected
                | true, t -> loaded.Add name; t.ToDevice expected.Device)
        let unexpected = file.Tensors |> Seq.map (fun kv -> kv.Key) |> Seq.filter (like.Entries.ContainsKey >> not) |> List.ofSeq
        struct ({ Entries = entries }, { Loaded = List.ofSeq loaded; Missing = List.ofSeq missing; Unexpected = unexpected; Mismatched = List.ofSeq mismatched })

    /// Loads a safetensors file into the structure of `like`; `strict` (default true) throws LoadMismatchException
    /// listing every missing, unexpected or mismatched name; strict = false loads what matches and keeps `like`'s
    /// tensors for the rest (use LoadMatching to see the report).
    static member Load(path: string, like: Params, [<Runtime.InteropServices.Optional; Runtime.InteropServices.DefaultParameterValue(true)>] strict: bool) =
        let struct (p, report) = Params.LoadMatching(path, like)
        if strict && not report.IsExact then raise (LoadMismatchException(path, report))
        p

    override p.Equals(o) =
        match o with
        | :? Params as q -> obj.ReferenceEquals(p, q) || (p.Entries.Count = q.Entries.Count && Seq.forall2 (fun (a: Collections.Generic.KeyValuePair<string, Tensor>) (b: Collections.Generic.KeyValuePair<string, Tensor>) -> a.Key = b.Key && obj.ReferenceEquals(a.Value, b.Value)) p.Entries q.Entries)
        | _ -> false
    override p.GetHashCode() = hash (List.ofSeq p.Entries.Keys)

    /// The tensor count and total element count, then one line per parameter: name, shape, dtype.
    override p.ToString() =
        ParameterTable.format "Params" [ for kv in p.Entries -> kv.Key, kv.Value.Shape, kv.Value.DType ]
    /// The text F# Interactive and `%A` show (the same as ToString).
    member p.Display = p.ToString()

/// Functions over Params.
module Params =

    /// No parameters.
    let empty = { Entries = Map.empty }

    /// Params from (path, tensor) pairs. Throws ArgumentException when a path repeats.
    let ofList (entries: (string * Tensor) list) =
        let names = entries |> List.map fst
        match names |> List.countBy id |> List.tryFind (fun (_, n) -> n > 1) with
        | Some(name, _) -> invalidArg "entries" (sprintf "Params.ofList: '%s' appears more than once" name)
        | None -> { Entries = Map.ofList entries }

    /// The (path, tensor) pairs, sorted by path.
    let toList (p: Params) = p.Entries |> Map.toList

    /// The paths, sorted.
    let names (p: Params) = p.Entries |> Seq.map (fun kv -> kv.Key) |> List.ofSeq

    /// The tensor at path, if any.
    let tryGet path (p: Params) = p.Entries.TryFind path

    /// The number of tensors.
    let count (p: Params) = p.Entries.Count

    /// The total number of elements over all tensors.
    let numel (p: Params) = p.Entries |> Seq.sumBy (fun kv -> kv.Value.Numel)

    /// f applied to every tensor.
    let map (f: Tensor -> Tensor) (p: Params) = { Entries = Map.map (fun _ t -> f t) p.Entries }

    /// f applied to every (path, tensor).
    let mapi (f: string -> Tensor -> Tensor) (p: Params) = { Entries = Map.map f p.Entries }

    /// Two Params with the same paths combined tensor by tensor. Throws ArgumentException when the paths differ.
    let map2 (f: Tensor -> Tensor -> Tensor) (a: Params) (b: Params) =
        if names a <> names b then
            invalidArg "b" (sprintf "Params.map2: the parameter names differ: [%s] vs [%s]" (String.Join(", ", names a)) (String.Join(", ", names b)))
        { Entries = Map.map (fun k t -> f t b.Entries.[k]) a.Entries }

    /// Folds over the tensors in path order.
    let fold (f: 'S -> string -> Tensor -> 'S) (state: 'S) (p: Params) = Map.fold f state p.Entries

    /// The tensors in path order.
    let flatten (p: Params) = p.Entries |> Seq.map (fun kv -> kv.Value) |> Array.ofSeq

    /// Params with `template`'s paths and the given tensors (in path order).
    /// Throws ArgumentException when the counts or shapes differ.
    let unflatten (template: Params) (tensors: Tensor[]) =
        if tensors.Length <> template.Entries.Count then
            invalidArg "tensors" (sprintf "Params.unflatten: %d tensors for %d parameters" tensors.Length template.Entries.Count)
        let pairs = Seq.zip template.Entries tensors |> Seq.map (fun (kv: Collections.Generic.KeyValuePair<string, Tensor>, t: Tensor) ->
            if kv.Value.Shape <> t.Shape then
                invalidArg "tensors" (sprintf "Params.unflatten: '%s' has shape %s but got %s" kv.Key (Shape.Format kv.Value.Shape) (Shape.Format t.Shape))
            kv.Key, t)
        { Entries = Map.ofSeq pairs }

    /// Zeros shaped like every tensor.
    let zerosLike (p: Params) = map Tensor.ZerosLike p

    /// a + b, tensor by tensor.
    let add a b = map2 (+) a b
    /// a - b, tensor by tensor.
    let sub a b = map2 (-) a b
    /// k * p.
    let scale (k: float) (p: Params) = map (fun t -> k * t) p
    /// Σ over tensors of Σ a*b (a scalar tensor).
    let dot (a: Params) (b: Params) : Tensor = Array.map2 (fun (x: Tensor) (y: Tensor) -> (x * y).Sum()) (flatten a) (flatten b) |> Array.reduce (+)
    /// √(Σ p²) over all tensors.
    let norm (p: Params) = (dot p p).Sqrt()

    /// Writes p to a safetensors file, atomically and with a checksum (see `Params.Save`).
    let save (path: string) (p: Params) = p.Save(path)

    /// Every tensor of a safetensors file as Params (see `Params.Load`).
    let load (path: string) = Params.Load path

    /// Loads a file into `like`'s structure, checking every name, shape and dtype; throws LoadMismatchException
    /// listing all differences.
    let loadInto (like: Params) (path: string) = Params.Load(path, like, true)

    /// Loads what matches `like` from a file and reports the rest (non-strict loading).
    let loadMatching (like: Params) (path: string) : Params * LoadReport =
        let struct (p, r) = Params.LoadMatching(path, like)
        p, r

    /// The entries under `prefix` ("l1" selects "l1.w", "l1.b"), with the prefix removed.
    let scope (prefix: string) (p: Params) =
        let pre = prefix + "."
        { Entries = p.Entries |> Map.filter (fun k _ -> k.StartsWith pre) |> Map.toSeq |> Seq.map (fun (k, v) -> k.Substring pre.Length, v) |> Map.ofSeq }

