using FunctionalAD.Backends;
using FunctionalAD.Ops;

namespace FunctionalAD.Autodiff;

/// <summary>Computes a primitive's primal result from constant inputs on their backend.</summary>
internal delegate RawTensor ForwardRule(IBackend backend, RawTensor[] xs, object? attr);

/// <summary>The forward rule of an elementwise op of one input, without the operand array (the scalar tape's path).</summary>
internal delegate RawTensor UnaryForward(IBackend backend, RawTensor x);

/// <summary>The forward rule of an elementwise op of two inputs, without the operand array.</summary>
internal delegate RawTensor BinaryForward(IBackend backend, RawTensor a, RawTensor b);

/// <summary>
/// The vjp of an elementwise op of one or two rank-0 CPU inputs at first order, on plain numbers: the cotangent of
/// input <paramref name="input"/> given the result's cotangent <paramref name="g"/>, the inputs' values x0 and x1
/// (x1 unused for one input) and the result y, all Float32 (<paramref name="single"/>: computed in float) or Float64.
/// The scalar tape's backward runs it without allocating (see <see cref="ScalarRecord"/>).
/// </summary>
internal delegate double ScalarRule(int input, double g, double x0, double x1, double y, bool single);

/// <summary>The forward of an elementwise op on one or two plain Float32 (<paramref name="single"/>) or Float64 values
/// (x1 unused for one input), as the CPU backend computes a one-element tensor: the scalar tape's forward.</summary>
internal delegate double ScalarForward(double x0, double x1, bool single);

/// <summary>
/// A derivative rule of one input, linear in <paramref name="d"/>: as a jvp rule, the result's tangent caused by the
/// input's tangent d; as a vjp rule, the input's cotangent given the result's cotangent d. One delegate type for
/// both, so an elementwise primitive hands the same rule to both modes without a wrapper.
/// </summary>
internal delegate Tensor DerivativeRule(Tensor d, Tensor[] xs, Tensor y, object? attr);

/// <summary>
/// A primitive operation: its forward kernel call and, per input, its jvp and vjp rules, in one definition. Rules
/// are written with differentiable tensor operations, so derivatives of any order come from the same table.
/// An input whose rules are null has no derivative (declared, not forgotten); a missing rule on a differentiable
/// input throws by name.
/// </summary>
internal sealed class Primitive
{
    public readonly string Name;
    public readonly ForwardRule Forward;
    public readonly DerivativeRule?[] Jvp;
    public readonly DerivativeRule?[] Vjp;
    /// <summary>True when the derivative is zero wherever it exists (floor, round, sign): no rules, no tape.</summary>
    public readonly bool ZeroDerivative;
    /// <summary>Which kind of primitive this is, for transformations whose rules are the same across a family
    /// (see <see cref="RuleTable{TRule}"/>).</summary>
    public readonly PrimitiveFamily Family;
    /// <summary>The same computation as <see cref="Forward"/> for the elementwise ops of one or two inputs, called by
    /// <see cref="Dispatch"/> without allocating an operand array (null for every other primitive).</summary>
    public readonly UnaryForward? ForwardUnary;
    /// <inheritdoc cref="ForwardUnary"/>
    public readonly BinaryForward? ForwardBinary;
    /// <summary>The elementwise ops' vjp on plain numbers, for the scalar tape (null for every other primitive).</summary>
    public readonly ScalarRule? Scalar;
    /// <inheritdoc cref="ScalarForward"/> (null where <see cref="Scalar"/> is)
    public readonly ScalarForward? ForwardScalar;
    /// <summary>This primitive's number in <see cref="ScalarOps"/> when it has a <see cref="Scalar"/> rule (-1
    /// otherwise): a scalar tape record names its primitive by number, so that the record holds no reference.</summary>
    public readonly int ScalarId = -1;
    /// <summary>True when the rules are a user's code (a custom function), which may keep what it is given or
    /// returns: the backward pass then recycles none of it (see <see cref="Backends.ResultPool"/>).</summary>
    public bool UserRules { get; init; }
    /// <summary>True when a vjp rule keeps a tensor it computed beyond its call (solve keeps Ḃ for its other input's
    /// rule): the backward pass then does not recycle the rule's temporaries.</summary>
    public bool RulesKeepResults { get; init; }

    public Primitive(string name, ForwardRule forward, DerivativeRule?[] jvp, DerivativeRule?[] vjp, bool zeroDerivative = false,
        PrimitiveFamily family = PrimitiveFamily.Other, UnaryForward? unary = null, BinaryForward? binary = null,
        ScalarRule? scalar = null, ScalarForward? scalarForward = null)
    {
        Name = name; Forward = forward; Jvp = jvp; Vjp = vjp; ZeroDerivative = zeroDerivative; Family = family;
        ForwardUnary = unary; ForwardBinary = binary; Scalar = scalar; ForwardScalar = scalarForward;
        if (scalar is not null) ScalarId = RegisterScalar(this);
    }

    static Primitive[] scalarOps = [];

    /// <summary>The primitives with a <see cref="Scalar"/> rule, by <see cref="ScalarId"/> (append-only; a reader's
    /// snapshot holds every primitive recorded before it was read).</summary>
    public static Primitive[] ScalarOps => Volatile.Read(ref scalarOps);

    static int RegisterScalar(Primitive p)
    {
        lock (typeof(Primitive))
        {
            var ops = scalarOps;
            var grown = new Primitive[ops.Length + 1];
            ops.CopyTo(grown, 0);
            grown[ops.Length] = p;
            Volatile.Write(ref scalarOps, grown);
            return ops.Length;
        }
    }

    /// <summary>
    /// The primitive of an elementwise op of one input: forward is the backend's kernel for the op; jvp = dx·f'(x) and
    /// vjp = g·f'(x) from the op's one derivative formula. When nothing in the product carries a derivative (first
    /// order), the backend's fused kernel computes it in one pass; otherwise the formula is evaluated with
    /// differentiable tensor operations (<see cref="TensorMath"/>), so higher orders see the same formula.
    /// </summary>
    public static Primitive Unary<TOp>() where TOp : struct, IUnaryOp
    {
        static RawTensor One(IBackend b, RawTensor x) => b is CpuBackend cpu ? cpu.Unary<TOp>(x) : b.Unary<TOp>(x);
        static RawTensor Forward(IBackend b, RawTensor[] xs, object? _) => One(b, xs[0]);
        if (OpTraits<TOp>.ZeroDerivative) return new(OpTraits<TOp>.Name, Forward, [null], [null], zeroDerivative: true, PrimitiveFamily.Elementwise, unary: One);
        DerivativeRule[] rules = [static (d, xs, y, _) => Fused<TOp>(d, xs[0], y) ?? Composed<TOp>(d, xs[0], y)];
        return new(OpTraits<TOp>.Name, Forward, rules, rules, family: PrimitiveFamily.Elementwise, unary: One,
            scalar: static (_, g, x, _, y, single) => CpuBackend.ScalarUnaryDerivative<TOp>(g, x, y, single),
            scalarForward: static (x, _, single) => CpuBackend.ScalarUnary<TOp>(x, single));
    }

    static Tensor Composed<TOp>(Tensor d, Tensor x, Tensor y) where TOp : struct, IUnaryOp
    {
        var m = new TensorMath(x);
        return m.Mul(d, default(TOp).Derivative(m, x, y));
    }

    /// <summary>g·f'(x) from the backend's one-pass kernel, or null where the rule must be composed (a derivative is
    /// being traced, shapes or devices differ, or the backend has no such kernel).</summary>
    static Tensor? Fused<TOp>(Tensor g, Tensor x, Tensor y) where TOp : struct, IUnaryOp
    {
        if (g.tag is not null || x.tag is not null || y.tag is not null) return null;
        RawTensor gv = g.Value, xv = x.Value, yv = y.Value;
        if (gv.DType != xv.DType || gv.Device != xv.Device || !gv.Shape.AsSpan().SequenceEqual(xv.Shape)) return null;
        var backend = Backend.For(xv.Device);
        RawTensor? r;
        bool done = backend is CpuBackend cpu ? cpu.TryUnaryDerivative<TOp>(gv, xv, yv, out r) : backend.TryUnaryDerivative<TOp>(gv, xv, yv, out r);
        return done ? new Tensor(r!) : null;
    }

    /// <summary>
    /// The primitive of an elementwise op of two inputs (already broadcast to one shape and promoted to one dtype):
    /// the op's partial derivatives ∂f/∂a and ∂f/∂b, written once, give both rules: the jvp sums d·∂f/∂xᵢ over the
    /// inputs with a tangent, the vjp of input i is g·∂f/∂xᵢ.
    /// </summary>
    public static Primitive Binary<TOp>() where TOp : struct, IBinaryOp
    {
        static RawTensor Two(IBackend b, RawTensor x, RawTensor y) => b is CpuBackend cpu ? cpu.Binary<TOp>(x, y) : b.Binary<TOp>(x, y);
        static RawTensor Forward(IBackend b, RawTensor[] xs, object? _) => Two(b, xs[0], xs[1]);
        DerivativeRule[] rules = [static (d, xs, y, _) => Partial<TOp>(0, d, xs, y), static (d, xs, y, _) => Partial<TOp>(1, d, xs, y)];
        return new(OpTraits<TOp>.Name, Forward, rules, rules, family: PrimitiveFamily.Elementwise, binary: Two,
            scalar: CpuBackend.ScalarBinaryPartial<TOp>, scalarForward: CpuBackend.ScalarBinary<TOp>);
    }

    static Tensor Partial<TOp>(int input, Tensor d, Tensor[] xs, Tensor y) where TOp : struct, IBinaryOp
    {
        var m = new TensorMath(xs[0]);
        var op = default(TOp);
        return m.Mul(d, input == 0 ? op.DerivativeA(m, xs[0], xs[1], y) : op.DerivativeB(m, xs[0], xs[1], y));
    }

    /// <summary>
    /// An elementwise primitive: its Jacobian with respect to each input is diagonal, so one rule per input,
    /// d ↦ d·∂y/∂xᵢ, maps a tangent forward (jvp) and a cotangent back (vjp).
    /// </summary>
    public static Primitive Diagonal(string name, ForwardRule forward, DerivativeRule[] rules) =>
        new(name, forward, rules, rules, family: PrimitiveFamily.Elementwise);

    /// <summary>
    /// A linear primitive of one input (reshape, permute, sum, slice, ...): its jvp is the primitive itself applied to
    /// the tangent, and its vjp is <paramref name="transpose"/>.
    /// </summary>
    public static Primitive Linear(string name, ForwardRule forward, DerivativeRule transpose)
    {
        Primitive? self = null;
        self = new Primitive(name, forward,
            [(dx, _, _, attr) => Dispatch.Apply(self!, [dx], attr)],
            [transpose], family: PrimitiveFamily.Linear);
        return self;
    }

    /// <summary>An error for a rule the table does not define.</summary>
    public InvalidOperationException Missing(string mode, int input) =>
        new($"the {mode} derivative of '{Name}' with respect to argument {input + 1} is not defined");

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>The kinds of primitive a transformation may treat alike.</summary>
internal enum PrimitiveFamily
{
    /// <summary>Applied element by element to operands of one shape (the ops of <c>Ops/</c>, where, compare).</summary>
    Elementwise,
    /// <summary>Linear in its one input, with the primitive itself as jvp (reshape, permute, slice, sum, cast, ...).</summary>
    Linear,
    /// <summary>Anything else (matmul, prod, max/min, concat, custom functions): rules per primitive.</summary>
    Other,
}
