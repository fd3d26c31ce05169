namespace FunctionalAD.Testing

open System
open FsCheck
open FsCheck.FSharp
open FunctionalAD

/// Properties over the checks: one line tests a user's function on many random inputs, and a failure shrinks to a
/// tiny input. Use them with Expecto.FsCheck's testProperty, FsCheck.Xunit, or Check.One / Prop.counterexample.
// compiled as PropModule so C# code that also uses FsCheck's Prop is not ambiguous
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Prop =

    /// True when f runs on x and gives finite values: shrinking keeps to such inputs, so the counterexample it
    /// reports is about the derivative, not about leaving f's domain.
    let private runsOn (f: 'T -> Tensor) (x: 'T) =
        try (f x).ToDoubleArray() |> Array.forall Double.IsFinite with _ -> false

    let private shrinkWithin (f: 'T -> Tensor) (arb: Arbitrary<'T>) : Arbitrary<'T> =
        Arb.fromGenShrink (Arb.toGen arb, fun x -> Arb.toShrink arb x |> Seq.filter (runsOn f))

    /// For every input from arb: Check.gradientsWith (options x) f x.
    let gradientsMatchWith (options: Tensor[] -> GradientOptions) (arb: Arbitrary<Tensor[]>) (f: Tensor[] -> Tensor) : Property =
        FsCheck.FSharp.Prop.forAll (shrinkWithin f arb) (fun xs -> Check.gradientsWith (options xs) f xs)

    /// For every input tuple from arb: Check.gradientsN f xs (orders 1 and 2, both modes, dtype defaults).
    let gradientsMatchN (arb: Arbitrary<Tensor[]>) (f: Tensor[] -> Tensor) : Property =
        gradientsMatchWith GradientOptions.forInputs arb f

    /// For every input from arb: Check.gradients f x (orders 1 and 2, both modes, dtype defaults).
    let gradientsMatch (arb: Arbitrary<Tensor>) (f: Tensor -> Tensor) : Property =
        FsCheck.FSharp.Prop.forAll (shrinkWithin f arb) (fun x -> Check.gradients f x)

    /// For every input from arb: Check.customGradient f x (f built with customFn).
    let customGradientMatches (arb: Arbitrary<Tensor>) (f: Tensor -> Tensor) : Property =
        FsCheck.FSharp.Prop.forAll (shrinkWithin f arb) (fun x -> Check.customGradient f x)

    /// Runs property with config (its runner replaced) and returns the shrunk counterexample and the failure
    /// message, or None when it holds: for documentation, and for testing that a property catches a bug.
    let counterexample (config: Config) (property: Property) : (obj list * string) option =
        let mutable result = None
        let runner =
            { new IRunner with
                member _.OnStartFixture _ = ()
                member _.OnArguments(_, _, _) = ()
                member _.OnShrink(_, _) = ()
                member _.OnFinished(name, outcome) =
                    match outcome with
                    | TestResult.Failed(_, _, shrunk, _, _, _, _) ->
                        result <- Some(shrunk, Runner.onFinishedToString name outcome)
                    | _ -> () }
        Check.One(config.WithRunner(runner).WithQuietOnSuccess(true), property)
        result
