namespace FunctionalAD

open System
open System.Collections

/// F#-style members on Tensor (lowercase, optional arguments) and the `tensor`/`scalar` constructors.
[<AutoOpen>]
module TensorExtensions =

    type Tensor with
        /// The size of each dimension ([||] for a scalar).
        member t.shape : int[] = t.Shape
        /// The element type.
        member t.dtype : DType = t.DType
        /// Where the tensor lives.
        member t.device : Device = t.Device
        /// Number of elements.
        member t.numel : int = t.Numel
        /// Number of dimensions.
        member t.rank : int = t.Rank
        /// The value of a one-element tensor. Throws ShapeMismatchException otherwise.
        member t.item() : float = t.Item()
        /// The elements in row-major order as float[] (converted from any dtype).
        member t.toArray() : float[] = t.ToDoubleArray()
        /// The elements of a 2-D tensor as float[,]. Throws ShapeMismatchException if not 2-D.
        member t.toArray2D() : float[,] =
            let d = if t.DType = DType.Float64 then t else t.StopGradient().To(DType.Float64)
            d.ToArray2D<float>()
        /// Sum of all elements, or over `dim` (keeping it with size 1 when keepDim).
        member t.sum(?dim: int, ?keepDim: bool) =
            match dim with None -> t.Sum() | Some d -> t.Sum(d, defaultArg keepDim false)
        /// Mean of all elements, or over `dim`.
        member t.mean(?dim: int, ?keepDim: bool) =
            match dim with None -> t.Mean() | Some d -> t.Mean(d, defaultArg keepDim false)
        /// Largest element, or largest along `dim`.
        member t.max(?dim: int, ?keepDim: bool) =
            match dim with None -> t.Max() | Some d -> t.Max(d, defaultArg keepDim false)
        /// Smallest element, or smallest along `dim`.
        member t.min(?dim: int, ?keepDim: bool) =
            match dim with None -> t.Min() | Some d -> t.Min(d, defaultArg keepDim false)
        /// Product of all elements, or over `dim`.
        member t.prod(?dim: int, ?keepDim: bool) =
            match dim with None -> t.Prod() | Some d -> t.Prod([| d |], defaultArg keepDim false)
        /// Unbiased variance of all elements, or over `dim`.
        member t.var(?dim: int, ?keepDim: bool) =
            match dim with None -> t.Var() | Some d -> t.Var([| d |], defaultArg keepDim false)
        /// Unbiased standard deviation of all elements, or over `dim`.
        member t.std(?dim: int, ?keepDim: bool) =
            match dim with None -> t.Std() | Some d -> t.Std([| d |], defaultArg keepDim false)
        /// log Σ exp over all elements, or over `dim`.
        member t.logsumexp(?dim: int, ?keepDim: bool) =
            match dim with None -> t.LogSumExp() | Some d -> t.LogSumExp(d, defaultArg keepDim false)
        /// Index of the largest element (flattened), or along `dim` (Int64).
        member t.argmax(?dim: int) = match dim with None -> t.ArgMax() | Some d -> t.ArgMax(Nullable d)
        /// Index of the smallest element (flattened), or along `dim` (Int64).
        member t.argmin(?dim: int) = match dim with None -> t.ArgMin() | Some d -> t.ArgMin(Nullable d)
        /// Same elements, new shape (one -1 inferred).
        member t.reshape([<ParamArray>] shape: int[]) = t.Reshape(shape)
        /// Same elements, new shape (PyTorch's name).
        member t.view([<ParamArray>] shape: int[]) = t.Reshape(shape)
        /// Dimensions reordered.
        member t.permute([<ParamArray>] dims: int[]) = t.Permute(dims)
        /// Two dimensions swapped.
        member t.transpose(dim0, dim1) = t.Transpose(dim0, dim1)
        /// Size-1 dimension inserted at dim.
        member t.unsqueeze(dim) = t.Unsqueeze(dim)
        /// Size-1 dimensions removed (all, or only `dim`).
        member t.squeeze(?dim: int) = match dim with None -> t.Squeeze() | Some d -> t.Squeeze(Nullable d)
        /// All elements in one dimension.
        member t.flatten() = t.Flatten()
        /// Cumulative sum along `dim`.
        member t.cumsum(dim: int) = t.Cumsum(dim)
        /// Elements reversed along each of `dims`.
        member t.flip([<ParamArray>] dims: int[]) = t.Flip(dims)
        /// Elements shifted by `shift` along `dim`, wrapping around.
        member t.roll(shift: int, dim: int) = t.Roll(shift, dim)
        /// The tensor repeated along each dimension (PyTorch's repeat).
        member t.repeat([<ParamArray>] repeats: int[]) = t.Repeat(repeats)
        /// The tensor tiled (NumPy's tile).
        member t.tile([<ParamArray>] repeats: int[]) = t.Tile(repeats)
        /// `chunks` pieces along `dim`.
        member t.chunk(chunks: int, ?dim: int) = t.Chunk(chunks, defaultArg dim 0)
        /// The slices along `dim`.
        member t.unbind(?dim: int) = t.Unbind(defaultArg dim 0)
        /// Dimension `source` moved to `destination`.
        member t.movedim(source: int, destination: int) = t.Movedim(source, destination)
        /// PyTorch's scatter (out of place): src's elements written at the positions index addresses along dim.
        member t.scatter(dim: int, index: Tensor, src: Tensor) = t.Scatter(dim, index, src)
        /// PyTorch's scatter_reduce (out of place); reduce is "sum", "prod", "mean", "amax" or "amin".
        member t.scatterReduce(dim: int, index: Tensor, src: Tensor, reduce: string, ?includeSelf: bool) =
            let r =
                match reduce with
                | "sum" -> ScatterReduction.Sum | "prod" -> ScatterReduction.Prod | "mean" -> ScatterReduction.Mean
                | "amax" -> ScatterReduction.Amax | "amin" -> ScatterReduction.Amin
                | other -> invalidArg "reduce" (sprintf "scatterReduce: reduce must be sum, prod, mean, amax or amin, got %s" other)
            t.ScatterReduce(dim, index, src, r, defaultArg includeSelf true)
        /// PyTorch's index_add (out of place): alpha·source's slices added at index along dim.
        member t.indexAdd(dim: int, index: Tensor, source: Tensor, ?alpha: float) = t.IndexAdd(dim, index, source, defaultArg alpha 1.0)
        /// PyTorch's index_put (out of place): values at the positions the index tensors (or one Bool mask) address.
        member t.indexPut(indices: Tensor list, values: Tensor, ?accumulate: bool) =
            t.IndexPut(List.toArray indices, values, defaultArg accumulate false)
        /// The vector p-norm (default 2) of all elements, or over `dims`.
        member t.norm(?p: float, ?dims: int[], ?keepDim: bool) = t.Norm(defaultArg p 2.0, Option.toObj dims, defaultArg keepDim false)
        /// True when every element is nonzero.
        member t.all() = t.All()
        /// True when any element is nonzero.
        member t.any() = t.Any()
        /// Broadcast view with the given shape.
        member t.expand([<ParamArray>] shape: int[]) = t.BroadcastTo(shape)
        /// Matrix product (PyTorch semantics).
        member t.matmul(other: Tensor) = t.MatMul(other)
        /// Dot product of 1-D tensors.
        member t.dot(other: Tensor) = t.Dot(other)
        /// Converted to a dtype.
        member t.toDtype(dtype: DType) = t.To(dtype)
        /// Copied to a device (PyTorch's .to(device) / .cuda() / .cpu()).
        member t.toDevice(device: Device) = t.ToDevice(device)
        /// Copied to the CPU.
        member t.cpu() = t.ToDevice(Device.Cpu)
        /// Elements start..end-1 (step) along dim, Python-style.
        member t.slice(dim: int, ?start: int, ?stop: int, ?step: int) =
            t.Slice(dim, Option.toNullable start, Option.toNullable stop, defaultArg step 1)
        /// Softmax along dim (default last).
        member t.softmax(?dim: int) = t.Softmax(defaultArg dim -1)
        /// Log-softmax along dim (default last).
        member t.logSoftmax(?dim: int) = t.LogSoftmax(defaultArg dim -1)
        /// F# slicing t.[a..b] along dimension 0.
        member t.GetSlice(start: int option, finish: int option) =
            t.Slice(0, Option.toNullable start, (finish |> Option.map ((+) 1) |> Option.toNullable))
        /// F# slicing t.[a..b, c..d] along dimensions 0 and 1.
        member t.GetSlice(s0: int option, f0: int option, s1: int option, f1: int option) =
            t.Slice(0, Option.toNullable s0, (f0 |> Option.map ((+) 1) |> Option.toNullable))
             .Slice(1, Option.toNullable s1, (f1 |> Option.map ((+) 1) |> Option.toNullable))

        /// Zeros of the given shape (Float32 unless dtype is given).
        static member zeros(shape: int list, ?dtype: DType, ?device: Device) =
            Tensor.Zeros(List.toArray shape, defaultArg dtype DType.Float32, Option.toNullable device)
        /// Ones of the given shape (Float32 unless dtype is given).
        static member ones(shape: int list, ?dtype: DType, ?device: Device) =
            Tensor.Ones(List.toArray shape, defaultArg dtype DType.Float32, Option.toNullable device)
        /// The given value everywhere (Float32 unless dtype is given).
        static member full(shape: int list, value: float, ?dtype: DType, ?device: Device) =
            Tensor.Full(List.toArray shape, value, defaultArg dtype DType.Float32, Option.toNullable device)
        /// start, start+step, ... below stop (Float32 unless dtype is given).
        static member arange(stop: float, ?start: float, ?step: float, ?dtype: DType) =
            Tensor.Arange(defaultArg start 0.0, stop, defaultArg step 1.0, defaultArg dtype DType.Float32)
        /// `steps` evenly spaced values from start to stop inclusive.
        static member linspace(start: float, stop: float, steps: int, ?dtype: DType) =
            Tensor.Linspace(start, stop, steps, defaultArg dtype DType.Float32)
        /// The n×n identity.
        static member eye(n: int, ?dtype: DType) = Tensor.Eye(n, Nullable(), defaultArg dtype DType.Float32)
        /// Uniform [0,1) samples; `seed` fixes them (same numbers on every machine).
        static member rand(shape: int list, seed: uint64, ?dtype: DType) =
            Tensor.Rand(List.toArray shape, Generator seed, defaultArg dtype DType.Float32)
        /// Standard normal samples; `seed` fixes them.
        static member randn(shape: int list, seed: uint64, ?dtype: DType) =
            Tensor.Randn(List.toArray shape, Generator seed, defaultArg dtype DType.Float32)
        /// Uniform integers in [low, high) (Int64); `seed` fixes them.
        static member randint(low: int64, high: int64, shape: int list, seed: uint64) =
            Tensor.Randint(low, high, List.toArray shape, Generator seed)

    let private leafKind (o: obj) =
        match o with
        | :? float -> 4 | :? float32 -> 3 | :? int64 -> 2 | :? int -> 1 | :? bool -> 0
        | _ -> -1

    /// Walks nested sequences, checking they are rectangular; returns the shape and the leaves in row-major order.
    let rec private collect (o: obj) : int list * obj list =
        match o with
        | null -> invalidArg "data" "tensor: null is not tensor data"
        | :? string -> invalidArg "data" "tensor: a string is not tensor data"
        | o when leafKind o >= 0 -> [], [ o ]
        | :? Tensor as t -> List.ofArray t.Shape, (t.ToDoubleArray() |> Array.map box |> List.ofArray)
        | :? IEnumerable as items ->
            let children = [ for i in items -> collect (box i) ]
            match children with
            | [] -> [ 0 ], []
            | (s0, _) :: _ ->
                children |> List.iteri (fun i (s, _) ->
                    if s <> s0 then
                        raise (ShapeMismatchException("tensor", sprintf "element %d has shape %A but element 0 has shape %A (nested data must be rectangular)" i s s0)))
                (List.length children :: s0), List.collect snd children
        | o -> invalidArg "data" (sprintf "tensor: values of type %s are not tensor data; expected numbers, bools, lists, arrays or sequences of them" (o.GetType().Name))

    /// A tensor from F# data: a number, a (nested) list, a sequence, a 1-D/2-D/3-D array or a jagged array.
    /// dtype follows the data: float -> Float64, float32 -> Float32, int -> Int32, int64 -> Int64, bool -> Bool
    /// (mixed numbers are promoted). Throws ShapeMismatchException for ragged data, ArgumentException for other types.
    let tensor (data: obj) : Tensor =
        match data with
        | :? (float[]) as a -> Tensor.FromArray(a)
        | :? (float32[]) as a -> Tensor.FromArray(a)
        | :? (int[]) as a -> Tensor.FromArray(a)
        | :? (int64[]) as a -> Tensor.FromArray(a)
        | :? (bool[]) as a -> Tensor.FromArray(a)
        | :? Tensor as t -> t
        | :? Array as a when a.Rank > 1 -> Tensor.FromArray(a)
        | _ ->
            let shape, leaves = collect data
            let shape = List.toArray shape
            let kind = if List.isEmpty leaves then 4 else leaves |> List.map leafKind |> List.max
            let mixed = leaves |> List.exists (fun l -> leafKind l <> kind)
            if mixed && kind = 0 then invalidArg "data" "tensor: cannot mix bools and numbers"
            match kind with
            | 4 -> Tensor.FromArray(leaves |> List.map Convert.ToDouble |> List.toArray, shape)
            | 3 -> Tensor.FromArray(leaves |> List.map Convert.ToSingle |> List.toArray, shape)
            | 2 -> Tensor.FromArray(leaves |> List.map Convert.ToInt64 |> List.toArray, shape)
            | 1 -> Tensor.FromArray(leaves |> List.map Convert.ToInt32 |> List.toArray, shape)
            | _ -> Tensor.FromArray(leaves |> List.map unbox<bool> |> List.toArray, shape)
            |> fun t -> if shape.Length = 0 then t.Reshape([||]) else t

    /// A 0-D tensor; dtype follows the value's type.
    let scalar (x: 'T) : Tensor = Tensor.Scalar<'T>(x)

    /// Logistic sigmoid.
    let sigmoid (x: Tensor) = x.Sigmoid()
    /// max(x, 0).
    let relu (x: Tensor) = x.Relu()
    /// log(1 + e^x), stable.
    let softplus (x: Tensor) = x.Softplus()
    /// SiLU (swish): x·sigmoid(x).
    let silu (x: Tensor) = x.Silu()
    /// ELU with α = 1 (x.Elu(alpha) for another α).
    let elu (x: Tensor) = x.Elu()
    /// SELU (PyTorch's constants).
    let selu (x: Tensor) = x.Selu()
    /// x for x > 0, slope·x otherwise.
    let leakyRelu (slope: float) (x: Tensor) = x.LeakyRelu(slope)
    /// x limited to [-1, 1], derivative 0 on the boundaries (x.Hardtanh(min, max) for other bounds).
    let hardtanh (x: Tensor) = x.Hardtanh()
    /// Mish: x·tanh(softplus x).
    let mish (x: Tensor) = x.Mish()
    /// x/(1 + |x|).
    let softsign (x: Tensor) = x.Softsign()
    /// log(sigmoid x), stable.
    let logSigmoid (x: Tensor) = x.LogSigmoid()
    /// The error function.
    let erf (x: Tensor) = x.Erf()
    /// 1 - erf x, accurate in the tail.
    let erfc (x: Tensor) = x.Erfc()
    /// The inverse error function.
    let erfinv (x: Tensor) = x.Erfinv()
    /// log|Γ(x)|.
    let lgamma (x: Tensor) = x.Lgamma()
    /// Γ'(x)/Γ(x).
    let digamma (x: Tensor) = x.Digamma()
    /// Base-2 logarithm (F#'s own log10 works on tensors too).
    let log2 (x: Tensor) = x.Log2()
    /// Inverse hyperbolic sine.
    let asinh (x: Tensor) = x.Asinh()
    /// Inverse hyperbolic cosine.
    let acosh (x: Tensor) = x.Acosh()
    /// Inverse hyperbolic tangent.
    let atanh (x: Tensor) = x.Atanh()
    /// log(e^a + e^b), without overflow.
    let logaddexp (a: Tensor) (b: Tensor) = Tensor.LogAddExp(a, b)
    /// a·log b, 0 where a = 0.
    let xlogy (a: Tensor) (b: Tensor) = Tensor.Xlogy(a, b)
    /// √(a² + b²), without overflow.
    let hypot (a: Tensor) (b: Tensor) = Tensor.Hypot(a, b)
    /// Remainder with the sign of a (C's fmod).
    let fmod (a: Tensor) (b: Tensor) = Tensor.Fmod(a, b)
    /// Remainder with the sign of b (Python's %).
    let remainder (a: Tensor) (b: Tensor) = Tensor.Remainder(a, b)
    /// True where NaN (Bool).
    let isnan (x: Tensor) = x.IsNan()
    /// True where ±∞ (Bool).
    let isinf (x: Tensor) = x.IsInf()
    /// True where finite (Bool).
    let isfinite (x: Tensor) = x.IsFinite()
    /// NaN → 0, ±∞ → the dtype's largest/smallest finite value (x.NanToNum(nan, posinf, neginf) to choose).
    let nanToNum (x: Tensor) = x.NanToNum()
    /// Elementwise not (Bool; nonzero is true).
    let logicalNot (x: Tensor) = x.LogicalNot()
    /// Elementwise and (Bool; nonzero is true).
    let logicalAnd (a: Tensor) (b: Tensor) = a.LogicalAnd(b)
    /// Elementwise or (Bool; nonzero is true).
    let logicalOr (a: Tensor) (b: Tensor) = a.LogicalOr(b)
    /// Elementwise exclusive or (Bool; nonzero is true).
    let logicalXor (a: Tensor) (b: Tensor) = a.LogicalXor(b)
    /// x limited to [lo, hi] with tensor bounds (broadcasting).
    let clip (lo: Tensor) (hi: Tensor) (x: Tensor) = x.Clip(lo, hi)
    /// log(1 + x).
    let log1p (x: Tensor) = x.Log1p()
    /// e^x - 1.
    let expm1 (x: Tensor) = x.Expm1()
    /// 1/√x.
    let rsqrt (x: Tensor) = x.Rsqrt()
    /// x limited to [lo, hi].
    let clamp lo hi (x: Tensor) = x.Clamp(lo, hi)
    /// cond ? a : b elementwise.
    let where (cond: Tensor) (a: Tensor) (b: Tensor) = Tensor.Where(cond, a, b)
    /// The bucket of each value among sorted 1-D boundaries (PyTorch's bucketize; Int64).
    let bucketize (boundaries: Tensor) (x: Tensor) = Tensor.Bucketize(x, boundaries)
    /// Matrix product.
    let matmul (a: Tensor) (b: Tensor) = a.MatMul(b)
    /// Sum of all elements (also a function: `sum (sin x)`).
    let sum (x: Tensor) = x.Sum()
    /// Mean of all elements.
    let mean (x: Tensor) = x.Mean()
