namespace FunctionalAD

open System
open System.Collections.Generic
open Microsoft.FSharp.Reflection

/// Trees of tensors (JAX's pytrees): tuples, records, lists, arrays, options, unions and Map<string, _> whose
/// leaves are tensors. Transformations flatten a tree to its tensors and rebuild one of the same shape from
/// derivatives. Values of other types (numbers, strings, functions) are kept as they are.
///
/// The module also holds the differentiation family for functions of a tree (`Tree.grad`, `Tree.gradv`,
/// `Tree.vjp`, `Tree.jvp`, `Tree.jacobian`, `Tree.hessian`, `Tree.hvp`): the same transformations as the
/// tensor-only `grad`, `jvp`, ... with the input's structure kept in the result. They are separate names because
/// an F# lambda generic over trees has no known parameter type, so `grad (fun x -> x.sum()) t` could not compile.
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

    // Differentiation of functions of a tree: flatten the tree to its tensors, run the transformation over them,
    // rebuild the result in the tree's structure.

    let private fn (f: Tensor[] -> Tensor) = Func<Tensor[], Tensor>(f)

    /// The value f(x) (a one-element tensor) and the gradient with respect to the tree x (x's structure: a tuple
    /// of tensors, a record, a Params...), in one reverse pass. Throws ShapeMismatchException when f(x) has more
    /// than one element.
    let gradv (f: 'T -> Tensor) (x: 'T) : Tensor * 'T =
        let struct (value, grads) = Transform.ValueAndGrad(fn (fun ts -> f (unflatten x ts)), leaves x)
        value, unflatten x grads

    /// The gradient of scalar-valued f at the tree x, with x's structure (Params give Params of the same names).
    /// Throws ShapeMismatchException when f(x) has more than one element.
    let grad (f: 'T -> Tensor) (x: 'T) : 'T = snd (gradv f x)

    /// Reverse mode over a tree: f(x) and the pullback, which maps a cotangent of f(x)'s shape to x's structure.
    let vjp (f: 'T -> Tensor) (x: 'T) : Tensor * (Tensor -> 'T) =
        let r = Transform.Vjp(fn (fun ts -> f (unflatten x ts)), leaves x)
        r.Value, (fun u -> unflatten x (r.Pullback u))

    /// Forward mode over a tree: f(x) and the directional derivative of f at x along v (v has x's structure).
    /// Throws ShapeMismatchException when v's tensors do not match x's shapes.
    let jvp (f: 'T -> Tensor) (x: 'T) (v: 'T) : Tensor * Tensor =
        let struct (value, tangent) = Transform.Jvp(fn (fun ts -> f (unflatten x ts)), leaves x, leaves v)
        value, tangent

    /// A tree's tensors as one flat vector (leaves in `leaves` order, each flattened row-major; JAX's
    /// ravel_pytree) and the inverse, which cuts a vector of that length back into a tree shaped like x. The
    /// pieces are views of the vector, so derivatives flow through them.
    let private ravel (op: string) (x: 'T) : Tensor * (Tensor -> 'T) =
        let ls = leaves x
        if ls.Length = 0 then invalidArg "x" (sprintf "%s: the input holds no tensors" op)
        ls |> Array.iter (fun l ->
            if l.DType <> ls.[0].DType then
                raise (DTypeMismatchException(op, sprintf "the input's tensors must share one dtype, got %A and %A" ls.[0].DType l.DType)))
        let flat = Tensor.Concat([| for l in ls -> l.Reshape([| -1 |]) |], 0)
        let unravel (v: Tensor) =
            let mutable offset = 0
            unflatten x [| for l in ls ->
                             let piece = v.Slice(0, offset, offset + l.Numel).Reshape(l.Shape)
                             offset <- offset + l.Numel
                             piece |]
        flat, unravel

    /// The Jacobian of f at the tree x (forward or reverse mode, whichever needs fewer passes): a tree of x's
    /// structure whose tensor for each leaf l is ∂f/∂l, of shape f(x).shape @ l.shape (JAX's jacobian of a pytree).
    /// Throws DTypeMismatchException when the tree's tensors differ in dtype, ArgumentException when it holds none.
    let jacobian (f: 'T -> Tensor) (x: 'T) : 'T =
        let flat, unravel = ravel "Tree.jacobian" x
        let j = Transform.Jacobian(Func<_, _>(fun v -> f (unravel v)), flat)
        let outShape = j.Shape.[.. j.Rank - 2]
        let mutable offset = 0
        unflatten x [| for l in leaves x ->
                         let block = j.Slice(j.Rank - 1, offset, offset + l.Numel).Reshape(Array.append outShape l.Shape)
                         offset <- offset + l.Numel
                         block |]

    /// The Hessian of scalar-valued f with respect to the tree x's flattened tensors (forward-over-reverse):
    /// shape [N, N], N the total number of elements, rows and columns in `leaves` order with each leaf flattened
    /// row-major, so the block for leaves i and j is rows o_i .. o_i + n_i - 1 and columns o_j .. o_j + n_j - 1
    /// (JAX returns these blocks nested as a tree of trees, a type F# cannot state for any tree).
    /// Throws ShapeMismatchException when f(x) has more than one element, DTypeMismatchException when the tree's
    /// tensors differ in dtype.
    let hessian (f: 'T -> Tensor) (x: 'T) : Tensor =
        let flat, unravel = ravel "Tree.hessian" x
        Transform.Hessian(Func<_, _>(fun v -> f (unravel v)), flat)

    /// The Hessian of scalar-valued f at the tree x times v, without forming the Hessian (forward-over-reverse);
    /// v and the result have x's structure and shapes.
    /// Throws ShapeMismatchException when v's tensors do not match x's or f(x) has more than one element.
    let hvp (f: 'T -> Tensor) (x: 'T) (v: 'T) : 'T =
        let xs, vs = leaves x, leaves v
        if xs.Length <> vs.Length then
            raise (ShapeMismatchException("Tree.hvp", sprintf "x holds %d tensors but v holds %d" xs.Length vs.Length))
        Array.iteri2 (fun i (a: Tensor) (b: Tensor) ->
            if a.Shape <> b.Shape then
                raise (ShapeMismatchException("Tree.hvp", sprintf "tensor %d of v has shape %s but x's has %s" i (FunctionalAD.Shape.Format b.Shape) (FunctionalAD.Shape.Format a.Shape)))) xs vs
        let flat, unravel = ravel "Tree.hvp" x
        let flatV, _ = ravel "Tree.hvp" v
        unravel (Transform.Hvp(Func<_, _>(fun w -> f (unravel w)), flat, flatV))
