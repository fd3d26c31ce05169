namespace FunctionalAD.Testing

open FsCheck
open FsCheck.FSharp

/// Bounds on generated shapes (Hypothesis's array_shapes(min_dims, max_dims, min_side, max_side)).
type ShapeBounds =
    { /// Fewest dimensions (0: scalars allowed).
      MinRank: int
      /// Most dimensions.
      MaxRank: int
      /// Smallest size of a dimension.
      MinSide: int
      /// Largest size of a dimension.
      MaxSide: int }

/// Generators and shrinkers of shapes and of broadcast-compatible shapes. Shapes shrink toward fewer dimensions
/// and sizes of 1.
[<RequireQualifiedAccess>]
module Shapes =

    /// Rank 0..3, sizes 1..4: small enough that finite differences (one call per element) stay cheap.
    let private genCE = FsCheck.FSharp.GenBuilder.gen

    let small = { MinRank = 0; MaxRank = 3; MinSide = 1; MaxSide = 4 }

    /// Bounds with every rank in [minRank, maxRank] and sizes in [minSide, maxSide]. Throws ArgumentException on
    /// negative or crossed bounds.
    let bounds (minRank: int) (maxRank: int) (minSide: int) (maxSide: int) =
        if minRank < 0 || minRank > maxRank then invalidArg "minRank" (sprintf "Shapes.bounds: need 0 <= minRank <= maxRank, got %d, %d" minRank maxRank)
        if minSide < 0 || minSide > maxSide then invalidArg "minSide" (sprintf "Shapes.bounds: need 0 <= minSide <= maxSide, got %d, %d" minSide maxSide)
        { MinRank = minRank; MaxRank = maxRank; MinSide = minSide; MaxSide = maxSide }

    let private side (b: ShapeBounds) =
        if b.MaxSide = b.MinSide then Gen.constant b.MinSide
        else Gen.frequency [ 1, Gen.constant b.MinSide; 3, Gen.choose (b.MinSide + 1, b.MaxSide) ]

    /// Shapes within b; a dimension is b.MinSide one time in four (size-1 dimensions exercise broadcasting).
    let gen (b: ShapeBounds) : Gen<int[]> =
        genCE {
            let! rank = Gen.choose (b.MinRank, b.MaxRank)
            return! Gen.arrayOfLength rank (side b)
        }

    /// Smaller shapes within b: a dimension dropped, then a dimension set to b.MinSide, then halved.
    let shrink (b: ShapeBounds) (s: int[]) : int[] seq =
        seq {
            if s.Length > b.MinRank then
                for i in 0 .. s.Length - 1 -> Array.removeAt i s
            for i in 0 .. s.Length - 1 do
                if s.[i] > b.MinSide then
                    yield Array.updateAt i b.MinSide s
                    if s.[i] / 2 > b.MinSide then yield Array.updateAt i (s.[i] / 2) s
        }

    /// Shapes within b that shrink.
    let arb (b: ShapeBounds) : Arbitrary<int[]> = Arb.fromGenShrink (gen b, shrink b)

    /// The shape that shapes broadcast to (NumPy rules). Throws ArgumentException naming the first clash.
    let broadcast (shapes: int[] seq) : int[] =
        let shapes = Array.ofSeq shapes
        let rank = if shapes.Length = 0 then 0 else shapes |> Array.map Array.length |> Array.max
        Array.init rank (fun j ->
            let sizes = shapes |> Array.choose (fun s -> let i = j - (rank - s.Length) in if i >= 0 then Some s.[i] else None)
            let big = sizes |> Array.filter ((<>) 1) |> Array.distinct
            match big with
            | [||] -> 1
            | [| d |] -> d
            | _ -> invalidArg "shapes" (sprintf "Shapes.broadcast: sizes %A clash in dimension %d of %A" big j shapes))

    /// A shape that broadcasts with `shape` (Hypothesis's broadcastable_shapes): leading dimensions dropped and
    /// some sizes set to 1.
    let broadcastableTo (shape: int[]) : Gen<int[]> =
        genCE {
            let! drop = Gen.choose (0, shape.Length)
            let! ones = Gen.arrayOfLength (shape.Length - drop) (Gen.frequency [ 3, Gen.constant false; 1, Gen.constant true ])
            return Array.mapi (fun i d -> if ones.[i] then 1 else d) shape.[drop..]
        }

    /// A shape within b and one that broadcasts with it, in either order.
    let broadcastPair (b: ShapeBounds) : Gen<int[] * int[]> =
        genCE {
            let! s = gen b
            let! t = broadcastableTo s
            let! swap = Gen.elements [ true; false ]
            return if swap then t, s else s, t
        }

    /// n shapes that broadcast together (Hypothesis's mutually_broadcastable_shapes): one shape within b and n - 1
    /// shapes broadcastable to it, the full one at a random position. Throws ArgumentException when n < 1.
    let mutuallyBroadcastable (n: int) (b: ShapeBounds) : Gen<int[][]> =
        if n < 1 then invalidArg "n" (sprintf "Shapes.mutuallyBroadcastable: need n >= 1, got %d" n)
        genCE {
            let! s = gen b
            let! others = Gen.arrayOfLength (n - 1) (broadcastableTo s)
            let! at = Gen.choose (0, n - 1)
            return Array.insertAt at s others
        }
