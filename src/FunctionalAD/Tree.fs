namespace FunctionalAD

open System
open System.Collections.Generic
open Microsoft.FSharp.Reflection

/// Trees of tensors (JAX's pytrees): tuples, records, lists, arrays, options, unions and Map<string, _> whose
/// leaves are tensors. Transformations flatten a tree to its tensors and rebuild one of the same shape from
/// derivatives. Values of other types (numbers, strings, functions) are kept as they are.
module Tree =

    let private isMap (t: Type) = t.IsGenericType && t.GetGenericTypeDefinition() = typedefof<Map<_, _>>

    /// How to take a value of one type apart and put it back together; computed once per type (reflection is
    /// slow, precomputed readers and constructors are not).
    type private Shape =
        | Leaf
        | Opaque
        | Fields of read: (obj -> obj[]) * make: (obj[] -> obj)
        | Cases of tag: (obj -> int) * read: (obj -> obj[])[] * make: (obj[] -> obj)[]
        | ArrayOf of element: Type
        | MapOf of Type

    let private shapes = System.Collections.Concurrent.ConcurrentDictionary<Type, Shape>()

    let private shapeOf (ty: Type) =
        shapes.GetOrAdd(ty, fun ty ->
            if ty = typeof<Tensor> then Leaf
            elif FSharpType.IsTuple ty then Fields(FSharpValue.PreComputeTupleReader ty, FSharpValue.PreComputeTupleConstructor ty)
            elif FSharpType.IsRecord(ty, true) then
                Fields(FSharpValue.PreComputeRecordReader(ty, true), FSharpValue.PreComputeRecordConstructor(ty, true))
            elif ty.IsArray then ArrayOf(ty.GetElementType())
            elif isMap ty then MapOf ty
            elif FSharpType.IsUnion(ty, true) then
                let cases = FSharpType.GetUnionCases(ty, true)
                Cases(FSharpValue.PreComputeUnionTagReader(ty, true),
                      cases |> Array.map (fun c -> FSharpValue.PreComputeUnionReader(c, true)),
                      cases |> Array.map (fun c -> FSharpValue.PreComputeUnionConstructor(c, true)))
            else Opaque)

    let private mapEntries (o: obj) =
        [ for kv in (o :?> System.Collections.IEnumerable) ->
            let t = kv.GetType()
            t.GetProperty("Key").GetValue kv, t.GetProperty("Value").GetValue kv ]

    let rec private flattenInto (acc: ResizeArray<Tensor>) (o: obj) =
        if not (isNull o) then
            match shapeOf (o.GetType()) with
            | Leaf -> acc.Add(o :?> Tensor)
            | Opaque -> ()
            | Fields(read, _) -> read o |> Array.iter (flattenInto acc)
            | Cases(tag, read, _) -> read.[tag o] o |> Array.iter (flattenInto acc)
            | ArrayOf _ -> for x in (o :?> Array) do flattenInto acc x
            | MapOf _ -> for _, v in mapEntries o do flattenInto acc v

    let rec private rebuild (template: obj) (leaves: Tensor[]) (pos: int ref) : obj =
        if isNull template then null
        else
            match shapeOf (template.GetType()) with
            | Leaf ->
                let t = leaves.[pos.Value]
                pos.Value <- pos.Value + 1
                box t
            | Opaque -> template
            | Fields(read, make) -> make (read template |> Array.map (fun f -> rebuild f leaves pos))
            | Cases(tag, read, make) ->
                let case = tag template
                make.[case] (read.[case] template |> Array.map (fun f -> rebuild f leaves pos))
            | ArrayOf element ->
                let src = template :?> Array
                let dst = Array.CreateInstance(element, src.Length)
                for i in 0 .. src.Length - 1 do dst.SetValue(rebuild (src.GetValue i) leaves pos, i)
                box dst
            | MapOf ty ->
                let tupleType = typedefof<Tuple<_, _>>.MakeGenericType(ty.GetGenericArguments())
                let items = [| for k, v in mapEntries template -> Activator.CreateInstance(tupleType, [| k; rebuild v leaves pos |]) |]
                let arr = Array.CreateInstance(tupleType, items.Length)
                items |> Array.iteri (fun i item -> arr.SetValue(item, i))
                Activator.CreateInstance(ty, [| box arr |])

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
