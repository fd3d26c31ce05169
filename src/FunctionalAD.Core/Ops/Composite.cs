namespace FunctionalAD;

// Ops composed at the Tensor level, not op structs, for one of two reasons (docs/ARCHITECTURE.md, "Ops with a
// constant parameter"):
// - a constant parameter (leakyRelu's slope, hardtanh's bounds, nanToNum's replacements): an op struct has no fields
//   (kernels run default(TOp)), so such an op is where(...) over existing primitives, differentiable to every order;
// - a Bool result (isnan, isinf, isfinite, the logical ops): comparisons, which carry no derivative.
public sealed partial class Tensor
{
    /// <summary>x for x &gt; 0, slope·x otherwise (PyTorch's <c>leaky_relu</c>; derivative slope at 0). Integer input
    /// is converted to Float32.</summary>
    /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
    public Tensor LeakyRelu(double slope = 0.01)
    {
        var x = Float("leakyRelu");
        return Where(x.Gt(0.0), x, x * slope);
    }

    /// <summary>x limited to [min, max] with derivative 0 on the boundaries, as PyTorch's <c>hardtanh</c> (unlike
    /// <see cref="Clamp(double, double)"/>, whose derivative is 1 there). Integer input is converted to Float32.</summary>
    /// <exception cref="TensorException">min &gt; max.</exception>
    /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
    public Tensor Hardtanh(double min = -1.0, double max = 1.0)
    {
        if (min > max) throw new TensorException("hardtanh", $"min {min} is greater than max {max}");
        var x = Float("hardtanh");
        return Where(x.Le(min), ScalarLike(min, x), Where(x.Ge(max), ScalarLike(max, x), x));
    }

    /// <summary>x limited to [min, max] with tensor bounds (broadcasting all three), as PyTorch's <c>clamp</c>/<c>clip</c>
    /// with tensors: min(max(x, min), max), so max wins where min &gt; max. The derivative goes to x where it is inside
    /// (boundaries included), else to the bound that was taken.</summary>
    /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
    /// <exception cref="DeviceMismatchException">operands on different devices.</exception>
    public Tensor Clip(Tensor min, Tensor max)
    {
        ArgumentNullException.ThrowIfNull(min); ArgumentNullException.ThrowIfNull(max);
        var low = Where(Lt(min), min, this);
        return Where(low.Gt(max), max, low);
    }

    /// <summary>True where x is NaN (Bool; all false for integer and Bool tensors). No derivative.</summary>
    public Tensor IsNan() => Ne(this);

    /// <summary>True where x is +∞ or -∞ (Bool; all false for integer and Bool tensors). No derivative.</summary>
    public Tensor IsInf() => DType.IsFloatingPoint() ? StopGradient().Abs().Eq(double.PositiveInfinity) : Ne(this);

    /// <summary>True where x is neither NaN nor infinite (Bool; all true for integer and Bool tensors). No derivative.</summary>
    public Tensor IsFinite() => DType.IsFloatingPoint() ? StopGradient().Abs().Lt(double.PositiveInfinity) : Eq(this);

    /// <summary>NaN, +∞ and -∞ replaced by <paramref name="nan"/>, <paramref name="posinf"/> and
    /// <paramref name="neginf"/> (by default 0 and the dtype's largest and smallest finite values), as PyTorch's
    /// <c>nan_to_num</c>. The derivative is 1 at finite elements and 0 at replaced ones; integer and Bool tensors are
    /// returned unchanged.</summary>
    public Tensor NanToNum(double nan = 0.0, double? posinf = null, double? neginf = null)
    {
        if (!DType.IsFloatingPoint()) return this;
        double big = DType == DType.Float32 ? float.MaxValue : double.MaxValue;
        var replaced = Where(Eq(double.NegativeInfinity), ScalarLike(neginf ?? -big, this), this);
        replaced = Where(Eq(double.PositiveInfinity), ScalarLike(posinf ?? big, this), replaced);
        return Where(IsNan(), ScalarLike(nan, this), replaced);
    }

    /// <summary>Elementwise logical not (Bool): true where x is zero or false. Any dtype; nonzero (NaN included) is
    /// true, as in PyTorch.</summary>
    public Tensor LogicalNot() => Eq(0.0);

    /// <summary>Elementwise logical and of a and b (Bool, broadcasting); nonzero is true.</summary>
    /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
    public Tensor LogicalAnd(Tensor other) => Where(Truth(), other.Truth(), BoolScalar(false));

    /// <summary>Elementwise logical or of a and b (Bool, broadcasting); nonzero is true.</summary>
    /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
    public Tensor LogicalOr(Tensor other) => Where(Truth(), BoolScalar(true), other.Truth());

    /// <summary>Elementwise logical exclusive or of a and b (Bool, broadcasting); nonzero is true.</summary>
    /// <exception cref="ShapeMismatchException">shapes not broadcastable.</exception>
    public Tensor LogicalXor(Tensor other) => Truth().Ne(other.Truth());

    /// <summary>This tensor as Bool: itself when Bool, else x != 0.</summary>
    Tensor Truth() => DType == DType.Bool ? this : Ne(0.0);

    Tensor BoolScalar(bool value) => Full([], value ? 1 : 0, DType.Bool, Device);
}
