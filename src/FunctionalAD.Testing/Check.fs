namespace FunctionalAD.Testing

open System
open FunctionalAD

/// Thrown by every check of this package when a property does not hold; the message says what differs, where,
/// by how much and against which tolerance. Any test framework reports it as a failure.
type CheckFailedException(message: string) =
    inherit Exception(message)

/// When two values count as equal: |actual - expected| <= ATol + RTol·|expected| (torch.testing.assert_close).
type Tolerance =
    { /// Relative tolerance.
      RTol: float
      /// Absolute tolerance.
      ATol: float
      /// NaN equals NaN (false: a NaN anywhere fails).
      EqualNaN: bool }

/// Default tolerances by dtype, as torch.testing.assert_close chooses them.
[<RequireQualifiedAccess>]
module Tolerance =

    /// Float32: rtol 1.3e-6, atol 1e-5; Float64: rtol 1e-7, atol 1e-7; integers and Bool: exact.
    let forDType (dtype: DType) =
        match dtype with
        | DType.Float32 -> { RTol = 1.3e-6; ATol = 1e-5; EqualNaN = false }
        | DType.Float64 -> { RTol = 1e-7; ATol = 1e-7; EqualNaN = false }
        | _ -> { RTol = 0.0; ATol = 0.0; EqualNaN = false }

    /// rtol = atol = tol.
    let both (tol: float) = { RTol = tol; ATol = tol; EqualNaN = false }

/// How Check.gradients compares derivatives. Defaults come from the inputs' dtype (GradientOptions.forDType).
type GradientOptions =
    { /// 1: first derivatives; 2: also Hessian-vector products (gradgradcheck).
      Order: int
      /// Also check forward mode (jvp) against finite differences and against reverse mode (transposition).
      Forward: bool
      /// Central finite-difference step for first derivatives.
      Eps: float
      /// A first derivative passes when |analytic - numeric| <= Tolerance·max(1, |numeric|).
      Tolerance: float
      /// Finite-difference step of the gradient for the second-order check.
      SecondOrderEps: float
      /// Tolerance of the second-order check (same form as Tolerance).
      SecondOrderTolerance: float
      /// Seed of the random output weights and directions the checks use.
      Seed: uint64 }

/// Default gradient-check options.
[<RequireQualifiedAccess>]
module GradientOptions =

    /// Float64: step 1e-6, tolerance 1e-5 (order 2: step 1e-5, tolerance 1e-4); Float32: step 1e-3, tolerance 2e-2
    /// (order 2: 1e-2, 5e-2). Orders 1 and 2, forward mode on, seed 7.
    let forDType (dtype: DType) =
        match dtype with
        | DType.Float32 -> { Order = 2; Forward = true; Eps = 1e-3; Tolerance = 2e-2; SecondOrderEps = 1e-2; SecondOrderTolerance = 5e-2; Seed = 7UL }
        | _ -> { Order = 2; Forward = true; Eps = 1e-6; Tolerance = 1e-5; SecondOrderEps = 1e-5; SecondOrderTolerance = 1e-4; Seed = 7UL }

    /// The defaults for the least precise of the inputs' dtypes.
    let forInputs (xs: Tensor seq) =
        forDType (if xs |> Seq.exists (fun x -> x.DType = DType.Float32) then DType.Float32 else DType.Float64)

/// Central finite differences, the reference the gradient checks compare against.
[<RequireQualifiedAccess>]
module FiniteDifferences =

    /// ∂f/∂xs.[i] of scalar-valued f, one element at a time: (f(x + eps·e_k) - f(x - eps·e_k)) / 2eps.
    let gradient (f: Tensor[] -> Tensor) (xs: Tensor[]) (i: int) (eps: float) : float[] =
        let x = xs.[i].ToDoubleArray()
        let shape, dtype, device = xs.[i].Shape, xs.[i].DType, xs.[i].Device
        Array.init x.Length (fun k ->
            let at (d: float) =
                let y = Array.copy x
                y.[k] <- y.[k] + d
                let args = Array.copy xs
                args.[i] <- Tensors.make dtype shape y |> fun t -> if device = Device.Cpu then t else t.ToDevice device
                (f args).ToDoubleArray().[0]
            (at eps - at -eps) / (2.0 * eps))

    /// The directional derivative of f at xs along vs: (f(xs + eps·vs) - f(xs - eps·vs)) / 2eps.
    let directional (f: Tensor[] -> Tensor) (xs: Tensor[]) (vs: Tensor[]) (eps: float) : Tensor =
        let shifted (h: float) = f (Array.map2 (fun (x: Tensor) (v: Tensor) -> x + h * v) xs vs)
        (shifted eps - shifted -eps) / (2.0 * eps)

/// Assertions over tensors and derivatives for property-based suites (Expecto, xunit, NUnit...): each returns unit
/// or throws CheckFailedException with a readable message.
// compiled as CheckModule so C# code that also uses FsCheck's Check is not ambiguous
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Check =

    let private fail fmt = Printf.kprintf (fun s -> raise (CheckFailedException s)) fmt

    /// A flat index as a multi-index of shape ("[1, 0, 2]").
    let indexOf (shape: int[]) (flat: int) =
        let idx = Array.zeroCreate shape.Length
        let mutable r = flat
        for d in shape.Length - 1 .. -1 .. 0 do
            idx.[d] <- r % shape.[d]
            r <- r / shape.[d]
        "[" + String.Join(", ", idx) + "]"

    let private show (t: Tensor) = if t.Numel <= 64 then t.ToString() else sprintf "%s tensor of shape %s" (string t.DType) (Shape.Format t.Shape)

    let private inputs (names: string[]) (xs: Tensor[]) =
        String.Join("\n", xs |> Array.mapi (fun i x -> sprintf "  %s = %s" names.[i] (show x)))

    /// The element of (actual, expected) that misses the bound by the largest factor, if any misses:
    /// (flat index, actual, expected, allowed difference, number of elements that miss).
    let private worst (allowed: float -> float) (equalNaN: bool) (a: float[]) (e: float[]) =
        let mutable best = None
        let mutable bestRatio = -1.0
        let mutable misses = 0
        for k in 0 .. a.Length - 1 do
            let x, y = a.[k], e.[k]
            let ok = x = y || (equalNaN && Double.IsNaN x && Double.IsNaN y) || abs (x - y) <= allowed y
            if not ok then
                misses <- misses + 1
                let ratio = let r = abs (x - y) / max (allowed y) Double.Epsilon in if Double.IsNaN r then Double.PositiveInfinity else r
                if ratio > bestRatio then
                    bestRatio <- ratio
                    best <- Some(k, x, y, allowed y)
        best |> Option.map (fun (k, x, y, tol) -> k, x, y, tol, misses)

    /// actual ≈ expected within tol: shapes and dtypes must agree; the message names the worst element, its
    /// index, both values and the tolerance. Throws CheckFailedException.
    let allCloseWith (tol: Tolerance) (actual: Tensor) (expected: Tensor) =
        if actual.Shape <> expected.Shape then
            fail "Check.allClose: shapes differ: actual %s, expected %s" (Shape.Format actual.Shape) (Shape.Format expected.Shape)
        if actual.DType <> expected.DType then
            fail "Check.allClose: dtypes differ: actual %O, expected %O" actual.DType expected.DType
        let a, e = actual.ToDoubleArray(), expected.ToDoubleArray()
        match worst (fun y -> tol.ATol + tol.RTol * abs y) tol.EqualNaN a e with
        | None -> ()
        | Some(k, x, y, allowed, misses) ->
            fail "Check.allClose: %d of %d elements differ beyond atol %g + rtol %g·|expected|; the worst is at index %s: actual %.17g, expected %.17g, |difference| %.3g > %.3g allowed\n  actual   = %s\n  expected = %s"
                misses a.Length tol.ATol tol.RTol (indexOf actual.Shape k) x y (abs (x - y)) allowed (show actual) (show expected)

    /// actual ≈ expected with the tolerance of expected's dtype (Tolerance.forDType). Throws CheckFailedException.
    let allClose (actual: Tensor) (expected: Tensor) = allCloseWith (Tolerance.forDType expected.DType) actual expected

    let private compareDerivative (what: string) (names: string[]) (xs: Tensor[]) (shape: int[]) (tol: float) (analytic: float[]) (numeric: float[]) =
        if analytic.Length <> numeric.Length then
            fail "Check.gradients: %s has %d elements but finite differences give %d" what analytic.Length numeric.Length
        match worst (fun y -> tol * max 1.0 (abs y)) false analytic numeric with
        | None -> ()
        | Some(k, x, y, allowed, misses) ->
            fail "Check.gradients: %s differs from central finite differences at %d of %d elements; the worst is at index %s: analytic %.10g, numeric %.10g, |difference| %.3g > %.3g allowed (tolerance %g·max(1, |numeric|))\nat\n%s"
                what misses analytic.Length (indexOf shape k) x y (abs (x - y)) allowed tol (inputs names xs)

    let private validate (caller: string) (xs: Tensor[]) =
        if xs.Length = 0 then invalidArg "xs" (sprintf "%s: give at least one input" caller)
        xs |> Array.iteri (fun i x ->
            if x.DType <> DType.Float32 && x.DType <> DType.Float64 then
                invalidArg "xs" (sprintf "%s: input %d is %O; derivatives are checked for Float32 and Float64 inputs" caller i x.DType))

    let private isMissingForwardRule (e: exn) =
        match e with
        | :? InvalidOperationException as e -> e.Message.Contains "forward-mode derivative"
        | _ -> false

    let private random (g: Generator) (like: Tensor) =
        let r = Tensor.Rand(like.Shape, g, DType.Float64) * 2.0 - 1.0
        let r = if like.DType = DType.Float32 then r.To DType.Float32 else r
        if like.Device = Device.Cpu then r else r.ToDevice like.Device

    let private dot (a: Tensor) (b: Tensor) = (a * b).Sum().ToDoubleArray().[0]

    /// The checks behind gradientsWith, with input names for the messages.
    let internal run (o: GradientOptions) (names: string[]) (f: Tensor[] -> Tensor) (xs: Tensor[]) =
        validate "Check.gradients" xs
        if o.Order < 1 || o.Order > 2 then invalidArg "o" (sprintf "Check.gradients: Order must be 1 or 2, got %d" o.Order)
        let g = Generator o.Seed
        let y = f xs
        let w = random g y
        // a random weighting of the outputs makes every output element matter (f may return any shape)
        let F (args: Tensor[]) = ((f args) * w).Sum()
        let struct (_, grads) = Transform.ValueAndGrad(Func<_, _> F, xs)
        for i in 0 .. xs.Length - 1 do
            compareDerivative (sprintf "the reverse-mode gradient of %s" names.[i]) names xs xs.[i].Shape o.Tolerance
                (grads.[i].ToDoubleArray()) (FiniteDifferences.gradient F xs i o.Eps)
        let vs = xs |> Array.map (random g)
        if o.Forward then
            let struct (_, tangent) = Transform.Jvp(Func<_, _> f, xs, vs)
            compareDerivative "the forward-mode tangent (jvp along a random direction)" names xs y.Shape o.Tolerance
                (tangent.ToDoubleArray()) ((FiniteDifferences.directional f xs vs o.Eps).ToDoubleArray())
            let lhs = dot w tangent
            let rhs = Array.map2 dot grads vs |> Array.sum
            if abs (lhs - rhs) > o.Tolerance * 1e-3 * max 1.0 (abs lhs) then
                fail "Check.gradients: forward and reverse mode disagree: <w, J·v> = %.12g but <Jᵀ·w, v> = %.12g\nat\n%s" lhs rhs (inputs names xs)
        if o.Order = 2 then
            for i in 0 .. xs.Length - 1 do
                let Fi (x: Tensor) = F (Array.updateAt i x xs)
                let hv =
                    if o.Forward then Transform.Hvp(Func<_, _> Fi, xs.[i], vs.[i])
                    else Transform.Grad(Func<_, _>(fun x -> (Transform.Grad(Func<_, _> Fi, x) * vs.[i]).Sum()), xs.[i])
                let gradAt (h: float) = Transform.Grad(Func<_, _> Fi, xs.[i] + h * vs.[i])
                let fd = (gradAt o.SecondOrderEps - gradAt -o.SecondOrderEps) / (2.0 * o.SecondOrderEps)
                compareDerivative (sprintf "the Hessian-vector product in %s (%s)" names.[i] (if o.Forward then "forward over reverse" else "reverse over reverse"))
                    names xs xs.[i].Shape o.SecondOrderTolerance (hv.ToDoubleArray()) (fd.ToDoubleArray())

    let private defaultNames (xs: Tensor[]) = if xs.Length = 1 then [| "x" |] else Array.init xs.Length (sprintf "x%d")

    /// Checks f's derivatives at xs with options o (gradcheck/gradgradcheck, jax check_grads): the reverse-mode
    /// gradient of a random weighting of f's outputs against central finite differences, element by element;
    /// if o.Forward, the jvp along a random direction against finite differences and against reverse mode
    /// (<w, J·v> = <Jᵀ·w, v>); if o.Order = 2, the Hessian-vector product in every input against finite
    /// differences of the gradient. f may return any shape. Throws CheckFailedException naming the check, the
    /// worst element and the inputs; ArgumentException for inputs that are not Float32/Float64.
    let gradientsWith (o: GradientOptions) (f: Tensor[] -> Tensor) (xs: Tensor[]) = run o (defaultNames xs) f xs

    /// Checks f's derivatives in all its inputs at xs, orders 1 and 2, both modes, with the defaults of the
    /// inputs' dtype (see gradientsWith).
    let gradientsN (f: Tensor[] -> Tensor) (xs: Tensor[]) = gradientsWith (GradientOptions.forInputs xs) f xs

    /// Checks f's derivatives at x, orders 1 and 2, both modes, with the defaults of x's dtype (see gradientsWith).
    let gradients (f: Tensor -> Tensor) (x: Tensor) = gradientsN (fun xs -> f xs.[0]) [| x |]

    /// Checks the derivatives of f in every parameter of p (named in the messages), orders 1 and 2, both modes.
    let paramGradients (f: Params -> Tensor) (p: Params) =
        let entries = Params.toList p
        let names = entries |> List.map fst |> Array.ofList
        let xs = entries |> List.map snd |> Array.ofList
        run (GradientOptions.forInputs xs) names (fun ts -> f (Params.ofList (List.ofArray (Array.zip names ts)))) xs

    /// Checks that f's forward and reverse modes are transposes of each other at x: <w, J·v> = <Jᵀ·w, v> for a
    /// random direction v and output weighting w (no finite differences). Throws CheckFailedException.
    let jvpVjpTranspose (f: Tensor -> Tensor) (x: Tensor) =
        validate "Check.jvpVjpTranspose" [| x |]
        let o = GradientOptions.forDType x.DType
        let g = Generator o.Seed
        let v = random g x
        let struct (y, tangent) = Transform.Jvp(Func<_, _>(fun (xs: Tensor[]) -> f xs.[0]), [| x |], [| v |])
        let w = random g y
        let cotangent = Transform.Vjp(Func<_, _>(fun (xs: Tensor[]) -> f xs.[0]), x).Pullback(w).[0]
        let lhs, rhs = dot w tangent, dot cotangent v
        if abs (lhs - rhs) > o.Tolerance * 1e-3 * max 1.0 (abs lhs) then
            fail "Check.jvpVjpTranspose: <w, J·v> = %.12g but <Jᵀ·w, v> = %.12g (forward and reverse rules are not transposes)\nat\n  x = %s" lhs rhs (show x)

    /// Checks a function built with customFn at x: its backward rule against finite differences; its jvp rule, if
    /// it has one, against finite differences and against the backward rule; second derivatives through the
    /// backward rule (forward over reverse with a jvp rule, reverse over reverse without). Throws
    /// CheckFailedException.
    let customGradient (f: Tensor -> Tensor) (x: Tensor) =
        validate "Check.customGradient" [| x |]
        let hasJvp =
            try
                Transform.Jvp(Func<_, _>(fun (xs: Tensor[]) -> f xs.[0]), [| x |], [| Tensor.OnesLike x |]) |> ignore
                true
            with e when isMissingForwardRule e -> false
        run { GradientOptions.forDType x.DType with Forward = hasJvp } [| "x" |] (fun xs -> f xs.[0]) [| x |]
