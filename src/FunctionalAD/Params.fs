namespace FunctionalAD

open System

/// An immutable tree of named tensors: the parameters of a model. Names are paths ("l1.w") that mirror the
/// model's scopes. A Params value is a tree for `grad`/`jvp`/`vjp` (gradients come back as Params of the same
/// names) and for the optimizers.
[<CustomEquality; NoComparison>]
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

    override p.Equals(o) =
        match o with
        | :? Params as q -> obj.ReferenceEquals(p, q) || (p.Entries.Count = q.Entries.Count && Seq.forall2 (fun (a: Collections.Generic.KeyValuePair<string, Tensor>) (b: Collections.Generic.KeyValuePair<string, Tensor>) -> a.Key = b.Key && obj.ReferenceEquals(a.Value, b.Value)) p.Entries q.Entries)
        | _ -> false
    override p.GetHashCode() = hash (List.ofSeq p.Entries.Keys)

    /// One line per parameter: name, shape, dtype; then the total element count.
    override p.ToString() =
        let lines = p.Entries |> Seq.map (fun kv -> sprintf "  %-24s %-14s %A" kv.Key (Shape.Format kv.Value.Shape) kv.Value.DType)
        let total = p.Entries |> Seq.sumBy (fun kv -> kv.Value.Numel)
        sprintf "Params (%d tensors, %d elements)\n%s" p.Entries.Count total (String.Join("\n", lines))

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

    /// The entries under `prefix` ("l1" selects "l1.w", "l1.b"), with the prefix removed.
    let scope (prefix: string) (p: Params) =
        let pre = prefix + "."
        { Entries = p.Entries |> Map.filter (fun k _ -> k.StartsWith pre) |> Map.toSeq |> Seq.map (fun (k, v) -> k.Substring pre.Length, v) |> Map.ofSeq }

