/// Adversarial inputs for every public op (issue 12): NaN, ±inf, ±0, subnormals and huge values; empty, 0-D and
/// size-1 shapes; transposed, strided and broadcast views; every dtype; dimensions and indices out of range;
/// operand shapes that do not broadcast. Properties: only the library's documented exceptions escape (the
/// TensorException family and ArgumentException; never NullReference, IndexOutOfRange, Overflow or InvalidCast);
/// the same call twice gives the same bits; a view gives the same bits as its contiguous copy; an elementwise op on
/// moderate Float32 inputs agrees with the same op in Float64.
module FunctionalAD.Tests.FuzzTests

open System
open Expecto
open FunctionalAD
open FunctionalAD.Autodiff
open FunctionalAD.Backends

let private specials = [| nan; infinity; -infinity; 0.0; -0.0; 5e-324; 1e-310; 1.0; -1.0; 3.0; 1e30; -1e30; 0.5 |]

let private value (rng: Random) = if rng.Next 3 = 0 then specials.[rng.Next specials.Length] else rng.NextDouble() * 8.0 - 4.0

let private dtypes = [| DType.Float32; DType.Float64; DType.Int32; DType.Int64; DType.Bool |]

let private shapeOf (rng: Random) = Array.init (rng.Next 4) (fun _ -> [| 0; 1; 1; 2; 3; 3 |].[rng.Next 6])

/// A tensor of the shape and dtype holding adversarial values (converted by casting, so integer dtypes see the
/// casts of NaN and inf too).
let private make (rng: Random) (shape: int[]) (dtype: DType) =
    let n = Shape.Numel shape
    (Tensor.FromArray(Array.init n (fun _ -> value rng), shape)).To dtype

/// The same values as a view: transposed, strided (every other element of a larger tensor) or broadcast.
let private viewOf (rng: Random) (t: Tensor) =
    match rng.Next 4 with
    | 1 when t.Rank >= 2 -> (t.Transpose(0, 1).To t.DType |> fun c -> Tensor.Concat([| c; c |], 0).Slice(0, Nullable 0, Nullable c.Shape.[0], 1)).Transpose(0, 1)
    | 2 when t.Rank >= 1 -> Tensor.Stack([| t; t |], -1).Select(-1, 0)
    | 3 when t.Rank >= 1 && t.Shape.[0] = 1 -> t.BroadcastTo(t.Shape) // size-1 leading dim kept as is
    | _ -> t

let private contiguous (t: Tensor) = Tensor(CpuBackend.Instance.Contiguous(t.Value))

/// Exceptions that say, by name, that an input is mathematically unsuitable (a singular matrix, say).
let private mathematical (e: exn) = e.GetType().Name.EndsWith "MatrixException" || e.GetType().Name.StartsWith "NotPositiveDefinite"

/// The bits of a result (NaN payloads included), so that "the same" means bit-identical.
let private bits (t: Tensor) : int64[] =
    match t.DType with
    | DType.Float32 -> t.ToArray<float32>() |> Array.map (fun v -> int64 (BitConverter.SingleToInt32Bits v))
    | DType.Float64 -> t.ToArray<float>() |> Array.map BitConverter.DoubleToInt64Bits
    | DType.Int32 -> t.ToArray<int>() |> Array.map int64
    | DType.Int64 -> t.ToArray<int64>()
    | _ -> t.ToArray<bool>() |> Array.map (fun b -> if b then 1L else 0L)

let private allowed (e: exn) = e :? ArgumentException || e :? OutOfMemoryException || mathematical e

/// One op under fuzz: a name and a function of the inputs and a random source (for its dims, indices, shapes).
type private Case = { Name: string; Arity: int; Run: Random -> Tensor[] -> Tensor }

let private unary name f = { Name = name; Arity = 1; Run = fun _ xs -> f xs.[0] }
let private binary name f = { Name = name; Arity = 2; Run = fun _ xs -> f xs.[0] xs.[1] }
let private withDim name f = { Name = name; Arity = 1; Run = fun (rng: Random) xs -> f xs.[0] (rng.Next 7 - 3) }

/// Elementwise ops by name, for the Float64 reference check.
let private elementwiseNames = OpRegistry.All |> Seq.map (fun o -> o.Name) |> Set.ofSeq

/// A Float32 result of an elementwise op agrees with the same op on the inputs converted to Float64 (exactly, so
/// both see the same numbers), where the inputs are moderate and both results finite.
let private agreesWithFloat64 (case: Case) (argSeed: int) (inputs: Tensor[]) (y: Tensor) (describe: unit -> string) =
    let moderate (t: Tensor) = t.DType = DType.Float32 && t.ToDoubleArray() |> Array.forall (fun v -> Double.IsFinite v && abs v < 1e3)
    if elementwiseNames.Contains case.Name && y.DType = DType.Float32 && inputs |> Array.forall moderate then
        match (try Ok (case.Run (Random argSeed) (inputs |> Array.map (fun t -> t.To DType.Float64))) with e -> Error e) with
        | Ok r ->
            let a, b = y.ToDoubleArray(), (r.To DType.Float32).ToDoubleArray()
            for i in 0 .. a.Length - 1 do
                if Double.IsFinite a.[i] && Double.IsFinite b.[i] && abs (a.[i] - b.[i]) > 1e-5 + 1e-4 * abs b.[i] then
                    failtestf "%s: element %d is %g in Float32 but %g in Float64" (describe ()) i a.[i] b.[i]
        | Error e -> failtestf "%s: Float64 inputs threw %s where Float32 ones did not: %s" (describe ()) (e.GetType().Name) e.Message

let private cases : Case list =
    [ for op in OpRegistry.All do
        if op.Arity = 1 then yield unary op.Name (fun x -> op.Apply.Invoke [| x |])
        else yield binary op.Name (fun a b -> op.Apply.Invoke [| a; b |])
      yield! [ withDim "sum" (fun x d -> x.Sum(d)); unary "sumAll" (fun x -> x.Sum()); withDim "mean" (fun x d -> x.Mean(d))
               withDim "prod" (fun x d -> x.Prod([| d |])); withDim "max" (fun x d -> x.Max(d)); withDim "min" (fun x d -> x.Min(d))
               withDim "argmax" (fun x d -> x.ArgMax(Nullable d)); withDim "argmin" (fun x d -> x.ArgMin(Nullable d))
               withDim "logsumexp" (fun x d -> x.LogSumExp(d)); withDim "softmax" (fun x d -> x.Softmax(d))
               withDim "logSoftmax" (fun x d -> x.LogSoftmax(d)); withDim "var" (fun x d -> x.Var([| d |]))
               withDim "squeeze" (fun x d -> x.Squeeze(Nullable d)); withDim "unsqueeze" (fun x d -> x.Unsqueeze(d))
               withDim "flattenTranspose" (fun x d -> x.Transpose(d, 0)); withDim "select" (fun x d -> x.Select(0, d))
               withDim "narrow" (fun x d -> x.Narrow(0, d, 1)); withDim "slice" (fun x d -> x.Slice(d, Nullable 1, Nullable 3, 2))
               withDim "split" (fun x d -> Tensor.Concat(x.Split(2, d), d)); withDim "concat" (fun x d -> Tensor.Concat([| x; x |], d))
               withDim "stack" (fun x d -> Tensor.Stack([| x; x |], d)); withDim "indexSelect" (fun x d -> x.IndexSelect(0, tensor [ int64 d ]))
               withDim "reshape" (fun x d -> x.Reshape(d, -1)); withDim "clamp" (fun x d -> x.Clamp(float d, 2.0))
               withDim "oneHot" (fun x d -> x.OneHot(d + 3))
               unary "neg op" (fun x -> -x); unary "eq scalar" (fun x -> x.Eq 0.0); unary "cast f32" (fun x -> x.To DType.Float32)
               unary "cast i64" (fun x -> x.To DType.Int64); unary "cast bool" (fun x -> x.To DType.Bool); unary "mul int" (fun x -> x * 3)
               binary "matmul" (fun a b -> a.MatMul b); binary "where" (fun a b -> Tensor.Where(a.Gt 0.0, a, b))
               binary "lt" (fun a b -> a.Lt b); binary "gather" (fun a b -> a.Gather(0, b.To DType.Int64))
               binary "concat2" (fun a b -> Tensor.Concat([| a; b |], 0))
               withDim "cumsum" (fun x d -> x.Cumsum(d)); withDim "flip" (fun x d -> x.Flip(d)); withDim "roll" (fun x d -> x.Roll(2, d))
               withDim "repeat" (fun x d -> x.Repeat(Array.create (max x.Rank 1) (abs d))); withDim "norm" (fun x d -> x.Norm(float d))
               unary "nansum" (fun x -> x.NanSum()); withDim "argsort" (fun x d -> x.Argsort(d)); withDim "topk" (fun x d -> let struct (v, _) = x.TopK(1, d) in v)
               withDim "quantile" (fun x d -> x.Quantile(0.25, d)); withDim "median" (fun x d -> let struct (v, _) = x.Median(d) in v)
               binary "conv2d" (fun a b -> a.Conv2d(b)); withDim "maxPool2d" (fun x d -> x.MaxPool2d([| abs d + 1; 1 |]))
               withDim "pad" (fun x d -> x.Pad([| d; 1 |])); withDim "tril" (fun x d -> x.Tril(d))
               binary "solve" (fun a b -> Linalg.Solve(a, b)); unary "cholesky" (fun a -> Linalg.Cholesky a)
               unary "det" (fun a -> Linalg.Det a); unary "inv" (fun a -> Linalg.Inv a); unary "eigvalsh" (fun a -> Linalg.Eigvalsh a)
               withDim "cumprod" (fun x d -> x.Cumprod(d)); unary "nonzero" (fun x -> x.Nonzero())
               binary "maskedSelect" (fun a b -> a.MaskedSelect(b.Gt 0.0)); withDim "diagEmbed" (fun x _ -> x.DiagEmbed()) ] ]

/// Runs case number `seed`; true when the op returned a result (false: it refused the input as documented).
let private check (seed: int) : bool =
    let rng = Random seed
    let case = cases.[rng.Next cases.Length]
    let shapeA = shapeOf rng
    // second operands: the same shape, a broadcastable one, or an arbitrary (maybe incompatible) one
    let shapeB = match rng.Next 3 with 0 -> shapeA | 1 -> Array.map (fun d -> if rng.Next 2 = 0 then 1 else d) shapeA | _ -> shapeOf rng
    let xs = [| make rng shapeA dtypes.[rng.Next dtypes.Length]; make rng shapeB dtypes.[rng.Next dtypes.Length] |].[.. case.Arity - 1]
    let views = xs |> Array.map (viewOf rng)
    let argSeed = rng.Next()
    let run (inputs: Tensor[]) = try Ok (case.Run (Random argSeed) inputs) with e -> Error e
    let describe () = sprintf "%s (seed %d) on %s" case.Name seed (views |> Array.map (fun t -> sprintf "%O%s" t.DType (Shape.Format t.Shape)) |> String.concat ", ")
    match run views with
    | Error e when not (allowed e) -> failtestf "%s threw %s: %s" (describe ()) (e.GetType().Name) e.Message
    | Error _ -> false
    | Ok y ->
        agreesWithFloat64 case argSeed views y describe
        match run views with
        | Ok y2 when bits y = bits y2 -> ()
        | _ -> failtestf "%s: two calls gave different results" (describe ())
        match run (views |> Array.map contiguous) with
        | Ok yc when bits yc = bits y && yc.Shape = y.Shape && yc.DType = y.DType -> true
        | Ok yc -> failtestf "%s: the view gave %A, its contiguous copy %A" (describe ()) (y.ToDoubleArray()) (yc.ToDoubleArray())
        | Error e -> failtestf "%s: the contiguous copy threw %s: %s" (describe ()) (e.GetType().Name) e.Message

let tests =
    testList "fuzz: adversarial inputs for every op" [
        testCase "every op, 4,000 random cases" <| fun () ->
            let succeeded = [ for seed in 1 .. 4000 -> check seed ] |> List.filter id |> List.length
            // most cases must compute something, or the properties above would hold vacuously
            Expect.isGreaterThan succeeded 2000 (sprintf "%d of 4,000 cases returned a result" succeeded)
        testCase "every op is drawn" <| fun () ->
            let drawn = [ for seed in 1 .. 4000 -> (Random seed).Next cases.Length ] |> List.distinct |> List.length
            Expect.equal drawn cases.Length "4,000 seeds cover every case"
    ]
