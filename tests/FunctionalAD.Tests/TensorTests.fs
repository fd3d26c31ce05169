/// The tensor core against straightforward reference implementations.
module FunctionalAD.Tests.TensorTests

open System
open Expecto
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Tests.Support

/// Element at a multi-index of a row-major array with the given shape, reading broadcast dimensions at 0.
let private at (data: float[]) (shape: int[]) (index: int[]) =
    let off = index.Length - shape.Length
    let mutable flat = 0
    for d in 0 .. shape.Length - 1 do
        flat <- flat * shape.[d] + (if shape.[d] = 1 then 0 else index.[d + off])
    data.[flat]

let private indices (shape: int[]) =
    let n = Array.fold (*) 1 shape
    Array.init n (fun k ->
        let idx = Array.zeroCreate shape.Length
        let mutable r = k
        for d in shape.Length - 1 .. -1 .. 0 do
            idx.[d] <- r % shape.[d]
            r <- r / shape.[d]
        idx)

let private broadcastShape (a: int[]) (b: int[]) =
    let n = max a.Length b.Length
    Array.init n (fun i ->
        let da = if i < n - a.Length then 1 else a.[i - (n - a.Length)]
        let db = if i < n - b.Length then 1 else b.[i - (n - b.Length)]
        max da db)

let private naiveMatMul (a: float[]) (m: int) (k: int) (b: float[]) (n: int) =
    Array.init (m * n) (fun ij ->
        let i, j = ij / n, ij % n
        let mutable s = 0.0
        for p in 0 .. k - 1 do s <- s + a.[i * k + p] * b.[p * n + j]
        s)

let creation =
    testList "creation" [
        testCase "dtype follows the data" <| fun () ->
            Expect.equal (tensor [ 1.0; 2.0 ]).dtype DType.Float64 "float list"
            Expect.equal (tensor [ 1.0f; 2.0f ]).dtype DType.Float32 "float32 list"
            Expect.equal (tensor [ 1; 2 ]).dtype DType.Int32 "int list"
            Expect.equal (tensor [ 1L ]).dtype DType.Int64 "int64 list"
            Expect.equal (tensor [ true; false ]).dtype DType.Bool "bool list"
            Expect.equal (Tensor.zeros [ 2 ]).dtype DType.Float32 "zeros default"
        testCase "nested lists, arrays, Array2D, jagged, spans and System.Numerics tensors agree" <| fun () ->
            let expected = [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |]
            let forms =
                [ tensor [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
                  tensor (array2D [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ])
                  tensor [| [| 1.0; 2.0; 3.0 |]; [| 4.0; 5.0; 6.0 |] |]
                  Tensor.FromJagged [| [| 1.0; 2.0; 3.0 |]; [| 4.0; 5.0; 6.0 |] |]
                  Tensor.FromSpan(ReadOnlySpan expected, 2, 3)
                  Tensor.FromNumericsTensor(Numerics.Tensors.Tensor.Create(expected, ReadOnlySpan [| 2n; 3n |])) ]
            for t in forms do
                Expect.sequenceEqual t.shape [| 2; 3 |] "shape"
                Expect.sequenceEqual (t.toArray()) expected "values"
            let t3 = tensor (Array3D.init 2 3 4 (fun i j k -> float (i * 12 + j * 4 + k)))
            Expect.sequenceEqual t3.shape [| 2; 3; 4 |] "3-D shape"
            Expect.sequenceEqual (t3.toArray()) (Array.init 24 float) "3-D values"
            Expect.sequenceEqual (t3.ToNumericsTensor<float>().Lengths.ToArray()) [| 2n; 3n; 4n |] "to System.Numerics"
        testCase "scalars" <| fun () ->
            let s = scalar 2.5
            Expect.sequenceEqual s.shape [||] "0-D"
            Expect.equal (float s) 2.5 "float t"
            Expect.equal ((tensor 3.0).shape) [||] "tensor of a number is 0-D"
        testCase "constructors" <| fun () ->
            Expect.sequenceEqual ((Tensor.arange 5.0).toArray()) [| 0.0; 1.0; 2.0; 3.0; 4.0 |] "arange"
            Expect.sequenceEqual ((Tensor.arange(2.0, 0.0, 0.5)).toArray()) [| 0.0; 0.5; 1.0; 1.5 |] "arange step"
            Expect.sequenceEqual ((Tensor.linspace(0.0, 1.0, 5)).toArray()) [| 0.0; 0.25; 0.5; 0.75; 1.0 |] "linspace"
            Expect.sequenceEqual ((Tensor.eye 2).toArray()) [| 1.0; 0.0; 0.0; 1.0 |] "eye"
            Expect.sequenceEqual ((Tensor.full([ 2 ], 7.0)).toArray()) [| 7.0; 7.0 |] "full"
            Expect.sequenceEqual (Tensor.ZerosLike(tensor [ [ 1.0 ] ])).shape [| 1; 1 |] "zerosLike"
        testCase "seeded random numbers repeat and are pinned across machines" <| fun () ->
            let a = Tensor.randn([ 1000 ], 42UL, DType.Float64)
            let b = Tensor.randn([ 1000 ], 42UL, DType.Float64)
            Expect.sequenceEqual (a.toArray()) (b.toArray()) "same seed, same numbers"
            // xoshiro256** + SplitMix64: the first bits of seed 1 are fixed forever.
            Expect.equal (Generator(1UL).NextUInt64()) 0xb3f2af6d0fc710c5UL "generator stream is pinned"
            Expect.isLessThan (abs ((a.mean()).item())) 0.1 "randn mean near 0"
            Expect.isLessThan (abs ((a.std()).item() - 1.0)) 0.1 "randn std near 1"
            let r = Tensor.randint(3L, 7L, [ 500 ], 1UL).ToArray<int64>()
            Expect.isTrue (r |> Array.forall (fun v -> v >= 3L && v < 7L)) "randint range"
            Expect.equal (Array.distinct r |> Array.length) 4 "randint covers the range"
    ]

let views =
    testList "views share storage" [
        testCase "reshape, transpose, slice, expand are views; the original never changes" <| fun () ->
            let x = tensor [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
            let storage (t: Tensor) = t.Value.Storage
            for v in [ x.reshape(3, 2); x.T; x.slice(1, 0, 3, 2); x.unsqueeze(0).expand(4, 2, 3); x.[1] ] do
                Expect.isTrue (obj.ReferenceEquals(storage v, storage x)) "shares storage"
            Expect.sequenceEqual ((x.T).toArray()) [| 1.0; 4.0; 2.0; 5.0; 3.0; 6.0 |] "transpose values"
            Expect.sequenceEqual ((x.slice(1, 0, 3, 2)).toArray()) [| 1.0; 3.0; 4.0; 6.0 |] "strided slice"
            Expect.sequenceEqual ((x.[1]).toArray()) [| 4.0; 5.0; 6.0 |] "index"
            Expect.sequenceEqual ((x.[0.., 1..]).toArray()) [| 2.0; 3.0; 5.0; 6.0 |] "F# slicing"
            let _ = x + 1.0
            Expect.sequenceEqual (x.toArray()) [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |] "x unchanged by ops"
        testCase "reshape of a non-contiguous view copies correctly" <| fun () ->
            let x = (Tensor.arange 6.0).reshape(2, 3).T
            Expect.sequenceEqual ((x.reshape(6)).toArray()) [| 0.0; 3.0; 1.0; 4.0; 2.0; 5.0 |] "values"
            Expect.sequenceEqual ((x.reshape(-1, 2)).shape) [| 3; 2 |] "-1 inferred"
        testProp "reshape of any strided view equals reshape of its contiguous copy" (fun (shape: int[], p: int[], seed, split) ->
            let x = uniform (Generator seed) shape -1.0 1.0
            let view = if shape.Length > 0 then x.Permute(p).Slice(0, 0, Nullable(), 2) else x
            let dense = Tensor.FromArray(view.toArray (), view.shape)
            let n = view.numel
            let targets = [ [| n |]; Array.append [| 1 |] view.shape; Array.append view.shape [| 1 |]
                            (if n % split = 0 then [| split; n / split |] else [| n |]) ]
            for t in targets do
                Expect.sequenceEqual ((view.Reshape t).toArray ()) ((dense.Reshape t).toArray ()) (sprintf "%A -> %A" view.shape t))
            (gen {
                let! s = genShape
                let! p = Gen.shuffle [| 0 .. s.Length - 1 |]
                let! seed = genSeed
                let! split = Gen.choose (1, 4)
                return s, p, seed, split })
        testCase "adding size-1 dimensions to a transposed matrix is a view" <| fun () ->
            let x = (Tensor.arange 6.0).reshape(2, 3).T
            let v = x.reshape(1, 3, 2)
            Expect.isTrue (obj.ReferenceEquals(v.Value.Storage, x.Value.Storage)) "no copy"
            Expect.sequenceEqual (v.toArray ()) (x.toArray ()) "values"
        testCase "squeeze, unsqueeze, permute" <| fun () ->
            let x = Tensor.zeros [ 1; 3; 1; 2 ]
            Expect.sequenceEqual (x.squeeze()).shape [| 3; 2 |] "squeeze all"
            Expect.sequenceEqual (x.squeeze(0)).shape [| 3; 1; 2 |] "squeeze one"
            Expect.sequenceEqual (x.unsqueeze(-1)).shape [| 1; 3; 1; 2; 1 |] "unsqueeze last"
            Expect.sequenceEqual (x.permute(3, 1, 0, 2)).shape [| 2; 3; 1; 1 |] "permute"
    ]

let elementwise =
    testList "elementwise" [
        testCase "scalar operands keep the sign of zero" <| fun () ->
            for dtype in [ DType.Float32; DType.Float64 ] do
                let one = Tensor.Scalar(1.0, dtype)
                Expect.equal ((one / -0.0).Item()) -infinity (sprintf "1 / -0 (%A)" dtype)
                Expect.equal ((one / 0.0).Item()) infinity (sprintf "1 / +0 (%A)" dtype)
        testProp "binary ops broadcast like NumPy" (fun ((sa, sb), seed) ->
            let g = Generator seed
            let a, b = uniform g sa 0.5 2.0, uniform g sb 0.5 2.0
            let s = broadcastShape sa sb
            let ad, bd = a.toArray(), b.toArray()
            let ops : (string * (Tensor -> Tensor -> Tensor) * (float -> float -> float)) list =
                [ "add", (+), (+); "sub", (-), (-); "mul", (*), (*); "div", (/), (/)
                  "pow", (fun (x: Tensor) (y: Tensor) -> x ** y), (fun x y -> Math.Pow(x, y))
                  "max", (fun x y -> x.Maximum y), max
                  "atan2", atan2, (fun y x -> Math.Atan2(y, x)) ]
            for (name, op, f) in ops do
                let r = op a b
                Expect.sequenceEqual r.shape s (name + " shape")
                let expected = indices s |> Array.map (fun i -> f (at ad sa i) (at bd sb i))
                if not (close 1e-12 (r.toArray()) expected) then failtestf "%s %A %A" name sa sb)
            (Gen.zip genBroadcastPair genSeed)
        testCase "F# math functions and operators" <| fun () ->
            let x = tensor [ 0.5; 1.0; 2.0 ]
            let d = x.toArray()
            let check name (t: Tensor) f = expectClose 1e-12 t (tensor (Array.map f d)) name
            check "sin" (sin x) sin
            check "cos" (cos x) cos
            check "exp" (exp x) exp
            check "log" (log x) log
            check "sqrt" (sqrt x) sqrt
            check "tanh" (tanh x) tanh
            check "abs" (abs (-x)) abs
            check "pow" (x ** 2.0) (fun v -> v ** 2.0)
            check "scalar left" (2.0 * x - 1.0) (fun v -> 2.0 * v - 1.0)
            check "scalar div" (1.0 / x) (fun v -> 1.0 / v)
            check "neg" (-x) (fun v -> -v)
            check "floor" (floor (x * 1.5)) (fun v -> floor (v * 1.5))
            check "sigmoid" (sigmoid x) (fun v -> 1.0 / (1.0 + exp -v))
            check "softplus" (softplus (x * 100.0)) (fun v -> v * 100.0 + Math.Log(1.0 + exp (-v * 100.0)))
            check "clamp" (clamp 0.7 1.5 x) (fun v -> min 1.5 (max 0.7 v))
        testCase "dtype promotion: Float32 op Float64 is Float64, scalars follow PyTorch's rules" <| fun () ->
            Expect.equal ((tensor [ 1.0f ] + tensor [ 1.0 ]).dtype) DType.Float64 "promotion"
            Expect.equal ((tensor [ 1.0f ] * 2.0).dtype) DType.Float32 "scalar keeps Float32"
            Expect.equal ((tensor [ 1; 2 ] + tensor [ 1.0f ]).dtype) DType.Float32 "int + float32"
            Expect.equal ((tensor [ 1; 2 ] * 2.0).dtype) DType.Float32 "int * a double is Float32 (PyTorch: int tensor * Python float)"
            Expect.equal ((tensor [ 1; 2 ] * 2).dtype) DType.Int32 "int * an int stays int"
            Expect.equal ((tensor [ 1; 2 ] / tensor [ 2; 2 ]).dtype) DType.Float32 "int / int is true division"
        testCase "comparisons and where" <| fun () ->
            let x = tensor [ 1.0; 2.0; 3.0 ]
            Expect.sequenceEqual ((x.Gt 1.5).ToArray<bool>()) [| false; true; true |] "gt"
            Expect.sequenceEqual ((x.Eq(tensor [ 1.0; 0.0; 3.0 ])).ToArray<bool>()) [| true; false; true |] "eq"
            Expect.sequenceEqual ((where (x.Lt 2.5) x (-x)).toArray()) [| 1.0; 2.0; -3.0 |] "where"
        testCase "where on every dtype, by vectors and over threads, with broadcast, strided and NaN operands" <| fun () ->
            // lengths around a vector (the scalar tail) and far past the parallel split; the mask random
            let g = Generator 41UL
            for n in [ 3; 8; 13; 1003; 300_001 ] do
                let mask = (Tensor.Rand([| n |], g)).Gt 0.5
                let m = mask.ToArray<bool>()
                let a, b = Tensor.Randn([| n |], g), Tensor.Randn([| n |], g)
                for dtype in [ DType.Float32; DType.Float64; DType.Int32; DType.Int64 ] do
                    let a, b = (a * 100.0).To dtype, (b * 100.0).To dtype
                    let ad, bd = a.To(DType.Float64).toArray(), b.To(DType.Float64).toArray()
                    let check name (r: Tensor) (x: int -> float) (y: int -> float) =
                        Expect.equal r.DType dtype (name + ": dtype")
                        let got = r.To(DType.Float64).toArray()
                        for i in 0 .. n - 1 do
                            let e = if m.[i] then x i else y i
                            if got.[i] <> e then failtestf "%s, %A, n = %d, element %d: %g, expected %g" name dtype n i got.[i] e
                    check "two arrays" (where mask a b) (fun i -> ad.[i]) (fun i -> bd.[i])
                    let zero, seven = Tensor.Zeros([||], dtype).Expand([| n |]), Tensor.Full([||], 7.0, dtype).Expand([| n |])
                    check "a broadcast zero" (where mask a zero) (fun i -> ad.[i]) (fun _ -> 0.0)
                    check "a broadcast value first" (where mask seven b) (fun _ -> 7.0) (fun i -> bd.[i])
                    let every2 = Tensor.Stack([| b; a |], 1).Reshape(-1).Slice(0, 0, 2 * n, 2) // b again, a strided view
                    check "a strided operand" (where mask a every2) (fun i -> ad.[i]) (fun i -> bd.[i])
            let empty = where (Tensor.Zeros([| 0 |], DType.Bool)) (Tensor.Zeros [| 0 |]) (Tensor.Ones [| 0 |])
            Expect.equal empty.shape [| 0 |] "an empty where"
            let nans = Tensor.Full([| 20 |], nan)
            let picked = where (Tensor.Arange(20.0).Lt 10.0) nans (Tensor.Ones [| 20 |])
            Expect.isTrue (picked.toArray() |> Array.take 10 |> Array.forall Double.IsNaN) "NaN where picked"
            Expect.isTrue (picked.toArray() |> Array.skip 10 |> Array.forall ((=) 1.0)) "no NaN where not"
        testCase "transposed views made contiguous: by tiles, batched, with offsets and broadcast rows" <| fun () ->
            let g = Generator 42UL
            for (rows, cols) in [ (16, 16); (17, 40); (64, 33); (100, 100) ] do
                let x = Tensor.Randn([| 3; cols; rows + 2 |], g)
                let v = x.Slice(2, 1, rows + 1).Transpose(1, 2) // [3, rows, cols], offset 1, strides (.., 1, rows + 2)
                let expected = Array.init (3 * rows * cols) (fun e ->
                    let b, r, c = e / (rows * cols), e / cols % rows, e % cols
                    x.toArray().[(b * cols + c) * (rows + 2) + r + 1])
                Expect.sequenceEqual ((v * 1.0).toArray()) expected (sprintf "%d×%d, batched, from an offset" rows cols)
                let col = Tensor.Randn([| rows; 1 |], g)
                let wide = col.Expand([| rows; cols |]).T // [cols, rows]: stride 0 along the last source dimension
                Expect.sequenceEqual ((wide * 1.0).toArray()) (Array.init (cols * rows) (fun e -> col.toArray().[e % rows])) "a broadcast column transposed"
    ]

let reductions =
    testList "reductions" [
        testProp "sum, mean, max, min, prod over any dims match loops" (fun (shape, seed) ->
            let g = Generator seed
            let x = uniform g shape 0.5 1.5
            let d = x.toArray()
            let idx = indices shape
            for dim in 0 .. shape.Length - 1 do
                for (name, op, f) in [ "sum", (fun (t: Tensor) -> t.sum(dim)), Array.sum
                                       "mean", (fun t -> t.mean(dim)), Array.average
                                       "max", (fun t -> t.max(dim)), Array.max
                                       "min", (fun t -> t.min(dim)), Array.min
                                       "prod", (fun t -> t.prod(dim)), Array.fold (*) 1.0 ] do
                    let r = op x
                    let keep = shape |> Array.removeAt dim
                    Expect.sequenceEqual r.shape keep (name + " shape")
                    let expected =
                        indices keep |> Array.map (fun k ->
                            idx |> Array.filter (fun i -> Array.removeAt dim i = k) |> Array.map (at d shape) |> f)
                    if not (close 1e-12 (r.toArray()) expected) then failtestf "%s over %d of %A" name dim shape
            expectClose 1e-12 (x.sum()) (scalar (Array.sum d)) "sum all"
            if d.Length > 1 then
                let mean = Array.average d
                let var = (d |> Array.sumBy (fun v -> (v - mean) ** 2.0)) / float (d.Length - 1)
                expectClose 1e-10 (x.var()) (scalar var) "unbiased var"
                expectClose 1e-10 (x.logsumexp()) (scalar (log (d |> Array.sumBy exp))) "logsumexp")
            (Gen.zip genShape genSeed)
        testProp "sum, max, min, prod over any set of dims, keepDim or not, match loops" (fun (shape: int[], seed) ->
            let g = Generator seed
            let x = uniform g shape 0.5 1.5
            let d = x.toArray()
            let idx = indices shape
            let rank = shape.Length
            for mask in 1 .. (1 <<< rank) - 1 do
                let reduced j = mask &&& (1 <<< j) <> 0
                let dims = [| for j in 0 .. rank - 1 do if reduced j then j |]
                let keptOf (i: int[]) = [| for j in 0 .. rank - 1 do if not (reduced j) then i.[j] |]
                let keep = keptOf shape
                for (name, op, f) in [ "sum", (fun (t: Tensor) k -> t.Sum(dims, k)), Array.sum
                                       "max", (fun t k -> t.Max(dims, k)), Array.max
                                       "min", (fun t k -> t.Min(dims, k)), Array.min
                                       "prod", (fun t k -> t.Prod(dims, k)), Array.fold (*) 1.0 ] do
                    for keepDim in [ false; true ] do
                        if name = "sum" || (shape |> Array.forall (fun s -> s > 0)) then
                            let r = op x keepDim
                            let shapeOut = if keepDim then shape |> Array.mapi (fun j s -> if reduced j then 1 else s) else keep
                            Expect.sequenceEqual r.shape shapeOut (sprintf "%s over %A of %A: shape" name dims shape)
                            let expected = indices keep |> Array.map (fun k -> idx |> Array.filter (fun i -> keptOf i = k) |> Array.map (at d shape) |> f)
                            if not (close 1e-12 (r.toArray()) expected) then failtestf "%s over %A of %A (keepDim %b)" name dims shape keepDim)
            (Gen.zip genShape genSeed)
        testCase "reductions large enough to split: the same bits on 1 and 2 threads, equal to loops" <| fun () ->
            let shape = [| 16; 8; 24; 24 |]
            let x = uniform (Generator 5UL) shape -1.0 1.0
            let d = x.toArray()
            let idx = indices shape
            for dims in [ [| 0; 2; 3 |]; [| 2; 3 |]; [| 0 |]; [| 1; 3 |]; [| 0; 1 |]; [| 3 |] ] do
                let keptOf (i: int[]) = [| for j in 0 .. 3 do if Array.contains j dims |> not then i.[j] |]
                let groups = idx |> Array.groupBy keptOf |> Map.ofArray
                let keep = keptOf shape
                for name, op, f in [ "sum", (fun (t: Tensor) -> t.Sum(dims)), Array.sum; "max", (fun t -> t.Max(dims)), Array.max ] do
                    let at1 = (use _ = FunctionalAD.Backends.Parallelism.Limit 1 in op x).toArray()
                    let at2 = (use _ = FunctionalAD.Backends.Parallelism.Limit 2 in op x).toArray()
                    Expect.sequenceEqual at2 at1 (sprintf "%s over %A: the same bits on 1 and 2 threads" name dims)
                    let expected = indices keep |> Array.map (fun k -> groups.[k] |> Array.map (at d shape) |> f)
                    if not (close 1e-12 at1 expected) then failtestf "%s over %A" name dims
        testCase "a long sum split over threads equals the sequential sum" <| fun () ->
            let g = Generator 3UL
            for n in [ 262_143; 262_144; 1_000_003 ] do
                let x = uniform g [| n + 5 |] -1.0 1.0
                let view = x.Slice(0, 5, n + 5) // starts inside its storage
                let exact = view.ToArray<float>() |> Array.sum
                for threads in [ 1; 2; 3 ] do
                    use _ = FunctionalAD.Backends.Parallelism.Limit threads
                    expectClose 1e-9 (view.Sum()) (scalar exact) (sprintf "n=%d threads=%d" n threads)
        testCase "argmax/argmin, keepDim" <| fun () ->
            let x = tensor [ [ 1.0; 5.0; 2.0 ]; [ 7.0; 0.0; 3.0 ] ]
            Expect.sequenceEqual ((x.argmax(1)).ToArray<int64>()) [| 1L; 0L |] "argmax dim"
            Expect.equal ((x.argmax()).ToArray<int64>()) [| 3L |] "argmax flat"
            Expect.sequenceEqual ((x.argmin(0)).ToArray<int64>()) [| 0L; 1L; 0L |] "argmin"
            Expect.sequenceEqual (x.sum(1, true)).shape [| 2; 1 |] "keepDim"
            Expect.sequenceEqual ((x.softmax()).sum(1).toArray()) [| 1.0; 1.0 |] "softmax rows sum to 1"
        testCase "empty tensors" <| fun () ->
            let e = Tensor.zeros [ 0; 3 ]
            Expect.equal ((e.sum()).item()) 0.0 "sum of nothing"
            Expect.sequenceEqual (e.sum(0)).shape [| 3 |] "shape"
            Expect.equal ((e + 1.0).numel) 0 "elementwise on empty"
    ]

let structure =
    testList "matmul, joins, indexing" [
        testProp "matmul matches the triple loop (1-D, 2-D, batched with broadcasting)" (fun ((m, k, n, batch), seed) ->
            let g = Generator seed
            let a = uniform g [| batch; m; k |] -1.0 1.0
            let b = uniform g [| k; n |] -1.0 1.0
            let r = a.matmul b
            Expect.sequenceEqual r.shape [| batch; m; n |] "batched shape"
            let bd = b.toArray()
            for i in 0 .. batch - 1 do
                expectClose 1e-12 (r.[i]) (tensor (naiveMatMul (a.[i].toArray()) m k bd n) |> fun t -> t.reshape(m, n)) "batch entry"
            let v = uniform g [| k |] -1.0 1.0
            expectClose 1e-12 (b.T.matmul v) (tensor (naiveMatMul (b.T.toArray()) n k (v.toArray()) 1)) "matrix-vector"
            expectClose 1e-12 (v.matmul v) (scalar (Array.sumBy (fun x -> x * x) (v.toArray()))) "dot")
            (Gen.zip (Gen.zip (Gen.zip3 (Gen.choose (1, 5)) (Gen.choose (1, 5)) (Gen.choose (1, 5))) (Gen.choose (1, 3))) genSeed |> Gen.map (fun (((m, k, n), b), s) -> (m, k, n, b), s))
        testCase "concat, stack, split round trip" <| fun () ->
            let a = (Tensor.arange 6.0).reshape(2, 3)
            let b = (Tensor.arange(12.0, 6.0)).reshape(2, 3)
            let c = Tensor.Concat([| a; b |], 1)
            Expect.sequenceEqual c.shape [| 2; 6 |] "concat shape"
            Expect.sequenceEqual (c.toArray()) [| 0.; 1.; 2.; 6.; 7.; 8.; 3.; 4.; 5.; 9.; 10.; 11. |] "concat values"
            let parts = c.Split([| 3; 3 |], 1)
            Expect.sequenceEqual (parts.[1].toArray()) (b.toArray()) "split"
            Expect.sequenceEqual (Tensor.Stack([| a; b |], 0)).shape [| 2; 2; 3 |] "stack"
            Expect.equal (c.Split(4, 1) |> Array.map (fun t -> t.shape.[1])) [| 4; 2 |] "split by size"
        testProp "gather reads what the loops say; scatterAdd is its transpose" (fun ((shape, seed), dim) ->
            let shape = if Array.isEmpty shape then [| 3 |] else shape
            let dim = dim % shape.Length
            let g = Generator seed
            let x = uniform g shape -1.0 1.0
            let ishape = shape |> Array.mapi (fun k d -> if k = dim then 3 else max 1 (d - (int seed % 2)))
            let index = Tensor.Randint(0L, int64 shape.[dim], ishape, g)
            let r = x.Gather(dim, index)
            Expect.sequenceEqual r.shape ishape "shape"
            let xd, id = x.toArray (), index.ToArray<int64>()
            let expected = indices ishape |> Array.mapi (fun p i -> at xd shape (Array.mapi (fun k c -> if k = dim then int id.[p] else c) i))
            Expect.sequenceEqual (r.toArray ()) expected "values"
            // <gather(x), u> = <x, scatterAdd(u)>
            let u = uniform g ishape -1.0 1.0
            let lhs = (r * u).Sum().item ()
            let rhs = (x * Tensor.ScatterAdd(shape, dim, index, u)).Sum().item ()
            Expect.floatClose Accuracy.high lhs rhs "transpose"
            Expect.isTrue (gradcheck (fun x -> sum (x.Gather(dim, index) * u)) x).Passed "gradient")
            (Gen.zip (Gen.zip genShape genSeed) (Gen.choose (0, 3)))
        testCase "gather errors name the op and the shapes" <| fun () ->
            Expect.throwsT<ShapeMismatchException> (fun () -> (Tensor.zeros [ 2; 3 ]).Gather(1, tensor [ 0L ]) |> ignore) "rank"
            Expect.throwsT<TensorException> (fun () -> (Tensor.zeros [ 2; 3 ]).Gather(1, tensor [ [ 3L ] ]) |> ignore) "range"
        testCase "indexSelect and oneHot" <| fun () ->
            let x = (Tensor.arange 6.0).reshape(3, 2)
            Expect.sequenceEqual ((x.IndexSelect(0, tensor [ 2L; 0L; 2L ])).toArray()) [| 4.; 5.; 0.; 1.; 4.; 5. |] "rows"
            Expect.sequenceEqual ((tensor [ 1; 0 ]).OneHot(3).toArray()) [| 0.; 1.; 0.; 1.; 0.; 0. |] "one-hot"
    ]

let printing =
    testList "printing" [
        testCase "PyTorch-style text" <| fun () ->
            Expect.equal (string (tensor [ [ 1.0f; 2.0f ]; [ 3.0f; 4.0f ] ])) "\ntensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], dtype=Float32)" "2-D (a line of its own, so the rows line up anywhere)"
            Expect.equal (string (tensor [ 1; 2 ])) "tensor([1, 2], dtype=Int32)" "ints"
            Expect.equal (string (scalar 2.5)) "tensor(2.5000, dtype=Float64)" "scalar"
            Expect.equal (string (tensor [ true ])) "tensor([True], dtype=Bool)" "bool"
        testCase "large tensors are elided" <| fun () ->
            let s = string (Tensor.arange 5000.0)
            Expect.stringContains s "..." "elided"
            Expect.isLessThan s.Length 200 "short"
    ]

/// The worker threads behind split kernels: every piece runs once, a piece's exception reaches the caller after all
/// pieces finished, and callers from many threads at once (which find the workers busy and fall back) get the same
/// results.
let parallelism =
    testList "parallelism" [
        testCase "a piece's exception reaches the caller as itself when the workers are busy" <| fun () ->
            // hold the workers with a split that waits inside its pieces, then split again from another thread
            use started = new System.Threading.ManualResetEventSlim()
            use release = new System.Threading.ManualResetEventSlim()
            let holder = System.Threading.Tasks.Task.Run(fun () ->
                FunctionalAD.Backends.Parallelism.Pieces(2, fun _ -> started.Set(); release.Wait()))
            started.Wait()
            try
                Expect.throwsT<InvalidOperationException>
                    (fun () -> FunctionalAD.Backends.Parallelism.Pieces(2, fun i -> if i = 1 then invalidOp "fallback piece failed"))
                    "not wrapped in an AggregateException"
            finally
                release.Set()
                holder.Wait()
        testCase "every piece runs exactly once, on workers or by fallback" <| fun () ->
            for pieces in [ 1; 2; 3; 8 ] do
                let hits = Array.zeroCreate<int> pieces
                FunctionalAD.Backends.Parallelism.Pieces(pieces, fun i -> System.Threading.Interlocked.Increment(&hits.[i]) |> ignore)
                Expect.equal hits (Array.create pieces 1) (sprintf "%d pieces" pieces)
        testCase "every piece runs exactly once as splits alternate with serial gaps (workers spinning, asleep, pieces taken back)" <| fun () ->
            // runs of long gaps put the workers to sleep, and a short piece is then run by the caller instead of waiting
            // for a worker to wake; runs of short gaps bring the spinning back: in every regime each piece runs once
            for round in 0 .. 59 do
                let pieces = 2 + round % 2
                let hits = Array.zeroCreate<int> pieces
                FunctionalAD.Backends.Parallelism.Pieces(pieces, fun i -> System.Threading.Interlocked.Increment(&hits.[i]) |> ignore)
                Expect.equal hits (Array.create pieces 1) (sprintf "round %d, %d pieces" round pieces)
                if round % 20 < 10 then System.Threading.Thread.Sleep 1
        testCase "every piece runs exactly once inside bursts (nested, on fewer threads, with gaps longer than a spin) and after them" <| fun () ->
            let run round =
                let pieces = 2 + round % 2
                let hits = Array.zeroCreate<int> pieces
                FunctionalAD.Backends.Parallelism.Pieces(pieces, fun i -> System.Threading.Interlocked.Increment(&hits.[i]) |> ignore)
                Expect.equal hits (Array.create pieces 1) (sprintf "round %d, %d pieces" round pieces)
            for threads in [ 1; 2; Environment.ProcessorCount ] do
                use _ = FunctionalAD.Backends.Parallelism.Limit threads
                use outer = FunctionalAD.Backends.Parallelism.Burst()
                for round in 0 .. 9 do
                    use inner = FunctionalAD.Backends.Parallelism.Burst()
                    run round
                    if round % 3 = 0 then System.Threading.Thread.Sleep 1
                    if not (isNull inner) then
                        inner.Dispose()
                        inner.Dispose() // a second Dispose (and the one at the end of the scope) closes nothing more
                if not (isNull outer) then outer.Dispose()
                Expect.equal FunctionalAD.Backends.Workers.OpenBursts 0 (sprintf "every burst closed, %d threads" threads)
                for round in 0 .. 9 do run round
        testCase "a piece's exception is rethrown after the others finish" <| fun () ->
            // piece 1 runs on the calling thread, piece 0 on a worker (or both on the thread-pool fallback, which
            // may skip a piece that had not started); either may fail, and no piece may still run afterwards
            for failing in [ 0; 1 ] do
                let active = ref 0
                let run () =
                    FunctionalAD.Backends.Parallelism.Pieces(2, fun i ->
                        System.Threading.Interlocked.Increment(&active.contents) |> ignore
                        try
                            if i = failing then invalidOp (sprintf "piece %d failed" i)
                            System.Threading.Thread.Sleep 20
                        finally
                            System.Threading.Interlocked.Decrement(&active.contents) |> ignore)
                Expect.throwsT<InvalidOperationException> run (sprintf "piece %d's exception reaches the caller" failing)
                Expect.equal active.Value 0 (sprintf "no piece still running after piece %d failed" failing)
            // the workers are usable again afterwards
            let x = Tensor.Rand([| 300_000 |], Generator 1UL, DType.Float64)
            expectClose 1e-9 (x.Sum()) (scalar (x.ToArray<float>() |> Array.sum)) "sum after a failed split"
        testCase "kernels called from several threads at once agree with one thread" <| fun () ->
            let x = Tensor.Rand([| 400_000 |], Generator 2UL, DType.Float64)
            let expected = (x.Sin() * x).Sum().Item()
            let results = Array.Parallel.init 8 (fun _ -> (x.Sin() * x).Sum().Item())
            for r in results do Expect.floatClose Accuracy.high r expected "same sum on every thread" ]

let tests = testList "tensor core" [ creation; views; elementwise; reductions; structure; printing; parallelism ]
