/// Linear algebra (issue 18): factorizations reconstruct their input, solves solve, known values (a 3×3
/// determinant and its cofactor gradient, slogdet where det overflows Float64), clear errors, and derivatives of
/// first and second order (the primitive table in PrimitiveTests checks every linalg primitive against finite
/// differences in both modes and at second order; the cases it uses are `primitiveCases` below).
module FunctionalAD.Tests.LinalgTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Backends
open FunctionalAD.Testing
open FunctionalAD.Tests.Support

let private m (rows: int) (cols: int) (v: float list) = Tensor.FromArray(List.toArray v, rows, cols)
let private vec (v: float list) = Tensor.FromArray(List.toArray v)

/// Strictly diagonally dominant matrices [batch..., n, n]: off-diagonal entries in [-1, 1), diagonal ±(n + 1).
let wellConditioned (g: Generator) (batch: int[]) (n: int) =
    let sign = (uniform g (Array.append batch [| n; 1 |]) -1.0 1.0).Ge(0.0).To(DType.Float64) * 2.0 - 1.0
    uniform g (Array.append batch [| n; n |]) -1.0 1.0 + Tensor.Eye(n, dtype = DType.Float64) * sign * float (n + 1)

/// Symmetric positive-definite matrices M·Mᵀ + n·I [batch..., n, n].
let spd (g: Generator) (batch: int[]) (n: int) =
    let b = uniform g (Array.append batch [| n; n |]) -1.0 1.0
    b.MatMul(b.Transpose(-1, -2)) + Tensor.Eye(n, dtype = DType.Float64) * float n

/// Matrices [batch..., m, n] with well-separated singular values 1, 3, 5, ... in random orthonormal bases
/// (Q₁·diag(σ)·Q₂ᵀ): the SVD's vectors are then differentiable.
let separatedSvd (g: Generator) (batch: int[]) (m: int) (n: int) =
    let k = min m n
    let basis size =
        let q, _ = linalg.qr (uniform g (Array.append batch [| size; size |]) -1.0 1.0 + Tensor.Eye(size, dtype = DType.Float64) * 2.0)
        q.Slice(-1, 0, k)
    let sigma = Tensor.Arange(1.0, float (2 * k + 1), 2.0, DType.Float64)
    (basis m * sigma.Unsqueeze(0)).MatMul((basis n).Transpose(-1, -2))

let private genSize = Gen.choose (1, 4)
let private genBatch = Gen.elements [ [||]; [| 2 |] ]

/// The cases the primitive table checks (name, draw, second order): inputs well conditioned, batches included,
/// B broadcast over A's batch for the solves.
let primitiveCases : (string * Gen<Tensor[] * (Tensor[] -> Tensor)> * bool) list =
    [ "solve", gen {
          let! n = genSize
          let! k = Gen.choose (1, 3)
          let! batch = genBatch
          let! seed = genSeed
          let g = Generator seed
          return [| wellConditioned g batch n; uniform g [| n; k |] -1.0 1.0 |], (fun (xs: Tensor[]) -> linalg.solve xs.[0] xs.[1]) }, true
      "solveTriangular", gen {
          let! n = genSize
          let! batch = genBatch
          let! upper = Gen.elements [ true; false ]
          let! unit = Gen.elements [ true; false ]
          let! seed = genSeed
          let g = Generator seed
          return [| wellConditioned g batch n; uniform g (Array.append batch [| n; 2 |]) -1.0 1.0 |],
                 (fun (xs: Tensor[]) -> linalg.solveTriangular upper unit xs.[0] xs.[1]) }, true
      "cholesky", gen {
          let! n = genSize
          let! batch = genBatch
          let! seed = genSeed
          return [| spd (Generator seed) batch n |], (fun (xs: Tensor[]) -> linalg.cholesky xs.[0]) }, true
      "logAbsDet", gen {
          let! n = genSize
          let! batch = genBatch
          let! seed = genSeed
          return [| wellConditioned (Generator seed) batch n |], (fun (xs: Tensor[]) -> snd (linalg.slogdet xs.[0])) }, true
      "det", gen {
          let! n = genSize
          let! batch = genBatch
          let! seed = genSeed
          return [| wellConditioned (Generator seed) batch n |], (fun (xs: Tensor[]) -> linalg.det xs.[0]) }, true
      "luFactor", gen {
          let! n = genSize
          let! batch = genBatch
          let! seed = genSeed
          return [| wellConditioned (Generator seed) batch n |], (fun (xs: Tensor[]) -> fst (linalg.luFactor xs.[0])) }, true
      "luPermutation", gen {
          let! n = genSize
          let! seed = genSeed
          return [| uniform (Generator seed) [| n; n |] -1.0 1.0 |], (fun (xs: Tensor[]) -> (snd (linalg.luFactor xs.[0])).MatMul(xs.[0])) }, true
      "eigh", gen {
          let! n = genSize
          let! batch = genBatch
          let! seed = genSeed
          let g = Generator seed
          // distinct, well-separated eigenvalues: Q·diag(1, 3, 5, ...)·Qᵀ plus a small symmetric perturbation
          let q, _ = linalg.qr (uniform g (Array.append batch [| n; n |]) -1.0 1.0 + Tensor.Eye(n, dtype = DType.Float64) * 2.0)
          let lam = Tensor.Arange(1.0, float (2 * n + 1), 2.0, DType.Float64)
          return [| q.MatMul(linalg.diag lam).MatMul(q.Transpose(-1, -2)) |],
                 (fun (xs: Tensor[]) -> let l, v = linalg.eigh xs.[0] in Tensor.Concat([| l.Unsqueeze(-2); v |], -2)) }, true
      "svd", gen {
          let! m = genSize
          let! n = genSize
          let! batch = genBatch
          let! seed = genSeed
          let a = separatedSvd (Generator seed) batch m n
          let flat (t: Tensor) = t.Reshape(Array.append batch [| -1 |])
          return [| a |], (fun (xs: Tensor[]) -> let u, s, vh = linalg.svd xs.[0] in Tensor.Concat([| flat u; s; flat vh |], -1)) }, true
      "svdvals", gen {
          let! m = genSize
          let! n = genSize
          let! batch = genBatch
          let! seed = genSeed
          return [| separatedSvd (Generator seed) batch m n |], (fun (xs: Tensor[]) -> linalg.svdvals xs.[0]) }, true
      "qr", gen {
          let! n = genSize
          let! extra = Gen.choose (0, 2)
          let! batch = genBatch
          let! seed = genSeed
          let g = Generator seed
          // full column rank, well conditioned: the identity's first n columns plus noise
          let a = uniform g (Array.append batch [| n + extra; n |]) -0.5 0.5 + Tensor.Eye(n + extra, dtype = DType.Float64).Slice(-1, 0, n) * 2.0
          return [| a |], (fun (xs: Tensor[]) -> let q, r = linalg.qr xs.[0] in Tensor.Concat([| q; r |], -2)) }, true
      "detSign", gen {
          let! n = genSize
          let! seed = genSeed
          return [| wellConditioned (Generator seed) [||] n |], (fun (xs: Tensor[]) -> fst (linalg.slogdet xs.[0]) * xs.[0]) }, true ]

let private near tol (actual: Tensor) (expected: Tensor) msg = expectClose tol actual expected msg

let private throwsWith<'E when 'E :> exn> (parts: string list) (f: unit -> obj) =
    let msg =
        try f () |> ignore; failtestf "expected %s" typeof<'E>.Name
        with :? 'E as e -> e.Message
    for p in parts do Expect.stringContains msg p (sprintf "message %A names %s" msg p)

let private factorizationTests =
    testList "factorizations and solves" [
        // 1, 63, 64, 65 and 150 cross the panel width (64): unblocked, one panel, a GEMM trailing update, several;
        // 192 (rows of whole cache lines) splits its updates over threads at line starts
        for n in [ 1; 5; 64; 65; 150; 192 ] do
            testCase (sprintf "P·A = L·U with partial pivoting, n = %d" n) <| fun () ->
                let g = Generator(uint64 n)
                let a = uniform g [| 2; n; n |] -1.0 1.0
                let f = (CpuBackend.Instance :> IBackend).LuFactor(a.Value)
                let lu = Tensor.FromArray(CpuBackend.Instance.ToArray<float>(f.Lu), 2, n, n)
                let piv = CpuBackend.Instance.ToArray<int>(f.Pivots)
                let l = linalg.tril (-1) lu + Tensor.Eye(n, dtype = DType.Float64)
                let u = linalg.triu 0 lu
                // P·A: apply the recorded swaps to A's rows in order
                let pa = a.ToDoubleArray()
                for b in 0 .. 1 do
                    for k in 0 .. n - 1 do
                        let p = piv.[b * n + k]
                        for j in 0 .. n - 1 do
                            let i1, i2 = b * n * n + k * n + j, b * n * n + p * n + j
                            let t = pa.[i1]
                            pa.[i1] <- pa.[i2]
                            pa.[i2] <- t
                near 1e-11 (l.MatMul u) (Tensor.FromArray(pa, 2, n, n)) "P·A = L·U"
                Expect.isTrue ((l.Abs().Max()).item() <= 1.0 + 1e-15) "partial pivoting: |L| <= 1"
                let p, l2, u2 = linalg.lu a
                near 1e-11 (p.MatMul(l2).MatMul u2) a "linalg.lu: A = P·L·U"
                near 0.0 l2 l "the same L"
                let b = uniform g [| n; 2 |] -1.0 1.0
                near 1e-8 (a.MatMul(linalg.luSolve (linalg.luFactor a) b)) (b.BroadcastTo(2, n, 2)) "luSolve"
            testCase (sprintf "A = L·Lᵀ, A·solve(A, B) = B, inverse, choleskySolve, n = %d" n) <| fun () ->
                let g = Generator(uint64 (n + 100))
                let a = spd g [| 2 |] n
                let l = linalg.cholesky a
                near 1e-12 (l.MatMul(l.Transpose(-1, -2))) a "L·Lᵀ = A"
                near 0.0 (linalg.triu 1 l) (Tensor.Zeros([| 2; n; n |], DType.Float64)) "L is lower triangular"
                let b = uniform g [| n; 3 |] -1.0 1.0
                let x = linalg.solve a b
                near 1e-10 (a.MatMul x) (b.BroadcastTo(2, n, 3)) "A·solve(A, B) = B (B broadcast over the batch)"
                near 1e-10 (linalg.choleskySolve b l) x "choleskySolve = solve"
                near 1e-10 (a.MatMul(linalg.inv a)) (Tensor.Eye(n, dtype = DType.Float64).BroadcastTo(2, n, n)) "A·inv(A) = I"
                for upper in [ true; false ] do
                    let t = if upper then l.Transpose(-1, -2) else l
                    near 1e-10 (t.MatMul(linalg.solveTriangular upper false t b)) (b.BroadcastTo(2, n, 3)) "triangular solve"
        testCase "Float32: solve, cholesky and det in single precision" <| fun () ->
            let g = Generator 3UL
            let a = (spd g [||] 40).To DType.Float32
            let b = (uniform g [| 40 |] -1.0 1.0).To DType.Float32
            let x = linalg.solve a b
            Expect.equal x.DType DType.Float32 "dtype kept"
            Expect.sequenceEqual x.Shape [| 40 |] "a vector B gives a vector X"
            near 1e-4 (a.MatMul x) b "A·x = b"
            let l = linalg.cholesky a
            near 1e-4 (l.MatMul l.T) a "L·Lᵀ = A"
            let s, la = linalg.slogdet a
            near 1e-4 la (snd (linalg.slogdet (a.To DType.Float64))) "log|det| in Float32"
            Expect.equal (s.item()) 1.0 "SPD: det > 0"
        testCase "LU of singular matrices reconstructs; solves with many right-hand sides and transposed triangles" <| fun () ->
            let g = Generator 11UL
            // n = 70: recursive halves down to the 16-column leaves; zero and repeated columns give zero pivots
            let a0 = uniform g [| 70; 70 |] -1.0 1.0
            let cols = a0.ToDoubleArray()
            for i in 0 .. 69 do
                cols.[i * 70 + 3] <- 0.0
                cols.[i * 70 + 40] <- cols.[i * 70 + 20]
            let a = Tensor.FromArray(cols, 70, 70)
            let p, l, u = linalg.lu a
            near 1e-12 (p.MatMul(l).MatMul u) a "A = P·L·U with zero pivots"
            Expect.equal ((linalg.det a).item()) 0.0 "det of a singular matrix is 0"
            for dtype, tol in [ DType.Float64, 1e-9; DType.Float32, 2e-3 ] do
                let w = (wellConditioned g [||] 90).To dtype
                let b = (uniform g [| 90; 100 |] -1.0 1.0).To dtype
                near tol (w.MatMul(linalg.solve w b)) b (sprintf "A·solve(A, B) = B, 100 columns, %A" dtype)
                for upper in [ true; false ] do
                    for unit in [ true; false ] do
                        // a transposed view; with a unit diagonal, small off-diagonal entries keep it well conditioned
                        let wu = if unit then w / 91.0 else w
                        let t = (if upper then linalg.triu 0 wu else linalg.tril 0 wu).Transpose(-1, -2)
                        let tt = if unit then (if upper then linalg.tril (-1) t else linalg.triu 1 t) + Tensor.Eye(90, dtype = dtype) else t
                        for k in [ 100; 5 ] do
                            let bk = b.Slice(-1, 0, k)
                            let x = linalg.solveTriangular (not upper) unit t bk
                            near tol (tt.MatMul x) bk (sprintf "triangular solve, %d columns, upper %b unit %b, %A" k (not upper) unit dtype)
        testCase "solves with many right-hand sides on more than 256 rows recurse on halves: every triangle, LU, Cholesky" <| fun () ->
            // 600 = 320 + 280 and 280 = 192 + 88: halves of whole 64-row blocks and a ragged last one
            let g = Generator 12UL
            let n, k = 600, 70
            let w = wellConditioned g [||] n
            let b = uniform g [| n; k |] -1.0 1.0
            near 1e-9 (w.MatMul(linalg.solve w b)) b "A·solve(A, B) = B"
            for upper in [ true; false ] do
                for unit in [ true; false ] do
                    let wu = if unit then w / float (n + 1) else w
                    let t = if upper then linalg.triu 0 wu else linalg.tril 0 wu
                    let tt = if unit then t - linalg.diag (linalg.diagonal t) + Tensor.Eye(n, dtype = DType.Float64) else t
                    let x = linalg.solveTriangular upper unit t b
                    near 1e-9 (tt.MatMul x) b (sprintf "triangular, upper %b unit %b" upper unit)
                    let xt = linalg.solveTriangular (not upper) unit t.T b
                    near 1e-9 (tt.T.MatMul xt) b (sprintf "transposed triangle, upper %b unit %b" (not upper) unit)
            let s = spd g [||] 300
            let l = linalg.cholesky s
            let bs = uniform g [| 300; 300 |] -1.0 1.0
            near 1e-9 (s.MatMul(linalg.choleskySolve bs l)) bs "Cholesky solve, 300 right-hand sides"
        testCase "a NaN entry of a 40×40 matrix (16-column leaves) spreads to det and solve, no exception" <| fun () ->
            let g = Generator 19UL
            for row, col in [ 0, 0; 5, 3; 39, 20 ] do
                let v = (uniform g [| 40; 40 |] -1.0 1.0).ToDoubleArray()
                v.[row * 40 + col] <- nan
                let a = Tensor.FromArray(v, 40, 40)
                Expect.isTrue (Double.IsNaN((linalg.det a).item())) (sprintf "det NaN, NaN at (%d, %d)" row col)
                let x = linalg.solve a (Tensor.Ones([| 40; 2 |], DType.Float64))
                Expect.isTrue (x.ToDoubleArray() |> Array.exists Double.IsNaN) (sprintf "solve NaN, NaN at (%d, %d)" row col)
        testCase "solve's backward from the kept factors: Aᵀ·B̄ = Ḡ and Ā = -B̄·Xᵀ, with pivoting, on column ranges of 1 and 2 threads" <| fun () ->
            let g = Generator 17UL
            // odd sizes: a last row block of fewer than four, a padded last strip, many right-hand sides (k > 64), batches
            for batch, n, k in [ [||], 67, 13; [||], 130, 16; [| 2 |], 64, 70; [| 3 |], 40, 9 ] do
                for dtype, tol in [ DType.Float64, 1e-8; DType.Float32, 1e-3 ] do
                    // random entries pivot; Float32 gets a dominant diagonal so that its tolerance can stay tight
                    let a0 = uniform g (Array.append batch [| n; n |]) -1.0 1.0
                    let a = (if dtype = DType.Float64 then a0 else a0 + Tensor.Eye(n, dtype = DType.Float64) * float n).To dtype
                    let b = (uniform g (Array.append batch [| n; k |]) -1.0 1.0).To dtype
                    let w = (uniform g (Array.append batch [| n; k |]) -1.0 1.0).To dtype
                    for threads in [ 1; 2 ] do
                        use _ = Parallelism.Limit threads
                        let what = sprintf "n = %d, k = %d, batch %A, %A, %d threads" n k batch dtype threads
                        let x = linalg.solve a b
                        near tol (a.MatMul x) b ("A·X = B, " + what)
                        let gb = grad (fun b -> (linalg.solve a b * w).Sum()) b
                        near tol (a.Transpose(-1, -2).MatMul gb) w ("Aᵀ·B̄ = Ḡ, " + what)
                        let ga = grad (fun a -> (linalg.solve a b * w).Sum()) a
                        near tol ga (-(gb.MatMul(x.Transpose(-1, -2)))) ("Ā = -B̄·Xᵀ, " + what)
        testCase "a 1-D B and a B with A's shape minus one dimension are vectors (PyTorch's rule)" <| fun () ->
            let g = Generator 4UL
            let a = wellConditioned g [| 3 |] 4
            let b = uniform g [| 3; 4 |] -1.0 1.0
            let x = linalg.solve a b
            Expect.sequenceEqual x.Shape [| 3; 4 |] "batched vectors"
            near 1e-12 (a.MatMul(x.Unsqueeze(-1)).Squeeze(-1)) b "A·x = b per batch"
        testCase "empty batches and no right-hand sides, on 1 and 2 threads: empty results of the right shapes" <| fun () ->
            for threads in [ 1; 2 ] do
                use _ = FunctionalAD.Backends.Parallelism.Limit threads
                let a0 = Tensor.Zeros([| 0; 3; 3 |], DType.Float64)
                Expect.sequenceEqual (linalg.inv a0).Shape [| 0; 3; 3 |] "inv of no matrices"
                Expect.sequenceEqual (linalg.solve a0 (Tensor.Zeros([| 0; 3; 2 |], DType.Float64))).Shape [| 0; 3; 2 |] "solve, no matrices"
                Expect.sequenceEqual (linalg.det a0).Shape [| 0 |] "det of no matrices"
                let a = wellConditioned (Generator 5UL) [| 2 |] 3
                Expect.sequenceEqual (linalg.solve a (Tensor.Zeros([| 2; 3; 0 |], DType.Float64))).Shape [| 2; 3; 0 |] "no right-hand sides"
    ]

let private knownValueTests =
    testList "known values" [
        testCase "det of a 3×3 and its gradient, the cofactor matrix" <| fun () ->
            let a = m 3 3 [ 1.0; 2.0; 3.0; 0.0; 1.0; 4.0; 5.0; 6.0; 0.0 ]
            near 1e-14 (linalg.det a) (scalar 1.0) "det = 1"
            near 1e-12 (grad linalg.det a) (m 3 3 [ -24.0; 20.0; -5.0; 18.0; -15.0; 4.0; 5.0; -4.0; 1.0 ]) "∂det/∂A = cofactors"
            near 1e-12 (linalg.inv a) (m 3 3 [ -24.0; 18.0; 5.0; 20.0; -15.0; -4.0; -5.0; 4.0; 1.0 ]) "inverse"
            let s, la = linalg.slogdet (-a)
            Expect.equal (s.item()) -1.0 "det(-A) = -1 for a 3×3"
            Expect.isTrue (abs (la.item()) < 1e-14) "log|det| = 0"
        testCase "slogdet where det overflows and underflows Float64" <| fun () ->
            let n = 200
            // 1000 times a cyclic permutation of the rows: det = ±1000^200 = ±1e600 (inf in Float64), sign (-1)^(n-1)
            let perm = Tensor.Eye(n, dtype = DType.Float64).IndexSelect(0, Tensor.FromArray(Array.init n (fun i -> int64 ((i + 1) % n))))
            for scale, sign in [ 1000.0, -1.0; 0.001, -1.0 ] do
                let a = perm * scale
                let s, la = linalg.slogdet a
                Expect.equal (s.item()) sign "sign of an odd permutation"
                Expect.floatClose Accuracy.high (la.item()) (float n * log scale) "log|det| = n·log(scale)"
                let d = (linalg.det a).item()
                Expect.isTrue (Double.IsInfinity d || d = 0.0) "det itself over- or underflows, hence slogdet"
        testCase "a singular matrix: det 0, slogdet (0, -inf), solve and inv name themselves and the pivot" <| fun () ->
            let a = m 3 3 [ 1.0; 2.0; 3.0; 2.0; 4.0; 6.0; 1.0; 0.0; 1.0 ]
            Expect.equal ((linalg.det a).item()) 0.0 "det = 0"
            let s, la = linalg.slogdet a
            Expect.equal (s.item()) 0.0 "sign 0"
            Expect.equal (la.item()) Double.NegativeInfinity "log|det| = -inf"
            throwsWith<SingularMatrixException> [ "solve"; "singular"; "U[2,2] = 0"; "[3,3]" ] (fun () -> box (linalg.solve a (Tensor.Ones([| 3 |], DType.Float64))))
            throwsWith<SingularMatrixException> [ "inv"; "singular"; "pivot 3 of 3" ] (fun () -> box (linalg.inv a))
            let batch = Tensor.Stack([| Tensor.Eye(3, dtype = DType.Float64); a |])
            let e = Expect.throwsC (fun () -> linalg.inv batch |> ignore) id
            Expect.equal (e :?> SingularMatrixException).BatchIndex 1 "names the batch entry"
        testCase "trace, diagonal, diag, tril, triu, kron, tensordot, norms" <| fun () ->
            let a = m 2 3 [ 1.0; -2.0; 3.0; 4.0; 5.0; -6.0 ]
            near 0.0 (linalg.trace a) (scalar 6.0) "trace of a 2×3"
            near 0.0 (linalg.diagonal a) (vec [ 1.0; 5.0 ]) "diagonal"
            near 0.0 (linalg.diagonalAt 1 a) (vec [ -2.0; -6.0 ]) "diagonal above"
            near 0.0 (linalg.diagonalAt (-1) a) (vec [ 4.0 ]) "diagonal below"
            near 0.0 (linalg.diag (vec [ 1.0; 2.0 ])) (m 2 2 [ 1.0; 0.0; 0.0; 2.0 ]) "diag"
            near 0.0 (linalg.tril 0 a) (m 2 3 [ 1.0; 0.0; 0.0; 4.0; 5.0; 0.0 ]) "tril"
            near 0.0 (linalg.triu 1 a) (m 2 3 [ 0.0; -2.0; 3.0; 0.0; 0.0; -6.0 ]) "triu above the diagonal"
            near 0.0 (linalg.kron (m 2 2 [ 1.0; 2.0; 3.0; 4.0 ]) (m 1 2 [ 1.0; 10.0 ]))
                (m 2 4 [ 1.0; 10.0; 2.0; 20.0; 3.0; 30.0; 4.0; 40.0 ]) "kron"
            let g = Generator 8UL
            let x, y = uniform g [| 2; 3; 4 |] -1.0 1.0, uniform g [| 3; 4; 5 |] -1.0 1.0
            near 1e-13 (linalg.tensordot 2 x y) (x.Reshape(2, 12).MatMul(y.Reshape(12, 5))) "tensordot 2 = matmul of flattened"
            near 1e-13 (linalg.tensordotOver [| 0 |] [| 1 |] (m 2 2 [ 1.0; 2.0; 3.0; 4.0 ]) (m 2 2 [ 1.0; 0.0; 1.0; 1.0 ]))
                ((m 2 2 [ 1.0; 2.0; 3.0; 4.0 ]).T.MatMul((m 2 2 [ 1.0; 0.0; 1.0; 1.0 ]).T)) "tensordot over chosen axes"
            near 1e-14 (linalg.matrixNorm "fro" a) (scalar (sqrt 91.0)) "Frobenius"
            near 0.0 (linalg.matrixNorm "1" a) (scalar 9.0) "max column sum"
            near 0.0 (linalg.matrixNorm "inf" a) (scalar 15.0) "max row sum"
            near 1e-14 (linalg.vectorNorm 2.0 a) (scalar (sqrt 91.0)) "2-norm"
            near 0.0 (linalg.vectorNorm Double.PositiveInfinity a) (scalar 6.0) "∞-norm"
            near 1e-14 (linalg.vectorNormOver 1.0 [| 1 |] a) (vec [ 6.0; 15.0 ]) "1-norm per row"
        testCase "matrixExp: rotations, diagonals, e^A·e^-A = I, large norms" <| fun () ->
            for t in [ 0.3; 2.0; 40.0 ] do
                let a = m 2 2 [ 0.0; t; -t; 0.0 ]
                near 1e-12 (linalg.matrixExp a) (m 2 2 [ cos t; sin t; -(sin t); cos t ]) (sprintf "rotation by %g" t)
            near 1e-13 (linalg.matrixExp (linalg.diag (vec [ 1.0; -2.0; 0.5 ]))) (linalg.diag (vec [ exp 1.0; exp (-2.0); exp 0.5 ])) "diagonal"
            let g = Generator 10UL
            let a = uniform g [| 2; 4; 4 |] -3.0 3.0
            near 1e-11 ((linalg.matrixExp a).MatMul(linalg.matrixExp (-a))) (Tensor.Eye(4, dtype = DType.Float64).BroadcastTo(2, 4, 4)) "e^A·e^-A = I"
            near 0.0 (linalg.matrixExp (Tensor.Zeros([| 3; 3 |], DType.Float64))) (Tensor.Eye(3, dtype = DType.Float64)) "e^0 = I"
        testCase "qr: Q·R = A, QᵀQ = I, R upper triangular with a positive diagonal" <| fun () ->
            let g = Generator 16UL
            // 70×40 and 150×100 cross the Householder panel width (32): compact-WY trailing updates on the GEMM
            for shape in [ [| 5; 3 |]; [| 2; 4; 4 |]; [| 70; 40 |]; [| 150; 100 |] ] do
                let a = uniform g shape -1.0 1.0
                let q, r = linalg.qr a
                let n = shape.[shape.Length - 1]
                near 1e-12 (q.MatMul r) a (sprintf "Q·R = A for %A" shape)
                near 1e-12 (q.Transpose(-1, -2).MatMul q) (Tensor.Eye(n, dtype = DType.Float64).BroadcastTo(r.Shape)) "orthonormal columns"
                near 0.0 (linalg.tril (-1) r) (Tensor.ZerosLike r) "R upper triangular"
                Expect.isTrue ((linalg.diagonal r).Min().item() > 0.0) "positive diagonal"
            // rank-deficient (a zero column): Q stays orthonormal, R's diagonal has a zero
            let z = m 3 2 [ 1.0; 0.0; 2.0; 0.0; 2.0; 0.0 ]
            let qz, rz = linalg.qr z
            near 1e-15 (qz.T.MatMul qz) (Tensor.Eye(2, dtype = DType.Float64)) "orthonormal for a rank-deficient A"
            near 1e-15 (qz.MatMul rz) z "Q·R = A"
            near 1e-15 rz (m 2 2 [ 3.0; 0.0; 0.0; 0.0 ]) "R"
            let a32 = (uniform g [| 40; 35 |] -1.0 1.0).To DType.Float32
            let q32, r32 = linalg.qr a32
            Expect.equal q32.DType DType.Float32 "Float32 kept"
            near 1e-5 (q32.MatMul r32) a32 "Float32: Q·R = A"
        testCase "eigh: A·V = V·diag(λ), VᵀV = I, ascending, known values" <| fun () ->
            let l, v = linalg.eigh (m 2 2 [ 2.0; 1.0; 1.0; 2.0 ])
            near 1e-14 l (vec [ 1.0; 3.0 ]) "eigenvalues of [[2,1],[1,2]]"
            let r = 1.0 / sqrt 2.0
            near 1e-14 (v.Abs()) (m 2 2 [ r; r; r; r ]) "eigenvectors (1, ±1)/√2"
            near 1e-14 (v.Slice(-1, 1)) (m 2 1 [ r; r ]) "the second, largest entry positive"
            let g = Generator 17UL
            for n in [ 1; 2; 5; 30; 100 ] do
                let a = spd g [| 2 |] n - Tensor.Eye(n, dtype = DType.Float64) * float n * 1.5
                let l, v = linalg.eigh a
                near 1e-11 (a.MatMul v) (v * l.Unsqueeze(-2)) (sprintf "A·V = V·diag(λ), n = %d" n)
                near 1e-12 (v.Transpose(-1, -2).MatMul v) (Tensor.Eye(n, dtype = DType.Float64).BroadcastTo(2, n, n)) "orthonormal"
                let d = l.Slice(-1, 1) - l.Slice(-1, 0, n - 1)
                Expect.isTrue (n = 1 || d.Min().item() >= 0.0) "ascending"
                near 1e-10 (l.Sum(-1)) (linalg.trace a) "Σλ = trace"
            // repeated eigenvalues (the identity, a rank-one update of it) and a zero matrix: still an orthonormal basis
            for a in [ Tensor.Eye(4, dtype = DType.Float64); Tensor.Eye(4, dtype = DType.Float64) + (vec [ 1.0; 2.0; 0.0; 1.0 ]).Outer(vec [ 1.0; 2.0; 0.0; 1.0 ]); Tensor.Zeros([| 3; 3 |], DType.Float64) ] do
                let l, v = linalg.eigh a
                near 1e-13 (a.MatMul v) (v * l.Unsqueeze(-2)) "A·V = V·diag(λ) with a repeated eigenvalue"
                near 1e-13 (v.T.MatMul v) (Tensor.Eye(a.Shape.[0], dtype = DType.Float64)) "orthonormal with a repeated eigenvalue"
        testCase "lstsq and pinv: normal equations, minimum norm, Moore-Penrose conditions" <| fun () ->
            let g = Generator 18UL
            let tall, wide = uniform g [| 2; 6; 3 |] -1.0 1.0, uniform g [| 3; 5 |] -1.0 1.0
            let b = uniform g [| 6; 2 |] -1.0 1.0
            let x = linalg.lstsq tall b
            near 1e-12 (tall.Transpose(-1, -2).MatMul(tall.MatMul x - b)) (Tensor.Zeros([| 2; 3; 2 |], DType.Float64)) "Aᵀ(AX - B) = 0"
            let c = uniform g [| 3 |] -1.0 1.0
            let y = linalg.lstsq wide c
            near 1e-12 (wide.MatMul y) c "A·y = c exactly"
            near 1e-12 y (wide.T.MatMul(linalg.solve (wide.MatMul wide.T) c)) "minimum norm: y = Aᵀ(AAᵀ)⁻¹c"
            for a in [ tall.[0]; wide ] do
                let p = linalg.pinv a
                near 1e-12 (a.MatMul(p).MatMul a) a "A·A⁺·A = A"
                near 1e-12 (p.MatMul(a).MatMul p) p "A⁺·A·A⁺ = A⁺"
                near 1e-12 (a.MatMul p) (a.MatMul p).T "A·A⁺ symmetric"
                near 1e-12 (p.MatMul a) (p.MatMul a).T "A⁺·A symmetric"
        testCase "svd: A = U·diag(S)·Vh, orthonormal columns and rows, descending S, tall, wide, batched, Float32" <| fun () ->
            let g = Generator 19UL
            // 30×7, 2×9 and 200×20 are elongated (max ≥ 2·min): QR first, then Jacobi on R
            for shape in [ [| 1; 1 |]; [| 5; 3 |]; [| 3; 5 |]; [| 2; 4; 4 |]; [| 40; 40 |]; [| 3; 30; 7 |]; [| 2; 9 |]; [| 200; 20 |]; [| 3; 1 |] ] do
                let a = uniform g shape -1.0 1.0
                let u, s, vh = linalg.svd a
                let k = min shape.[shape.Length - 2] shape.[shape.Length - 1]
                let eye = Tensor.Eye(k, dtype = DType.Float64)
                near 1e-12 ((u * s.Unsqueeze(-2)).MatMul vh) a (sprintf "A = U·diag(S)·Vh for %A" shape)
                near 1e-12 (u.Transpose(-1, -2).MatMul u) (eye.BroadcastTo(Array.append shape.[.. shape.Length - 3] [| k; k |])) "UᵀU = I"
                near 1e-12 (vh.MatMul(vh.Transpose(-1, -2))) (eye.BroadcastTo(Array.append shape.[.. shape.Length - 3] [| k; k |])) "Vh·Vhᵀ = I"
                Expect.isTrue (k = 1 || (s.Slice(-1, 0, k - 1) - s.Slice(-1, 1)).Min().item() >= 0.0) "descending"
                near 1e-12 (linalg.svdvals a) s "svdvals = S"
                near 1e-10 ((s * s).Sum(-1)) ((a * a).Sum([| -2; -1 |])) "Σσ² = ‖A‖²_F"
            // relative accuracy of tiny singular values: diag(1, 1e-10, 1e-20) in random orthonormal bases
            let q1, _ = linalg.qr (uniform g [| 3; 3 |] -1.0 1.0 + Tensor.Eye(3, dtype = DType.Float64))
            let q2, _ = linalg.qr (uniform g [| 3; 3 |] -1.0 1.0 + Tensor.Eye(3, dtype = DType.Float64))
            let graded = (q1 * (vec [ 1.0; 1e-10; 1e-20 ]).Unsqueeze(0)).MatMul(q2.T)
            let sg = (linalg.svdvals graded).ToDoubleArray()
            Expect.floatClose Accuracy.high sg.[0] 1.0 "σ₁ = 1"
            Expect.isTrue (abs (sg.[1] / 1e-10 - 1.0) < 1e-5) (sprintf "σ₂ = 1e-10 to a relative 1e-5 (the input's rounding bounds it): %g" sg.[1])
            Expect.isTrue (sg.[2] < 1e-15) (sprintf "σ₃ ≈ 0 (below the rounding of the input): %g" sg.[2])
            let a32 = (uniform g [| 6; 4 |] -1.0 1.0).To DType.Float32
            let u, s, vh = linalg.svd a32
            Expect.equal s.DType DType.Float32 "Float32 kept"
            near 1e-5 ((u * s.Unsqueeze(-2)).MatMul vh) a32 "Float32 reconstruction"
            near 1e-5 (linalg.svdvals (a32.To DType.Float64)) (s.To DType.Float64) "Float32 values"
        testCase "svd known values, rank-deficient input, norms 2, -2 and nuc" <| fun () ->
            let u, s, vh = linalg.svd (m 2 2 [ 3.0; 0.0; 4.0; 5.0 ])
            near 1e-14 s (vec [ 3.0 * sqrt 5.0; sqrt 5.0 ]) "σ of [[3,0],[4,5]]"
            // rank 1: outer product; the zero singular value gets a completing orthonormal U column
            let r1 = (vec [ 1.0; 2.0; 2.0 ]).Outer(vec [ 3.0; 4.0 ])
            let u1, s1, vh1 = linalg.svd r1
            near 1e-14 s1 (vec [ 15.0; 0.0 ]) "σ = (‖x‖·‖y‖, 0)"
            near 1e-14 (u1.T.MatMul u1) (Tensor.Eye(2, dtype = DType.Float64)) "U still orthonormal"
            near 1e-14 ((u1 * s1.Unsqueeze(0)).MatMul vh1) r1 "reconstruction"
            for rows, cols in [ 3, 2; 6, 2; 2, 6 ] do
                let u, s, vh = linalg.svd (Tensor.Zeros([| rows; cols |], DType.Float64))
                near 1e-14 (u.T.MatMul u) (Tensor.Eye(2, dtype = DType.Float64)) (sprintf "U of a zero %dx%d matrix is orthonormal" rows cols)
                near 1e-14 (vh.MatMul vh.T) (Tensor.Eye(2, dtype = DType.Float64)) "and Vh"
                near 0.0 s (Tensor.Zeros([| 2 |], DType.Float64)) "σ = 0"
            let nanSvd = linalg.svdvals (Tensor.Stack([| m 2 2 [ nan; 1.0; 2.0; 3.0 ]; m 2 2 [ 3.0; 0.0; 4.0; 5.0 ] |]))
            Expect.isTrue (nanSvd.[0].ToDoubleArray() |> Array.forall Double.IsNaN) "a NaN entry: NaN singular values, no partial answer"
            near 1e-14 nanSvd.[1] (vec [ 3.0 * sqrt 5.0; sqrt 5.0 ]) "the other matrix of the batch unaffected"
            let a = m 2 2 [ 3.0; 0.0; 4.0; 5.0 ]
            near 1e-14 (linalg.matrixNorm "2" a) (scalar (3.0 * sqrt 5.0)) "spectral norm"
            near 1e-14 (linalg.matrixNorm "-2" a) (scalar (sqrt 5.0)) "smallest singular value"
            near 1e-14 (linalg.matrixNorm "nuc" a) (scalar (4.0 * sqrt 5.0)) "nuclear norm"
            Expect.sequenceEqual ((Linalg.MatrixNorm(Tensor.Zeros([| 2; 3; 4 |], DType.Float64), "nuc", true)).Shape) [| 2; 1; 1 |] "keepDim"
            near 1e-12 (grad (linalg.matrixNorm "nuc") a) (let u, _, vh = linalg.svd a in u.MatMul vh) "∇‖A‖_* = U·Vh"
        testCase "lstsq and pinv of rank-deficient matrices: minimum norm through the SVD, as PyTorch's" <| fun () ->
            let g = Generator 20UL
            // rank 2 in a 5×4: the pseudo-inverse satisfies the Moore-Penrose conditions
            let a = (uniform g [| 5; 2 |] -1.0 1.0).MatMul(uniform g [| 2; 4 |] -1.0 1.0)
            let p = linalg.pinvWith 1e-10 a
            near 1e-12 (a.MatMul(p).MatMul a) a "A·A⁺·A = A"
            near 1e-12 (p.MatMul(a).MatMul p) p "A⁺·A·A⁺ = A⁺"
            near 1e-12 (a.MatMul p) (a.MatMul p).T "A·A⁺ symmetric"
            near 1e-12 (p.MatMul a) (p.MatMul a).T "A⁺·A symmetric"
            let b = uniform g [| 5 |] -1.0 1.0
            let x = linalg.lstsqWith 1e-10 a b
            near 1e-12 (a.T.MatMul(a.MatMul x - b)) (Tensor.Zeros([| 4 |], DType.Float64)) "normal equations"
            near 1e-12 x (p.MatMul b) "the minimum-norm solution A⁺·b"
            // the default cutoff (ε·max(m, n)·σ_max) on an exactly rank-deficient matrix: a zero column
            let z = m 3 3 [ 1.0; 2.0; 0.0; 3.0; 4.0; 0.0; 5.0; 7.0; 0.0 ]
            let pz = linalg.pinv z
            near 1e-12 (z.MatMul(pz).MatMul z) z "A·A⁺·A = A (default cutoff)"
            near 1e-12 (pz.Slice(0, 2)) (Tensor.Zeros([| 1; 3 |], DType.Float64)) "the zero column's row of A⁺ is zero"
            near 1e-12 (linalg.lstsq z (vec [ 1.0; 1.0; 1.0 ])) (pz.MatMul(vec [ 1.0; 1.0; 1.0 ])) "lstsq = A⁺·b (default cutoff)"
            // an explicit cutoff drops a small singular value
            let d = linalg.diag (vec [ 2.0; 1e-3 ])
            near 1e-12 (linalg.pinvWith 1e-2 d) (linalg.diag (vec [ 0.5; 0.0 ])) "rtol 1e-2 drops 1e-3"
            near 1e-9 (linalg.pinv d) (linalg.diag (vec [ 0.5; 1000.0 ])) "default rtol keeps it"
            near 1e-12 (linalg.lstsqWith 1e-2 d (vec [ 1.0; 1.0 ])) (vec [ 0.5; 0.0 ]) "lstsq with rcond"
            // the gradient of a rank-deficient pinv is finite (kept singular values distinct)
            Check.gradientsWith (GradientOptions.forDType DType.Float64) (fun xs -> linalg.pinvWith 1e-10 (xs.[0].MatMul xs.[1])) [| uniform g [| 4; 2 |] -1.0 1.0; uniform g [| 2; 3 |] -1.0 1.0 |]
        testCase "einsum: matmul, batched matmul, trace, diagonal, transpose, outer, implicit output, chains" <| fun () ->
            let g = Generator 9UL
            let a, b, c = uniform g [| 3; 4 |] -1.0 1.0, uniform g [| 4; 5 |] -1.0 1.0, uniform g [| 5; 2 |] -1.0 1.0
            let sq = uniform g [| 4; 4 |] -1.0 1.0
            let bx, by = uniform g [| 2; 3; 4 |] -1.0 1.0, uniform g [| 2; 4; 5 |] -1.0 1.0
            near 1e-13 (linalg.einsum "ij,jk->ik" [ a; b ]) (a.MatMul b) "matmul"
            near 1e-13 (linalg.einsum "ij,jk" [ a; b ]) (a.MatMul b) "implicit output"
            near 1e-13 (linalg.einsum "bij,bjk->bik" [ bx; by ]) (bx.MatMul by) "batched"
            near 1e-13 (linalg.einsum "ij,jk,kl->il" [ a; b; c ]) (a.MatMul(b).MatMul c) "a chain of three"
            near 1e-13 (linalg.einsum "ii->" [ sq ]) (linalg.trace sq) "trace"
            near 1e-13 (linalg.einsum "ii->i" [ sq ]) (linalg.diagonal sq) "diagonal"
            near 0.0 (linalg.einsum "ij->ji" [ a ]) a.T "transpose"
            near 1e-13 (linalg.einsum "ij->" [ a ]) (a.Sum()) "sum"
            near 1e-13 (linalg.einsum "i,j->ij" [ a.[0]; b.[0] ]) (a.[0].Outer(b.[0])) "outer"
            near 1e-13 (linalg.einsum "ij,ij->i" [ a; a ]) ((a * a).Sum(1)) "row-wise dot"
            throwsWith<ShapeMismatchException> [ "einsum"; "'j'"; "4"; "5" ] (fun () -> box (linalg.einsum "ij,jk->ik" [ a; c ]))
            throwsWith<TensorException> [ "einsum"; "ellipsis" ] (fun () -> box (linalg.einsum "...ij->...ji" [ a ]))
            throwsWith<TensorException> [ "einsum"; "'z'" ] (fun () -> box (linalg.einsum "ij->iz" [ a ]))
        testCase "svd by Golub-Kahan (min(m, n) >= 24): tall, wide, elongated, batched, rank-deficient, repeated, tiny and huge, Float32, against Jacobi" <| fun () ->
            let g = Generator 23UL
            let jacobi (a: Tensor) =
                let r, c = a.Shape.[a.Rank - 2], a.Shape.[a.Rank - 1]
                let raw = LinalgKernels.SvdByJacobi(CpuBackend.Instance, a.Reshape(-1, r, c).Value, true)
                let k = min r c
                let p = Tensor.FromArray(CpuBackend.Instance.ToArray<float>(CpuBackend.Instance.Cast(raw, DType.Float64)), raw.Shape.[0], r + 1 + c, k)
                p.Slice(1, 0, r), p.Slice(1, r, r + 1).Squeeze(1), p.Slice(1, r + 1, r + 1 + c)
            let check name tol (a: Tensor) (compareVectors: bool) =
                let shape = a.Shape
                let r, c = shape.[shape.Length - 2], shape.[shape.Length - 1]
                let k = min r c
                let scale = (a.Abs().Max()).item()
                let u, s, vh = linalg.svd a
                let eye = Tensor.Eye(k, dtype = DType.Float64).BroadcastTo(Array.append shape.[.. shape.Length - 3] [| k; k |])
                let u64, s64, vh64 = u.To DType.Float64, s.To DType.Float64, vh.To DType.Float64
                near tol ((u64 * s64.Unsqueeze(-2)).MatMul vh64 / scale) (a.To DType.Float64 / scale) (name + ": A = U·diag(S)·Vh")
                near tol (u64.Transpose(-1, -2).MatMul u64) eye (name + ": UᵀU = I")
                near tol (vh64.MatMul(vh64.Transpose(-1, -2))) eye (name + ": Vh·Vhᵀ = I")
                Expect.isTrue ((s64.Slice(-1, 0, k - 1) - s64.Slice(-1, 1)).Min().item() >= 0.0) (name + ": descending")
                near tol ((linalg.svdvals a).To DType.Float64) s64 (name + ": svdvals = S")
                let ju, js, jv = jacobi a
                near tol (s64.Reshape(-1, k) / scale) (js / scale) (name + ": S as Jacobi's")
                if compareVectors then
                    near (tol * 100.0) (u64.Reshape(-1, r, k)) ju (name + ": U as Jacobi's, signs included")
                    near (tol * 100.0) (vh64.Reshape(-1, k, c).Transpose(-1, -2)) jv (name + ": V as Jacobi's")
            for shape in [ [| 40; 40 |]; [| 50; 40 |]; [| 40; 50 |]; [| 60; 30 |]; [| 30; 75 |]; [| 2; 30; 30 |] ] do
                check (sprintf "%A" shape) 1e-12 (uniform g shape -1.0 1.0) false
            check "separated σ, 36×30" 1e-12 (separatedSvd g [||] 36 30) true
            check "separated σ, 30×36, batched" 1e-12 (separatedSvd g [| 2 |] 30 36) true
            check "rank 10 of 48×48" 1e-12 ((uniform g [| 48; 10 |] -1.0 1.0).MatMul(uniform g [| 10; 48 |] -1.0 1.0)) false
            check "zero 30×30" 1e-12 (Tensor.Zeros([| 30; 30 |], DType.Float64) + 0.0) false
            let q1, _ = linalg.qr (uniform g [| 32; 32 |] -1.0 1.0 + Tensor.Eye(32, dtype = DType.Float64))
            let q2, _ = linalg.qr (uniform g [| 32; 32 |] -1.0 1.0 + Tensor.Eye(32, dtype = DType.Float64))
            let repeated = Tensor.Concat([| Tensor.Full([| 16 |], 3.0, DType.Float64); Tensor.Full([| 16 |], 1.0, DType.Float64) |], 0)
            let rep = (q1 * repeated.Unsqueeze(0)).MatMul(q2.T)
            check "repeated σ (3 ×16, 1 ×16)" 1e-12 rep false
            near 1e-13 (linalg.svdvals rep) repeated "repeated σ recovered"
            for sc in [ 1e-150; 1e150 ] do
                check (sprintf "scale %g" sc) 1e-12 (uniform g [| 40; 35 |] -1.0 1.0 * sc) false
            check "Float32 40×32" 2e-5 ((uniform g [| 40; 32 |] -1.0 1.0).To DType.Float32) false
    ]

let private errorTests =
    testList "errors" [
        testCase "non-square input" <| fun () ->
            throwsWith<ShapeMismatchException> [ "solve"; "square"; "[2,3]" ] (fun () -> box (linalg.solve (Tensor.Zeros [| 2; 3 |]) (Tensor.Zeros [| 2 |])))
            throwsWith<ShapeMismatchException> [ "det"; "square"; "[3]" ] (fun () -> box (linalg.det (Tensor.Zeros [| 3 |])))
            throwsWith<ShapeMismatchException> [ "cholesky"; "square" ] (fun () -> box (linalg.cholesky (Tensor.Zeros [| 4; 2 |])))
        testCase "Cholesky of a matrix that is not positive definite names the leading minor" <| fun () ->
            let a = m 3 3 [ 4.0; 2.0; 0.0; 2.0; 1.0; 0.0; 0.0; 0.0; 1.0 ] // leading minors 4, 0, 0
            throwsWith<NotPositiveDefiniteException> [ "cholesky"; "not positive definite"; "order 2"; "[3,3]" ] (fun () -> box (linalg.cholesky a))
            let e = Expect.throwsC (fun () -> linalg.cholesky (-(Tensor.Eye(2, dtype = DType.Float64))) |> ignore) id
            Expect.equal (e :?> NotPositiveDefiniteException).Order 1 "order 1"
        testCase "batch shapes that do not broadcast, and B's rows" <| fun () ->
            throwsWith<ShapeMismatchException> [ "solve"; "batch dimensions [2]"; "[4]"; "do not broadcast" ] (fun () -> box (linalg.solve (Tensor.Zeros [| 2; 3; 3 |]) (Tensor.Zeros [| 4; 3; 1 |])))
            throwsWith<ShapeMismatchException> [ "solve"; "rows"; "[3,3]"; "[2,1]" ] (fun () -> box (linalg.solve (Tensor.Zeros [| 3; 3 |]) (Tensor.Zeros [| 2; 1 |])))
        testCase "Bool matrices" <| fun () ->
            throwsWith<DTypeMismatchException> [ "det"; "Bool" ] (fun () -> box (linalg.det ((Tensor.Zeros [| 2; 2 |]).Gt(0.0))))
    ]

let private secondOrderTests =
    testList "second order" [
        testCase "Hessian of log|det A| applied to V is -(A⁻¹·V·A⁻¹)ᵀ" <| fun () ->
            let g = Generator 12UL
            let a, v = wellConditioned g [||] 4, uniform g [| 4; 4 |] -1.0 1.0
            let ai = linalg.inv a
            near 1e-10 (hvp (fun x -> snd (linalg.slogdet x)) a v) (-(ai.MatMul(v).MatMul(ai)).T) "hvp"
            near 1e-10 (grad (fun x -> snd (linalg.slogdet x)) a) ai.T "gradient A⁻ᵀ"
        testCase "one Newton step minimizes a quadratic whose gradient involves a solve" <| fun () ->
            let g = Generator 13UL
            let a, c = wellConditioned g [||] 5, uniform g [| 5 |] -1.0 1.0
            let f (x: Tensor) =
                let r = linalg.solve a x - c
                (r * r).Sum() * 0.5 + (x * x).Sum() * 0.05
            let x0 = Tensor.Zeros([| 5 |], DType.Float64)
            let h = hessian f x0
            let x1 = x0 - linalg.solve h (grad f x0)
            Expect.isTrue ((grad f x1).Abs().Max().item() < 1e-12) "the gradient vanishes after one step"
            // and the Hessian is the analytic A⁻ᵀA⁻¹ + 0.1·I
            let ai = linalg.inv a
            near 1e-10 h (ai.T.MatMul ai + Tensor.Eye(5, dtype = DType.Float64) * 0.1) "Hessian"
        testCase "Cholesky: second derivatives of log det via 2·Σ log Lᵢᵢ equal those via slogdet" <| fun () ->
            let g = Generator 14UL
            let a, v = spd g [||] 4, uniform g [| 4; 4 |] -1.0 1.0
            let vs = (v + v.T) * 0.5
            let viaChol (x: Tensor) = (linalg.diagonal (linalg.cholesky x)).Log().Sum() * 2.0
            let viaLu (x: Tensor) = snd (linalg.slogdet x)
            near 1e-10 (viaChol a) (viaLu a) "log det"
            near 1e-9 (hvp viaChol a vs) (linalg.tril 0 (hvp viaLu a vs + (hvp viaLu a vs).T - linalg.diag (linalg.diagonal (hvp viaLu a vs)))) "hvp in a symmetric direction (Cholesky reads the lower triangle)"
        testCase "composite ops differentiate to second order (trace, diag, kron, tensordot, norms, choleskySolve, inv)" <| fun () ->
            let g = Generator 15UL
            let a, b = wellConditioned g [||] 3, uniform g [| 2; 3 |] -1.0 1.0
            let s = spd g [||] 3
            let cases : (string * (Tensor[] -> Tensor) * Tensor[]) list =
                [ "trace·diag", (fun xs -> linalg.trace (linalg.diag (linalg.diagonal xs.[0] * linalg.diagonal xs.[0]))), [| a |]
                  "kron", (fun xs -> (linalg.kron xs.[0] xs.[1]).Sin()), [| a; b |]
                  "tensordot", (fun xs -> (linalg.tensordot 1 xs.[1] xs.[0]).Sin()), [| a; b |]
                  "matrixNorm", (fun xs -> linalg.matrixNorm "fro" xs.[0] + linalg.matrixNorm "1" xs.[1]), [| a; b |]
                  "vectorNorm", (fun xs -> linalg.vectorNorm 3.0 xs.[0]), [| b |]
                  "inv", (fun xs -> linalg.inv xs.[0]), [| a |]
                  "eigvalsh", (fun xs -> linalg.eigvalsh (xs.[0] + xs.[0].T + linalg.diag (vec [ 0.0; 20.0; 40.0 ]))), [| a |]
                  "lstsq", (fun xs -> linalg.lstsq xs.[1].T xs.[0].[0]), [| a; b |]
                  "pinv", (fun xs -> linalg.pinv xs.[0]), [| b |]
                  "qr", (fun xs -> let q, r = linalg.qr xs.[0] in q.Sin() + r), [| a |]
                  "matrixExp", (fun xs -> linalg.matrixExp (xs.[0] * 0.3)), [| a |]
                  "lu", (fun xs -> let p, l, u = linalg.lu xs.[0] in l + u), [| a |]
                  "luSolve", (fun xs -> linalg.luSolve (linalg.luFactor xs.[0]) xs.[1].T), [| a; b |]
                  "einsum", (fun xs -> linalg.einsum "ij,kj,jj->ik" [ xs.[1]; xs.[1]; xs.[0] ]), [| a; b |]
                  "choleskySolve", (fun xs -> linalg.choleskySolve xs.[1].T (linalg.cholesky xs.[0])), [| s; b |]
                  "svdvals", (fun xs -> linalg.svdvals xs.[1]), [| a; b |]
                  "matrixNorm 2, -2, nuc", (fun xs -> linalg.matrixNorm "2" xs.[0] * linalg.matrixNorm "-2" xs.[1] + linalg.matrixNorm "nuc" xs.[1]), [| a; b |]
                  "svd", (fun xs -> let u, s, vh = linalg.svd xs.[1] in u.Sin().Sum() + (s * s).Sum() + vh.Cos().Sum()), [| a; b |] ]
            for name, f, xs in cases do
                try Check.gradientsWith (GradientOptions.forDType DType.Float64) f xs
                with :? CheckFailedException as e -> failtestf "%s: %s" name e.Message
    ]

let tests = testList "linalg" [ factorizationTests; knownValueTests; errorTests; secondOrderTests ]
