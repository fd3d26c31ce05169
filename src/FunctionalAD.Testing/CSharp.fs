namespace FunctionalAD.Testing

open System
open FsCheck
open FunctionalAD

/// The checks for C# suites (xunit, NUnit, MSTest): the same checks as the F# Check module, taking delegates.
/// Each returns normally or throws CheckFailedException with a readable message.
[<AbstractClass; Sealed>]
type TensorAssert =

    /// actual ≈ expected with the tolerance of expected's dtype (torch.testing.assert_close defaults); shapes and
    /// dtypes must agree. Throws CheckFailedException naming the worst element.
    static member AllClose(actual: Tensor, expected: Tensor) = Check.allClose actual expected

    /// actual ≈ expected: |actual - expected| <= atol + rtol·|expected| elementwise. Throws CheckFailedException.
    static member AllClose(actual: Tensor, expected: Tensor, rtol: float, atol: float) =
        Check.allCloseWith { RTol = rtol; ATol = atol; EqualNaN = false } actual expected

    /// Checks f's derivatives at x (reverse, forward, orders 1 and 2) against finite differences. Throws
    /// CheckFailedException.
    static member Gradients(f: Func<Tensor, Tensor>, x: Tensor) = Check.gradients f.Invoke x

    /// Checks f's derivatives in all its inputs (reverse, forward, orders 1 and 2). Throws CheckFailedException.
    static member Gradients(f: Func<Tensor[], Tensor>, [<ParamArray>] xs: Tensor[]) = Check.gradientsN f.Invoke xs

    /// Checks f's derivatives with explicit options (GradientOptions.forDType gives the defaults to start from).
    static member Gradients(f: Func<Tensor[], Tensor>, xs: Tensor[], options: GradientOptions) = Check.gradientsWith options f.Invoke xs

    /// Checks that f's jvp and vjp are transposes of each other at x. Throws CheckFailedException.
    static member JvpVjpTranspose(f: Func<Tensor, Tensor>, x: Tensor) = Check.jvpVjpTranspose f.Invoke x

    /// Checks a custom function's backward (and jvp, if given) rule at x. Throws CheckFailedException.
    static member CustomGradient(f: Func<Tensor, Tensor>, x: Tensor) = Check.customGradient f.Invoke x

/// The generators for C# suites, as FsCheck Arbitrary values (use them with FsCheck's Prop.ForAll).
[<AbstractClass; Sealed>]
type TensorArbitraries =

    /// Shapes with rank in [minRank, maxRank] and sizes in [minSide, maxSide], shrinking to fewer and smaller
    /// dimensions.
    static member Shapes(minRank: int, maxRank: int, minSide: int, maxSide: int) : Arbitrary<int[]> =
        Shapes.arb (Shapes.bounds minRank maxRank minSide maxSide)

    /// Tensors of dtype with finite values in [low, high] and shapes of rank 0..3, sizes 1..4, that shrink.
    static member Tensors(dtype: DType, low: float, high: float) : Arbitrary<Tensor> =
        Tensors.arb dtype (Values.between low high) Shapes.small

    /// Tensors of dtype with values from values and shapes within bounds, that shrink.
    static member Tensors(dtype: DType, values: Values, bounds: ShapeBounds) : Arbitrary<Tensor> = Tensors.arb dtype values bounds

    /// count mutually broadcastable tensors of dtype with finite values in [low, high] (rank 0..3, sizes 1..4).
    static member Broadcastable(dtype: DType, count: int, low: float, high: float) : Arbitrary<Tensor[]> =
        Tensors.arbBroadcast dtype (Array.create count (Values.between low high)) Shapes.small

    /// Symmetric positive-definite matrices of a size in [minN, maxN].
    static member SymmetricPositiveDefinite(dtype: DType, minN: int, maxN: int) : Arbitrary<Tensor> = Matrices.arbSpd dtype minN maxN

    /// Strictly diagonally dominant (well-conditioned) matrices of a size in [minN, maxN].
    static member WellConditioned(dtype: DType, minN: int, maxN: int) : Arbitrary<Tensor> = Matrices.arbWellConditioned dtype minN maxN

    /// count Int64 indices in [0, size).
    static member Indices(size: int, count: int) : Arbitrary<Tensor> = Indices.arb size count

/// Properties for C# suites: run them with FsCheck's Check.QuickThrowOnFailure or an FsCheck test attribute.
[<AbstractClass; Sealed>]
type GradientProperties =

    /// For every x from arb, f's derivatives at x match (see TensorAssert.Gradients).
    static member Match(arb: Arbitrary<Tensor>, f: Func<Tensor, Tensor>) : Property = Prop.gradientsMatch arb f.Invoke

    /// For every tuple from arb, f's derivatives in all its inputs match.
    static member Match(arb: Arbitrary<Tensor[]>, f: Func<Tensor[], Tensor>) : Property = Prop.gradientsMatchN arb f.Invoke

    /// For every x from arb, a custom function's rules match (see TensorAssert.CustomGradient).
    static member CustomGradientMatches(arb: Arbitrary<Tensor>, f: Func<Tensor, Tensor>) : Property = Prop.customGradientMatches arb f.Invoke
