namespace FunctionalAD.Ops;

/// <summary>
/// One elementwise function of one tensor, defined once: its name, its value and its derivative, both written over
/// an <see cref="IElementMath{T}"/>. From this struct the library derives the CPU kernel (vectorised block by block),
/// the GPU kernel, the fused first-order derivative kernel g·f'(x), the primitive's jvp and vjp (traced through
/// differentiable tensor ops, so every order of derivative comes from the same formula) and the property tests.
/// Apply it with <see cref="Tensor.Map{TOp}"/>.
/// </summary>
/// <remarks>
/// Implement it as a <c>readonly struct</c> with no fields: the library calls <c>default(TOp)</c>, and the GPU
/// compiles Apply and Derivative into kernels, so they may use only the math they are given (no allocation, no
/// exceptions, no virtual calls). See docs/ARCHITECTURE.md, "Adding an op".
/// </remarks>
public interface IUnaryOp
{
    /// <summary>The op's name in error messages, tapes and graph exports ("sin").</summary>
    string Name { get; }

    /// <summary>Where the property tests draw inputs from, and whether second derivatives are checked.</summary>
    OpDomain Domain { get; }

    /// <summary>True when Int32/Int64 tensors are computed as integers (neg, abs, sign); otherwise they are converted
    /// to Float32 first.</summary>
    bool AcceptsIntegers => false;

    /// <summary>True when the derivative is zero wherever it exists (floor, round, sign): results carry no derivative
    /// and nothing is taped.</summary>
    bool ZeroDerivative => false;

    /// <summary>f(x).</summary>
    T Apply<T, M>(M m, T x) where M : struct, IElementMath<T>;

    /// <summary>f'(x), given x and y = f(x) (use whichever is cheaper).</summary>
    T Derivative<T, M>(M m, T x, T y) where M : struct, IElementMath<T>;
}

/// <summary>
/// An elementwise op that is piecewise constant (floor, ceil, round, sign): its derivative is zero wherever it
/// exists, so results carry no derivative and nothing is taped. Such an op writes only its name, domain and value.
/// </summary>
public interface IPiecewiseConstantOp : IUnaryOp
{
    bool IUnaryOp.ZeroDerivative => true;
    T IUnaryOp.Derivative<T, M>(M m, T x, T y) => m.Const(0);
}

/// <summary>
/// One elementwise function of two tensors, defined once like <see cref="IUnaryOp"/>: its value and its two partial
/// derivatives, which serve both forward mode (tangent = ∂f/∂a·da + ∂f/∂b·db) and reverse mode (cotangents g·∂f/∂a,
/// g·∂f/∂b). The operands arrive broadcast to one shape and promoted to one dtype. Apply it with
/// <see cref="Tensor.Zip{TOp}"/>.
/// </summary>
public interface IBinaryOp
{
    /// <summary>The op's name in error messages, tapes and graph exports ("mul").</summary>
    string Name { get; }

    /// <summary>Where the property tests draw the first operand from.</summary>
    OpDomain DomainA { get; }

    /// <summary>Where the property tests draw the second operand from.</summary>
    OpDomain DomainB { get; }

    /// <summary>True when Int32/Int64 operands are computed as integers; otherwise they are converted to Float32.</summary>
    bool AcceptsIntegers => true;

    /// <summary>f(a, b).</summary>
    T Apply<T, M>(M m, T a, T b) where M : struct, IElementMath<T>;

    /// <summary>∂f/∂a at (a, b), given y = f(a, b).</summary>
    T DerivativeA<T, M>(M m, T a, T b, T y) where M : struct, IElementMath<T>;

    /// <summary>∂f/∂b at (a, b), given y = f(a, b). Only evaluated when b carries a derivative.</summary>
    T DerivativeB<T, M>(M m, T a, T b, T y) where M : struct, IElementMath<T>;
}

/// <summary>
/// The inputs an op's property tests draw: uniform in [<paramref name="Low"/>, <paramref name="High"/>], kept at least
/// <paramref name="AwayFromZero"/> from 0 (for kinks and poles at 0), with second-order checks only where the
/// derivative is <paramref name="Smooth"/> on the interval.
/// </summary>
/// <param name="Low">Smallest value drawn.</param>
/// <param name="High">Largest value drawn.</param>
/// <param name="AwayFromZero">Minimum |x| (0: no gap).</param>
/// <param name="Smooth">False for ops with kinks (abs, relu, max): the Hessian checks are skipped.</param>
public readonly record struct OpDomain(double Low, double High, double AwayFromZero = 0, bool Smooth = true);
