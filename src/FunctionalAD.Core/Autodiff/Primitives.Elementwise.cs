using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>
/// The primitive table, elementwise part: one entry per primitive, its forward kernel and its derivative together.
/// For elementwise functions the derivative f'(x) (given x and y = f(x)) is both the jvp factor and the vjp factor.
/// Conventions at non-differentiable points: relu'(0) = 0, abs'(0) = 0 (sign), sqrt'(0) = +inf; max/min ties
/// split the derivative equally between the two operands.
/// </summary>
internal static partial class Primitives
{
    public static readonly Primitive Neg = Primitive.Linear("neg", (b, xs, _) => b.Unary(UnaryOp.Neg, xs[0]), (g, _, _, _) => -g);
    public static readonly Primitive Abs = Primitive.Elementwise("abs", UnaryOp.Abs, (x, _) => x.Sign());
    public static readonly Primitive Exp = Primitive.Elementwise("exp", UnaryOp.Exp, (_, y) => y);
    public static readonly Primitive Log = Primitive.Elementwise("log", UnaryOp.Log, (x, _) => 1.0 / x);
    public static readonly Primitive Log1p = Primitive.Elementwise("log1p", UnaryOp.Log1p, (x, _) => 1.0 / (x + 1.0));
    public static readonly Primitive Expm1 = Primitive.Elementwise("expm1", UnaryOp.Expm1, (_, y) => y + 1.0);
    public static readonly Primitive Square = Primitive.Elementwise("square", UnaryOp.Square, (x, _) => 2.0 * x);
    public static readonly Primitive Sqrt = Primitive.Elementwise("sqrt", UnaryOp.Sqrt, (_, y) => 0.5 / y);
    public static readonly Primitive Rsqrt = Primitive.Elementwise("rsqrt", UnaryOp.Rsqrt, (_, y) => -0.5 * y * y * y);
    public static readonly Primitive Sin = Primitive.Elementwise("sin", UnaryOp.Sin, (x, _) => x.Cos());
    public static readonly Primitive Cos = Primitive.Elementwise("cos", UnaryOp.Cos, (x, _) => -x.Sin());
    public static readonly Primitive Tan = Primitive.Elementwise("tan", UnaryOp.Tan, (_, y) => 1.0 + y * y);
    public static readonly Primitive Asin = Primitive.Elementwise("asin", UnaryOp.Asin, (x, _) => (1.0 - x * x).Rsqrt());
    public static readonly Primitive Acos = Primitive.Elementwise("acos", UnaryOp.Acos, (x, _) => -(1.0 - x * x).Rsqrt());
    public static readonly Primitive Atan = Primitive.Elementwise("atan", UnaryOp.Atan, (x, _) => 1.0 / (1.0 + x * x));
    public static readonly Primitive Sinh = Primitive.Elementwise("sinh", UnaryOp.Sinh, (x, _) => x.Cosh());
    public static readonly Primitive Cosh = Primitive.Elementwise("cosh", UnaryOp.Cosh, (x, _) => x.Sinh());
    public static readonly Primitive Tanh = Primitive.Elementwise("tanh", UnaryOp.Tanh, (_, y) => 1.0 - y * y);
    public static readonly Primitive Sigmoid = Primitive.Elementwise("sigmoid", UnaryOp.Sigmoid, (_, y) => y * (1.0 - y));
    public static readonly Primitive Relu = Primitive.Elementwise("relu", UnaryOp.Relu, (x, _) => x.Gt(0.0).To(x.DType));
    public static readonly Primitive Softplus = Primitive.Elementwise("softplus", UnaryOp.Softplus, (x, _) => x.Sigmoid());
    public static readonly Primitive Sign = Primitive.Piecewise("sign", UnaryOp.Sign);
    public static readonly Primitive Floor = Primitive.Piecewise("floor", UnaryOp.Floor);
    public static readonly Primitive Ceil = Primitive.Piecewise("ceil", UnaryOp.Ceil);
    public static readonly Primitive Round = Primitive.Piecewise("round", UnaryOp.Round);

    // Binary primitives take operands already broadcast to one shape and promoted to one dtype.
    static ForwardRule Kernel(BinaryOp op) => (b, xs, _) => b.Binary(op, xs[0], xs[1]);

    public static readonly Primitive Add = new("add", Kernel(BinaryOp.Add),
        [(dx, _, _, _) => dx, (dx, _, _, _) => dx],
        [(g, _, _, _) => g, (g, _, _, _) => g]);

    public static readonly Primitive Sub = new("sub", Kernel(BinaryOp.Sub),
        [(dx, _, _, _) => dx, (dx, _, _, _) => -dx],
        [(g, _, _, _) => g, (g, _, _, _) => -g]);

    public static readonly Primitive Mul = new("mul", Kernel(BinaryOp.Mul),
        [(dx, xs, _, _) => dx * xs[1], (dx, xs, _, _) => xs[0] * dx],
        [(g, xs, _, _) => g * xs[1], (g, xs, _, _) => g * xs[0]]);

    public static readonly Primitive Div = new("div", Kernel(BinaryOp.Div),
        [(dx, xs, _, _) => dx / xs[1], (dx, xs, y, _) => -dx * y / xs[1]],
        [(g, xs, _, _) => g / xs[1], (g, xs, y, _) => -g * y / xs[1]]);

    // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log a (only evaluated when b carries a derivative).
    public static readonly Primitive Pow = new("pow", Kernel(BinaryOp.Pow),
        [(dx, xs, _, _) => dx * xs[1] * xs[0].Pow(xs[1] - 1.0), (dx, xs, y, _) => dx * y * xs[0].Log()],
        [(g, xs, _, _) => g * xs[1] * xs[0].Pow(xs[1] - 1.0), (g, xs, y, _) => g * y * xs[0].Log()]);

    // atan2(a, b): d/da = b / (a² + b²), d/db = -a / (a² + b²).
    public static readonly Primitive Atan2 = new("atan2", Kernel(BinaryOp.Atan2),
        [(dx, xs, _, _) => dx * xs[1] / (xs[0] * xs[0] + xs[1] * xs[1]), (dx, xs, _, _) => -dx * xs[0] / (xs[0] * xs[0] + xs[1] * xs[1])],
        [(g, xs, _, _) => g * xs[1] / (xs[0] * xs[0] + xs[1] * xs[1]), (g, xs, _, _) => -g * xs[0] / (xs[0] * xs[0] + xs[1] * xs[1])]);

    /// <summary>The share of the derivative of max(a, b) (or min) that goes to a: 1, 0, or 1/2 at ties.</summary>
    static Tensor Share(Tensor a, Tensor b, bool max) =>
        ((max ? a.Gt(b) : a.Lt(b)).To(a.DType) + 0.5 * a.Eq(b).To(a.DType));

    public static readonly Primitive Maximum = new("maximum", Kernel(BinaryOp.Max),
        [(dx, xs, _, _) => dx * Share(xs[0], xs[1], true), (dx, xs, _, _) => dx * Share(xs[1], xs[0], true)],
        [(g, xs, _, _) => g * Share(xs[0], xs[1], true), (g, xs, _, _) => g * Share(xs[1], xs[0], true)]);

    public static readonly Primitive Minimum = new("minimum", Kernel(BinaryOp.Min),
        [(dx, xs, _, _) => dx * Share(xs[0], xs[1], false), (dx, xs, _, _) => dx * Share(xs[1], xs[0], false)],
        [(g, xs, _, _) => g * Share(xs[0], xs[1], false), (g, xs, _, _) => g * Share(xs[1], xs[0], false)]);

    // where(cond, a, b) with the Bool condition as an attribute (it has no derivative).
    public static readonly Primitive Where = new("where", (b, xs, attr) => b.Where((RawTensor)attr!, xs[0], xs[1]),
        [(dx, _, _, c) => Select(c, dx, Tensor.ZerosLike(dx)), (dx, _, _, c) => Select(c, Tensor.ZerosLike(dx), dx)],
        [(g, _, _, c) => Select(c, g, Tensor.ZerosLike(g)), (g, _, _, c) => Select(c, Tensor.ZerosLike(g), g)]);

    static Tensor Select(object? cond, Tensor a, Tensor b) => Dispatch.Apply(Where, [a, b], cond);
}
