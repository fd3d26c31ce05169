namespace FunctionalAD.Testing

open System
open FsCheck
open FsCheck.FSharp
open FunctionalAD

/// Square matrices that linear-algebra code can be tested on without ill-conditioning: strictly diagonally
/// dominant (well-conditioned) and symmetric positive-definite. Both shrink to leading principal submatrices
/// (which keep the property) and then to the identity.
[<RequireQualifiedAccess>]
module Matrices =

    let private square (n: int) (what: string) =
        if n < 1 then invalidArg "n" (sprintf "Matrices.%s: need a size n >= 1, got %d" what n)

    let private offDiagonal (n: int) = Gen.arrayOfLength (n * n) (Tensors.element DType.Float64 (Values.between -1.0 1.0))

    /// n×n matrices with |a_ii| >= 1 + Σ_j≠i |a_ij| (off-diagonal entries in [-1, 1]): invertible, with an
    /// ∞-norm condition number below 2n + 1. Throws ArgumentException when n < 1.
    let wellConditioned (dtype: DType) (n: int) : Gen<Tensor> =
        square n "wellConditioned"
        gen {
            let! a = offDiagonal n
            let! signs = Gen.arrayOfLength n (Gen.elements [ 1.0; -1.0 ])
            for i in 0 .. n - 1 do
                let off = [ for j in 0 .. n - 1 do if j <> i then abs a.[i * n + j] ] |> List.sum
                a.[i * n + i] <- signs.[i] * (1.0 + off)
            return Tensors.make dtype [| n; n |] a
        }

    /// n×n symmetric positive-definite matrices B·Bᵀ + n·I (B's entries in [-1, 1]): eigenvalues in [n, n + n²].
    /// Throws ArgumentException when n < 1.
    let spd (dtype: DType) (n: int) : Gen<Tensor> =
        square n "spd"
        offDiagonal n |> Gen.map (fun b ->
            let a = Array.init (n * n) (fun k ->
                let i, j = k / n, k % n
                (List.sum [ for l in 0 .. n - 1 -> b.[i * n + l] * b.[j * n + l] ]) + (if i = j then float n else 0.0))
            Tensors.make dtype [| n; n |] a)

    /// The leading principal submatrices of m (largest first), then the identity of m's size if m is not it.
    let shrink (m: Tensor) : Tensor seq =
        let n = m.Shape.[0]
        let a = m.ToDoubleArray()
        seq {
            for k in n - 1 .. -1 .. 1 -> Tensors.make m.DType [| k; k |] (Array.init (k * k) (fun p -> a.[(p / k) * n + p % k]))
            let eye = Array.init (n * n) (fun p -> if p / n = p % n then 1.0 else 0.0)
            if a <> eye then yield Tensors.make m.DType [| n; n |] eye
        }

    /// Well-conditioned matrices of a size in [minN, maxN] that shrink.
    let arbWellConditioned (dtype: DType) (minN: int) (maxN: int) : Arbitrary<Tensor> =
        Arb.fromGenShrink (Gen.choose (minN, maxN) |> Gen.bind (wellConditioned dtype), shrink >> Seq.filter (fun m -> m.Shape.[0] >= minN))

    /// Symmetric positive-definite matrices of a size in [minN, maxN] that shrink.
    let arbSpd (dtype: DType) (minN: int) (maxN: int) : Arbitrary<Tensor> =
        Arb.fromGenShrink (Gen.choose (minN, maxN) |> Gen.bind (spd dtype), shrink >> Seq.filter (fun m -> m.Shape.[0] >= minN))

/// Index tensors (Int64) valid for a dimension: what indexSelect, gather and indexAdd take. They shrink toward 0.
[<RequireQualifiedAccess>]
module Indices =

    /// count indices in [0, size). Throws ArgumentException when size < 1 or count < 0.
    let gen (size: int) (count: int) : Gen<Tensor> =
        if size < 1 then invalidArg "size" (sprintf "Indices.gen: a dimension of size %d has no valid index" size)
        if count < 0 then invalidArg "count" (sprintf "Indices.gen: count %d is negative" count)
        Gen.arrayOfLength count (Gen.choose (0, size - 1)) |> Gen.map (fun ix -> Tensor.FromArray(ix |> Array.map int64, [| count |]))

    /// count indices valid for dimension dim of x (negative dim counts from the end). Throws ArgumentException when
    /// dim is out of range.
    let forDim (x: Tensor) (dim: int) (count: int) : Gen<Tensor> =
        let r = x.Shape.Length
        if dim < -r || dim >= r then invalidArg "dim" (sprintf "Indices.forDim: dim %d is out of range for shape %s" dim (Shape.Format x.Shape))
        gen x.Shape.[(dim + r) % r] count

    /// Index tensors with one index moved to 0 at a time.
    let shrink (index: Tensor) : Tensor seq =
        let ix = index.ToArray<int64>()
        seq { for i in 0 .. ix.Length - 1 do if ix.[i] <> 0L then yield Tensor.FromArray(Array.updateAt i 0L ix, index.Shape) }

    /// count indices in [0, size) that shrink toward 0.
    let arb (size: int) (count: int) : Arbitrary<Tensor> = Arb.fromGenShrink (gen size count, shrink)

/// Trees of parameters shaped like a model's: fresh values for every tensor, names and shapes kept.
[<RequireQualifiedAccess>]
module Trees =

    /// Params with p's names, shapes and dtypes and values drawn from v.
    let paramsLike (v: Values) (p: Params) : Gen<Params> =
        Params.toList p
        |> List.map (fun (name, t) -> Tensors.ofShape t.DType v t.Shape |> Gen.map (fun t' -> name, t'))
        |> Gen.sequenceToList
        |> Gen.map Params.ofList

    /// Simpler values in one parameter at a time.
    let shrinkParams (v: Values) (p: Params) : Params seq =
        let entries = Params.toList p
        seq {
            for i in 0 .. entries.Length - 1 do
                let name, t = entries.[i]
                for t' in Tensors.shrinkValues v t -> Params.ofList (List.updateAt i (name, t') entries)
        }

    /// Params like p (see paramsLike) that shrink.
    let arbParamsLike (v: Values) (p: Params) : Arbitrary<Params> = Arb.fromGenShrink (paramsLike v p, shrinkParams v)

    /// Params shaped like the ones model declares.
    let paramsOf (v: Values) (model: Model<'F>) : Gen<Params> = paramsLike v (fst (Model.init 0UL model))
