namespace FunctionalAD.Testing

open System
open FsCheck
open FsCheck.FSharp
open FunctionalAD

/// Generators and shrinkers of tensors (Hypothesis's arrays(dtype, shape, elements)). A tensor shrinks first to
/// fewer and smaller dimensions (keeping its leading elements), then to simpler values (0, 1, -1, small integers,
/// fewer digits) that its Values still allow, so a failing property reports a tiny counterexample.
[<RequireQualifiedAccess>]
module Tensors =

    let private isInteger (d: DType) = d = DType.Int32 || d = DType.Int64

    /// A tensor of dtype and shape holding data (row-major), on the CPU.
    let make (dtype: DType) (shape: int[]) (data: float[]) : Tensor =
        let data = if isInteger dtype then data |> Array.map Math.Round else data
        if dtype = DType.Bool then Tensor.FromArray(data |> Array.map (fun x -> x <> 0.0), shape)
        else Tensor.FromArray(data, shape).To dtype

    let private unitFloat = Gen.choose (0, Int32.MaxValue) |> Gen.map (fun k -> float k / float Int32.MaxValue)

    /// One element drawn from v (for integer dtypes, the interval's integers; for Bool, 0 or 1).
    let element (dtype: DType) (v: Values) : Gen<float> =
        if dtype = DType.Bool then Gen.elements [ 0.0; 1.0 ] else
        let pieces =
            if isInteger dtype then
                [ for x in ceil v.Low .. floor v.High do if Values.contains v x then x, x ]
            else Values.intervals v
        if List.isEmpty pieces then
            invalidArg "v" (sprintf "Tensors: no %O value lies in [%g, %g] away from %A by %g" dtype v.Low v.High v.Kinks v.Gap)
        let total = pieces |> List.sumBy (fun (a, b) -> b - a)
        let finite =
            if isInteger dtype then Gen.elements (pieces |> List.map fst)
            elif total = 0.0 then Gen.elements (pieces |> List.map fst)
            else
                unitFloat |> Gen.map (fun u ->
                    let mutable pos = u * total
                    let mutable result = snd (List.last pieces)
                    let mutable found = false
                    for (a, b) in pieces do
                        if not found && pos <= b - a then
                            result <- a + pos
                            found <- true
                        elif not found then pos <- pos - (b - a)
                    result)
        if v.Specials && not (isInteger dtype) then
            Gen.frequency [ 4, finite; 1, Gen.elements [ -0.0; Double.PositiveInfinity; Double.NegativeInfinity; Double.NaN ] ]
        else finite

    /// Tensors of dtype and the given shape with elements from v.
    let ofShape (dtype: DType) (v: Values) (shape: int[]) : Gen<Tensor> =
        Gen.arrayOfLength (Array.fold (*) 1 shape) (element dtype v) |> Gen.map (make dtype shape)

    /// Tensors of dtype with a shape within b and elements from v.
    let gen (dtype: DType) (v: Values) (b: ShapeBounds) : Gen<Tensor> = Shapes.gen b |> Gen.bind (ofShape dtype v)

    // ---- shrinking -------------------------------------------------------------------------------------------

    /// The leading `keep` entries of data along `axis` (the axis removed when `drop`).
    let private take (shape: int[]) (data: float[]) (axis: int) (keep: int) (drop: bool) =
        let outer = Array.fold (*) 1 shape.[.. axis - 1]
        let inner = Array.fold (*) 1 shape.[axis + 1 ..]
        let n = shape.[axis]
        let out = [| for o in 0 .. outer - 1 do
                        for k in 0 .. keep - 1 do
                            for i in 0 .. inner - 1 -> data.[(o * n + k) * inner + i] |]
        (if drop then Array.removeAt axis shape else Array.updateAt axis keep shape), out

    let private rebuild (like: Tensor) (shape: int[]) (data: float[]) =
        let t = make like.DType shape data
        if like.Device = Device.Cpu then t else t.ToDevice like.Device

    /// Simpler values for t's elements, shape unchanged: every element shrunk at once, then one at a time.
    let shrinkValues (v: Values) (t: Tensor) : Tensor seq =
        if t.DType = DType.Bool then Seq.empty else
        let shape, data = t.Shape, t.ToDoubleArray()
        let first = data |> Array.map (fun x -> Values.shrink v x |> Seq.tryHead |> Option.defaultValue x)
        seq {
            if data.Length > 1 && first <> data then yield rebuild t shape first
            for i in 0 .. data.Length - 1 do
                for c in Values.shrink v data.[i] -> rebuild t shape (Array.updateAt i c data)
        }

    /// Smaller tensors than t within b (a dimension dropped, set to b.MinSide or halved), then simpler values.
    let shrink (v: Values) (b: ShapeBounds) (t: Tensor) : Tensor seq =
        let shape, data = t.Shape, lazy (t.ToDoubleArray())
        seq {
            if shape.Length > b.MinRank then
                for axis in 0 .. shape.Length - 1 -> take shape data.Value axis 1 true ||> rebuild t
            for axis in 0 .. shape.Length - 1 do
                if shape.[axis] > b.MinSide then
                    yield take shape data.Value axis b.MinSide false ||> rebuild t
                    if shape.[axis] / 2 > b.MinSide then yield take shape data.Value axis (shape.[axis] / 2) false ||> rebuild t
            yield! shrinkValues v t
        }

    /// Tensors of dtype, shape within b, elements from v, that shrink.
    let arb (dtype: DType) (v: Values) (b: ShapeBounds) : Arbitrary<Tensor> = Arb.fromGenShrink (gen dtype v b, shrink v b)

    /// Tensors of dtype and a fixed shape with elements from v, that shrink to simpler values.
    let arbOfShape (dtype: DType) (v: Values) (shape: int[]) : Arbitrary<Tensor> =
        Arb.fromGenShrink (ofShape dtype v shape, shrinkValues v)

    /// Mutually broadcastable tensors, the i-th with elements from values.[i] (a binary op's operands, a layer's
    /// input and bias). Throws ArgumentException when values is empty.
    let broadcastGen (dtype: DType) (values: Values[]) (b: ShapeBounds) : Gen<Tensor[]> =
        let shapes =
            if values.Length = 2 then Shapes.broadcastPair b |> Gen.map (fun (s, t) -> [| s; t |])
            else Shapes.mutuallyBroadcastable values.Length b
        shapes |> Gen.bind (fun ss -> Array.map2 (ofShape dtype) values ss |> Array.toList |> Gen.sequenceToList |> Gen.map Array.ofList)

    /// Smaller tuples that still broadcast: the leading dimension of the broadcast shape dropped, a dimension of it
    /// set to b.MinSide (or halved) in every operand that has it, a leading size-1 dimension dropped from one
    /// operand; then simpler values in one operand at a time.
    let shrinkBroadcast (values: Values[]) (b: ShapeBounds) (ts: Tensor[]) : Tensor[] seq =
        let shapes = ts |> Array.map (fun t -> t.Shape)
        let data = ts |> Array.map (fun t -> lazy (t.ToDoubleArray()))
        let rank = shapes |> Array.map Array.length |> Array.fold max 0
        let full = Shapes.broadcast shapes
        let alongResult (j: int) (keep: int) (drop: bool) =
            ts |> Array.mapi (fun k t ->
                let i = j - (rank - shapes.[k].Length)
                if i < 0 || (not drop && shapes.[k].[i] <= keep) then t
                else take shapes.[k] data.[k].Value i keep drop ||> rebuild t)
        seq {
            if rank > b.MinRank then yield alongResult 0 1 true
            for j in 0 .. rank - 1 do
                if full.[j] > b.MinSide then
                    yield alongResult j b.MinSide false
                    if full.[j] / 2 > b.MinSide then yield alongResult j (full.[j] / 2) false
            for k in 0 .. ts.Length - 1 do
                if shapes.[k].Length > b.MinRank && shapes.[k].[0] = 1 && shapes.[k].Length < rank then
                    yield Array.updateAt k (take shapes.[k] data.[k].Value 0 1 true ||> rebuild ts.[k]) ts
            for k in 0 .. ts.Length - 1 do
                for t' in shrinkValues values.[k] ts.[k] -> Array.updateAt k t' ts
        }

    /// Mutually broadcastable tensors (see broadcastGen) that shrink together and stay broadcastable.
    let arbBroadcast (dtype: DType) (values: Values[]) (b: ShapeBounds) : Arbitrary<Tensor[]> =
        if values.Length = 0 then invalidArg "values" "Tensors.arbBroadcast: give the Values of at least one operand"
        Arb.fromGenShrink (broadcastGen dtype values b, shrinkBroadcast values b)
