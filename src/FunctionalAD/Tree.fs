namespace FunctionalAD

open System
open System.Collections.Generic
open Microsoft.FSharp.Reflection

/// Trees of tensors (JAX's pytrees): tuples, records, lists, arrays, options, unions and Map<string, _> whose
/// leaves are tensors. Transformations flatten a tree to its tensors and rebuild one of the same shape from
/// derivatives. Values of other types (numbers, strings, functions) are kept as they are.
module Tree =

    let private isMap (t: Type) = t.IsGenericType && t.GetGenericTypeDefinition() = typedefof<Map<_, _>>

    let rec private flattenInto (acc: ResizeArray<Tensor>) (o: obj) =
        match o with
        | null -> ()
        | :? Tensor as t -> acc.Add t
        | _ ->
            let ty = o.GetType()
            if FSharpType.IsTuple ty then FSharpValue.GetTupleFields o |> Array.iter (flattenInto acc)
            elif FSharpType.IsRecord(ty, true) then FSharpValue.GetRecordFields(o, true) |> Array.iter (flattenInto acc)
            elif ty.IsArray then for x in (o :?> Array) do flattenInto acc x
            elif isMap ty then
                for kv in (o :?> System.Collections.IEnumerable) do
                    flattenInto acc (kv.GetType().GetProperty("Value").GetValue kv)
            elif FSharpType.IsUnion(ty, true) then
                let _, fields = FSharpValue.GetUnionFields(o, ty, true)
                fields |> Array.iter (flattenInto acc)

    let rec private rebuild (template: obj) (leaves: Tensor[]) (pos: int ref) : obj =
        match template with
        | null -> null
        | :? Tensor ->
            let t = leaves.[pos.Value]
            pos.Value <- pos.Value + 1
            box t
        | _ ->
            let ty = template.GetType()
            if FSharpType.IsTuple ty then
                FSharpValue.MakeTuple(FSharpValue.GetTupleFields template |> Array.map (fun f -> rebuild f leaves pos), ty)
            elif FSharpType.IsRecord(ty, true) then
                FSharpValue.MakeRecord(ty, FSharpValue.GetRecordFields(template, true) |> Array.map (fun f -> rebuild f leaves pos), true)
            elif ty.IsArray then
                let src = template :?> Array
                let dst = Array.CreateInstance(ty.GetElementType(), src.Length)
                for i in 0 .. src.Length - 1 do dst.SetValue(rebuild (src.GetValue i) leaves pos, i)
                box dst
            elif isMap ty then
                let args = ty.GetGenericArguments()
                let tupleType = typedefof<Tuple<_, _>>.MakeGenericType args
                let items = ResizeArray<obj>()
                for kv in (template :?> System.Collections.IEnumerable) do
                    let k = kv.GetType().GetProperty("Key").GetValue kv
                    let v = kv.GetType().GetProperty("Value").GetValue kv
                    items.Add(Activator.CreateInstance(tupleType, [| k; rebuild v leaves pos |]))
                let arr = Array.CreateInstance(tupleType, items.Count)
                for i in 0 .. items.Count - 1 do arr.SetValue(items.[i], i)
                Activator.CreateInstance(ty, [| box arr |])
            elif FSharpType.IsUnion(ty, true) then
                let case, fields = FSharpValue.GetUnionFields(template, ty, true)
                FSharpValue.MakeUnion(case, fields |> Array.map (fun f -> rebuild f leaves pos), true)
            else template

    /// The tensors of a tree, in a fixed order (tuple/record fields in order, maps by key).
    let leaves (tree: 'T) : Tensor[] =
        let acc = ResizeArray<Tensor>()
        flattenInto acc (box tree)
        acc.ToArray()

    /// A tree shaped like `template` whose tensors are `leaves` (in the order of `Tree.leaves`).
    /// Throws ArgumentException when the count differs.
    let unflatten (template: 'T) (leaves: Tensor[]) : 'T =
        let pos = ref 0
        let r = rebuild (box template) leaves pos
        if pos.Value <> leaves.Length then
            invalidArg "leaves" (sprintf "Tree.unflatten: the tree has %d tensors but %d were given" pos.Value leaves.Length)
        unbox<'T> r

    /// The same tree with f applied to every tensor.
    let map (f: Tensor -> Tensor) (tree: 'T) : 'T = unflatten tree (leaves tree |> Array.map f)

    /// Two trees of the same structure combined tensor by tensor.
    /// Throws ArgumentException when the trees hold different numbers of tensors.
    let map2 (f: Tensor -> Tensor -> Tensor) (a: 'T) (b: 'T) : 'T =
        let la, lb = leaves a, leaves b
        if la.Length <> lb.Length then invalidArg "b" (sprintf "Tree.map2: trees hold %d and %d tensors" la.Length lb.Length)
        unflatten a (Array.map2 f la lb)

    /// Folds over the tensors of a tree.
    let fold (f: 'S -> Tensor -> 'S) (state: 'S) (tree: 'T) : 'S = leaves tree |> Array.fold f state
