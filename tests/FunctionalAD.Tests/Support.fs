/// Shared generators and numeric helpers for the property suite.
module FunctionalAD.Tests.Support

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAD
open FunctionalAD.Testing

/// Shapes of rank 0..3 with dimensions 1..4 (sizes kept small: finite differences cost one call per element).
let genShape : Gen<int[]> = Shapes.gen Shapes.small

/// A shape and another that broadcasts with it (dimensions dropped from the front or set to 1), in either order.
let genBroadcastPair : Gen<int[] * int[]> = Shapes.broadcastPair Shapes.small

/// A seed for the tensor value generator.
let genSeed : Gen<uint64> = Gen.choose (0, Int32.MaxValue) |> Gen.map uint64

/// Float64 values uniform in [lo, hi) (optionally kept at least `gap` away from 0 and from integers/half-integers
/// where a function has kinks or jumps).
let uniform (g: Generator) (shape: int[]) (lo: float) (hi: float) =
    Tensor.Rand(shape, g, DType.Float64) * (hi - lo) + lo

/// Float64 values in [lo, hi) with |x| >= gap, for functions with a kink or pole at 0.
let awayFromZero (g: Generator) (shape: int[]) (lo: float) (hi: float) (gap: float) =
    let u = uniform g shape lo hi
    let s = where (u.Ge 0.0) (Tensor.OnesLike u) (-(Tensor.OnesLike u))
    u + s * gap

/// Element-wise closeness: |a - b| <= tol * max(1, |b|).
let close (tol: float) (a: float[]) (b: float[]) =
    a.Length = b.Length
    && Array.forall2 (fun (x: float) (y: float) -> (Double.IsNaN x && Double.IsNaN y) || abs (x - y) <= tol * max 1.0 (abs y)) a b

let expectClose tol (actual: Tensor) (expected: Tensor) msg =
    Expect.sequenceEqual actual.Shape expected.Shape (msg + ": shape")
    let a, e = actual.ToDoubleArray(), expected.ToDoubleArray()
    if not (close tol a e) then failtestf "%s:\nactual   %A\nexpected %A" msg a e

/// Central finite-difference gradient of scalar-valued f with respect to input i.
let numericGrad (f: Tensor[] -> Tensor) (xs: Tensor[]) (i: int) (eps: float) = FiniteDifferences.gradient f xs i eps

let private ambient = System.Threading.AsyncLocal<Device>()

/// A constant used inside a tested function, moved to the device the current check runs on (CPU by default).
let here (t: Tensor) = t.ToDevice ambient.Value

/// Runs body with `here` placing constants on `device`.
let onDevice (device: Device) (body: unit -> 'a) =
    let old = ambient.Value
    ambient.Value <- device
    try body () finally ambient.Value <- old

/// Property configuration shared by the suite: deterministic (a fixed replay seed) and sized for CI.
let config = { FsCheckConfig.defaultConfig with maxTest = 40; replay = Some(12345UL, 67891UL, None) }

let testProp name (prop: 'a -> unit) (gen: Gen<'a>) =
    testPropertyWithConfig config name (Prop.forAll (Arb.fromGen gen) (fun a -> prop a; true))
