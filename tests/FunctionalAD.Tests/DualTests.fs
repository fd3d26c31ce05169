/// The scalar Dual number: every math function against finite differences, nesting for second derivatives,
/// and generic math (one function evaluated on double and on Dual).
module FunctionalAD.Tests.DualTests

open System
open System.Numerics
open Expecto
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Tests.Support

type D = Dual<float>

/// (name, dual function, double function, domain)
let private functions : (string * (D -> D) * (float -> float) * (float * float)) list =
    [ "exp", D.Exp, Math.Exp, (-2.0, 2.0)
      "exp2", D.Exp2, (fun x -> Math.Pow(2.0, x)), (-2.0, 2.0)
      "exp10", D.Exp10, (fun x -> Math.Pow(10.0, x)), (-1.0, 1.0)
      "expm1", D.ExpM1, (fun x -> Math.Exp x - 1.0), (-2.0, 2.0)
      "log", D.Log, Math.Log, (0.2, 3.0)
      "log2", D.Log2, Math.Log2, (0.2, 3.0)
      "log10", D.Log10, Math.Log10, (0.2, 3.0)
      "logp1", D.LogP1, (fun x -> Math.Log(1.0 + x)), (-0.5, 3.0)
      "sqrt", D.Sqrt, Math.Sqrt, (0.2, 3.0)
      "cbrt", D.Cbrt, Math.Cbrt, (0.2, 3.0)
      "sin", D.Sin, Math.Sin, (-3.0, 3.0)
      "cos", D.Cos, Math.Cos, (-3.0, 3.0)
      "tan", D.Tan, Math.Tan, (-1.2, 1.2)
      "sinpi", D.SinPi, (fun x -> Math.Sin(Math.PI * x)), (-1.0, 1.0)
      "cospi", D.CosPi, (fun x -> Math.Cos(Math.PI * x)), (-1.0, 1.0)
      "tanpi", D.TanPi, (fun x -> Math.Tan(Math.PI * x)), (-0.4, 0.4)
      "asin", D.Asin, Math.Asin, (-0.9, 0.9)
      "acos", D.Acos, Math.Acos, (-0.9, 0.9)
      "atan", D.Atan, Math.Atan, (-3.0, 3.0)
      "sinh", D.Sinh, Math.Sinh, (-2.0, 2.0)
      "cosh", D.Cosh, Math.Cosh, (-2.0, 2.0)
      "tanh", D.Tanh, Math.Tanh, (-2.0, 2.0)
      "asinh", D.Asinh, Math.Asinh, (-2.0, 2.0)
      "acosh", D.Acosh, Math.Acosh, (1.2, 3.0)
      "atanh", D.Atanh, Math.Atanh, (-0.9, 0.9)
      "abs", D.Abs, Math.Abs, (0.1, 2.0)
      "pow", (fun x -> D.Pow(x, D.op_Implicit 2.5)), (fun x -> Math.Pow(x, 2.5)), (0.2, 3.0)
      "pow (exponent)", (fun x -> D.Pow(D.op_Implicit 1.7, x)), (fun x -> Math.Pow(1.7, x)), (-2.0, 2.0)
      "atan2", (fun x -> D.Atan2(x, D.op_Implicit 0.7)), (fun x -> Math.Atan2(x, 0.7)), (-2.0, 2.0)
      "hypot", (fun x -> D.Hypot(x, D.op_Implicit 0.7)), (fun x -> Math.Sqrt(x * x + 0.49)), (-2.0, 2.0)
      "div", (fun x -> D.op_Implicit 1.0 / (x * x + D.op_Implicit 1.0)), (fun x -> 1.0 / (x * x + 1.0)), (-2.0, 2.0)
      "fma", (fun x -> D.FusedMultiplyAdd(x, x, x)), (fun x -> x * x + x), (-2.0, 2.0) ]

/// Written once with F#'s inline math: evaluated on float and, unchanged, on Dual<float>.
let inline generic x = sin x * x + exp x

let tests =
    testList "Dual numbers" [
        for (name, fd, f, (lo, hi)) in functions do
            yield testProp name (fun (u: float) ->
                    let x = lo + (hi - lo) * u
                    let h = 1e-6
                    let numeric = (f (x + h) - f (x - h)) / (2.0 * h)
                    let y = fd (D(x, 1.0))
                    Expect.floatClose Accuracy.high y.Primal (f x) (name + " value")
                    if abs (y.Tangent - numeric) > 1e-6 * max 1.0 (abs numeric) then
                        failtestf "%s'(%g): dual %g, finite differences %g" name x y.Tangent numeric)
                    (Gen.choose (0, 1000) |> Gen.map (fun i -> float i / 1000.0))
        yield testCase "nested duals give second derivatives without confusion" <| fun () ->
            Expect.floatClose Accuracy.high (Scalar.diff2 (fun x -> sin x * x) 1.3) (2.0 * cos 1.3 - 1.3 * sin 1.3) "(x sin x)''"
            // d/dx [x * d/dy (x + y)] = 1: the inner variable is another type, so it cannot capture x's tangent
            let inner (x: D) = Dual<D>(Dual<float>(x.Primal, 0.0), Dual<float>(1.0, 0.0))
            Expect.floatClose Accuracy.high (Scalar.diff (fun x -> x * D((Dual<D>(x, D.op_Implicit 0.0) + inner x).Tangent.Primal, 0.0)) 1.0) 1.0 "no confusion"
        yield testCase "one inline function on float and on Dual" <| fun () ->
            let x = 0.8
            let value, derivative = Scalar.valueAndDiff generic x
            Expect.floatClose Accuracy.veryHigh value (generic x) "same value"
            Expect.floatClose Accuracy.veryHigh derivative (cos x * x + sin x + exp x) "derivative"
        yield testCase "edge cases: nested powers, real roots of negatives, abs and copySign at NaN and ±0" <| fun () ->
            // (x²+1)³: f''(0) = 6; the inner tangent's primal is 0 at x = 0, which must not drop it
            let constant (v: float) = Dual<D>(D(v, 0.0), D.Zero)
            Expect.floatClose Accuracy.high (Scalar.diff2 (fun x -> Dual<D>.Pow(x * x + constant 1.0, constant 3.0)) 0.0) 6.0 "nested pow"
            let r = Dual<float>.RootN(D(-8.0, 1.0), 3)
            Expect.floatClose Accuracy.high r.Primal -2.0 "cube root of -8"
            Expect.floatClose Accuracy.high r.Tangent (1.0 / 12.0) "its derivative 1/(3·4)"
            Expect.isTrue (Double.IsNaN (D.Abs(D(nan, 1.0))).Primal) "abs NaN is NaN, not an exception"
            Expect.equal (D.Abs(D(0.0, 1.0))).Tangent 0.0 "abs'(0) = 0"
            Expect.equal (D.CopySign(D(3.0, 1.0), D(-0.0, 0.0))) (D(-3.0, -1.0)) "copySign(3, -0) = -3"
            Expect.isFalse (Double.IsNegative (D.CopySign(D(-0.0, 1.0), D(1.0, 0.0))).Primal) "copySign(-0, 1) = +0"
            Expect.equal (abs (D.CopySign(D(2.0, 1.0), D(nan, 0.0))).Primal) 2.0 "a NaN sign does not throw"
        yield testCase "comparisons and control flow follow the primal" <| fun () ->
            let relu (x: D) = if x > D.Zero then x else D.Zero
            Expect.equal (Scalar.diff relu 2.0) 1.0 "positive side"
            Expect.equal (Scalar.diff relu -2.0) 0.0 "negative side"
            Expect.equal (Scalar.diff (fun x -> D.Floor x) 1.5) 0.0 "floor"
    ]
