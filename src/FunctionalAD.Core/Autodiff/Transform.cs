using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>The result of <see cref="Transform.Vjp"/>: the function's value and its pullback.</summary>
public sealed class VjpResult
{
    readonly Func<Tensor, Tensor[]> pullback;
    internal VjpResult(Tensor value, Func<Tensor, Tensor[]> pullback) { Value = value; this.pullback = pullback; }

    /// <summary>f(x).</summary>
    public Tensor Value { get; }

    /// <summary>The cotangents of the inputs for cotangent <paramref name="u"/> of the value (u has the value's shape):
    /// uᵀ·J for each input. Can be called any number of times.</summary>
    /// <exception cref="ShapeMismatchException">u's shape differs from the value's.</exception>
    public Tensor[] Pullback(Tensor u) => pullback(u);
}

/// <summary>
/// The differentiation transformations: each takes a function of tensors and returns derivatives. Every call opens
/// its own nesting level, so transformations compose (grad of grad, jvp of grad, ...) without perturbation
/// confusion, and any number of threads may differentiate at once.
/// </summary>
public static class Transform
{
    static void CheckInputs(string op, Tensor[] xs)
    {
        if (xs.Length == 0) throw new TensorException(op, "expected at least one input tensor");
        foreach (var x in xs)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (!x.DType.IsFloatingPoint())
                throw new DTypeMismatchException(op, $"inputs must be floating point to be differentiated, got a {x.DType} tensor of shape {Shape.Format(x.ShapeRef)}");
        }
    }

    /// <summary>The inputs as leaves on the reverse tag's tape, and the tracked tensors f receives.</summary>
    static (Node[] Leaves, Tensor[] Inputs) Track(Tag tag, Tensor[] xs)
    {
        var leaves = new Node[xs.Length];
        var inputs = new Tensor[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            leaves[i] = new Node(xs[i], $"x{i}");
            leaves[i].Index = tag.Record(leaves[i]);
            inputs[i] = new Tensor(xs[i], null, leaves[i], tag);
        }
        return (leaves, inputs);
    }

    /// <summary>Reverse mode: f's value at xs and its pullback (vector-Jacobian product).</summary>
    /// <exception cref="DTypeMismatchException">an input is not floating point.</exception>
    public static VjpResult Vjp(Func<Tensor[], Tensor> f, params Tensor[] xs) => VjpNamed("vjp", f, xs);

    static VjpResult VjpNamed(string op, Func<Tensor[], Tensor> f, Tensor[] xs)
    {
        CheckInputs(op, xs);
        return Tag.Scope(Mode.Reverse, tag =>
        {
            var (leaves, inputs) = Track(tag, xs);
            var y = f(inputs) ?? throw new InvalidOperationException($"{op}: the function returned null");
            bool tracked = ReferenceEquals(y.tag, tag);
            var value = tracked ? y.primal! : y;
            Tensor[] Pullback(Tensor u)
            {
                if (!u.ShapeRef.AsSpan().SequenceEqual(value.ShapeRef))
                    throw new ShapeMismatchException("vjp", $"the cotangent has shape {Shape.Format(u.ShapeRef)}; expected the output's shape {Shape.Format(value.ShapeRef)}");
                var adj = tracked ? Backprop.Run(tag, y.Slot, u.To(value.DType), leaves) : new Tensor?[xs.Length];
                var r = new Tensor[xs.Length];
                for (int i = 0; i < xs.Length; i++) r[i] = adj[i] ?? Tensor.ZerosView(xs[i]); // a symbolic zero: no elements allocated
                return r;
            }
            return new VjpResult(value, Pullback);
        });
    }

    /// <summary>The value f(xs) (a one-element tensor) and its gradient with respect to each input, in one pass.</summary>
    /// <exception cref="ShapeMismatchException">f does not return a one-element tensor.</exception>
    /// <exception cref="DTypeMismatchException">an input is not floating point.</exception>
    public static (Tensor Value, Tensor[] Gradients) ValueAndGrad(Func<Tensor[], Tensor> f, params Tensor[] xs)
    {
        var r = VjpNamed("grad", f, xs);
        if (r.Value.Numel != 1)
            throw new ShapeMismatchException("grad", $"the function returned a tensor of shape {Shape.Format(r.Value.ShapeRef)}; grad needs a scalar (one-element) result. Use jacobian or vjp for non-scalar outputs");
        return (r.Value, r.Pullback(Tensor.OnesLike(r.Value)));
    }

    /// <summary>
    /// As <see cref="ValueAndGrad(Func{Tensor[], Tensor}, Tensor[])"/>, and calls <paramref name="onGradient"/>(i,
    /// gradient of xs[i]) as soon as that gradient is final, during the backward pass (a data-parallel trainer starts
    /// all-reducing a bucket of gradients while the earlier layers' are still being computed). Called once per input,
    /// on the calling thread, in the order the gradients complete (roughly the reverse of first use); an input the
    /// value does not depend on is reported last, with a zero gradient. The tensors passed are the ones returned.
    /// </summary>
    /// <exception cref="ShapeMismatchException">f does not return a one-element tensor.</exception>
    /// <exception cref="DTypeMismatchException">an input is not floating point.</exception>
    public static (Tensor Value, Tensor[] Gradients) ValueAndGrad(Func<Tensor[], Tensor> f, Tensor[] xs, Action<int, Tensor> onGradient)
    {
        ArgumentNullException.ThrowIfNull(onGradient);
        CheckInputs("grad", xs);
        return Tag.Scope(Mode.Reverse, tag =>
        {
            var (leaves, inputs) = Track(tag, xs);
            var y = f(inputs) ?? throw new InvalidOperationException("grad: the function returned null");
            bool tracked = ReferenceEquals(y.tag, tag);
            var value = tracked ? y.primal! : y;
            if (value.Numel != 1)
                throw new ShapeMismatchException("grad", $"the function returned a tensor of shape {Shape.Format(value.ShapeRef)}; grad needs a scalar (one-element) result. Use jacobian or vjp for non-scalar outputs");
            var grads = new Tensor[xs.Length];
            void Report(int i, Tensor? g)
            {
                grads[i] = g ?? Tensor.ZerosView(xs[i]);
                onGradient(i, grads[i]);
            }
            if (tracked) Backprop.Run(tag, y.Slot, Tensor.OnesLike(value), leaves, Report);
            else for (int i = 0; i < xs.Length; i++) Report(i, null);
            return (value, grads);
        });
    }

    /// <summary>The gradient of a scalar-valued f at x (same shape as x).</summary>
    /// <exception cref="ShapeMismatchException">f does not return a one-element tensor.</exception>
    public static Tensor Grad(Func<Tensor, Tensor> f, Tensor x) => ValueAndGrad(xs => f(xs[0]), x).Gradients[0];

    /// <summary>Forward mode: f(xs) and the directional derivative J·vs (tangents vs have the inputs' shapes).</summary>
    /// <exception cref="ShapeMismatchException">a tangent's shape differs from its input's, or the counts differ.</exception>
    public static (Tensor Value, Tensor Tangent) Jvp(Func<Tensor[], Tensor> f, Tensor[] xs, Tensor[] vs)
    {
        CheckInputs("jvp", xs);
        if (vs.Length != xs.Length) throw new ShapeMismatchException("jvp", $"got {xs.Length} inputs and {vs.Length} tangents; expected one tangent per input");
        for (int i = 0; i < xs.Length; i++)
            if (!xs[i].ShapeRef.AsSpan().SequenceEqual(vs[i].ShapeRef))
                throw new ShapeMismatchException("jvp", $"tangent {i} has shape {Shape.Format(vs[i].ShapeRef)}; expected the input's shape {Shape.Format(xs[i].ShapeRef)}");
        return Tag.Scope(Mode.Forward, tag =>
        {
            var inputs = new Tensor[xs.Length];
            for (int i = 0; i < xs.Length; i++) inputs[i] = new Tensor(xs[i], vs[i].To(xs[i].DType), null, tag);
            var y = f(inputs) ?? throw new InvalidOperationException("jvp: the function returned null");
            if (!ReferenceEquals(y.tag, tag)) return (y, Tensor.ZerosView(y));
            var p = y.primal!;
            return (p, y.tangent ?? Tensor.ZerosView(p));
        });
    }

    /// <summary>The derivative of f at a one-element x (forward mode); the result has f(x)'s shape.</summary>
    /// <exception cref="ShapeMismatchException">x has more than one element (use jvp or jacobian).</exception>
    public static Tensor Diff(Func<Tensor, Tensor> f, Tensor x)
    {
        if (x.Numel != 1)
            throw new ShapeMismatchException("diff", $"expects a scalar input, got shape {Shape.Format(x.ShapeRef)}; use jvp (directional derivative) or jacobian for tensor inputs");
        return Jvp(xs => f(xs[0]), [x], [Tensor.OnesLike(x)]).Tangent;
    }

    /// <summary>The n-th derivative of f at a one-element x (n = 0 gives f(x)), by nested forward mode.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n is negative.</exception>
    public static Tensor DiffN(int n, Func<Tensor, Tensor> f, Tensor x)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        return n == 0 ? f(x) : Diff(z => DiffN(n - 1, f, z), x);
    }

    /// <summary>
    /// The Jacobian of f at x, shape f(x).shape ++ x.shape. Uses forward mode (one jvp per input element) when x has
    /// fewer elements than f(x), reverse mode (one pullback per output element) otherwise.
    /// </summary>
    public static Tensor Jacobian(Func<Tensor, Tensor> f, Tensor x)
    {
        var r = Vjp(xs => f(xs[0]), x);
        var yShape = r.Value.ShapeRef;
        int m = r.Value.Numel, n = x.Numel;
        var outShape = yShape.Concat(x.ShapeRef).ToArray();
        if (m == 0 || n == 0) return Tensor.Zeros(outShape, x.DType, x.Device);
        if (n < m) return ForwardJacobian(f, x, outShape);
        var rows = new Tensor[m];
        for (int i = 0; i < m; i++) rows[i] = r.Pullback(Basis(yShape, i, r.Value)).Single().Reshape(n);
        return Tensor.Stack(rows, 0).Reshape(outShape);
    }

    static Tensor ForwardJacobian(Func<Tensor, Tensor> f, Tensor x, int[] outShape)
    {
        int n = x.Numel;
        if (n == 0) return Tensor.Zeros(outShape, x.DType, x.Device); // no columns (a Hessian at an empty x is [0, 0])
        var cols = new Tensor[n];
        for (int j = 0; j < n; j++) cols[j] = Jvp(xs => f(xs[0]), [x], [Basis(x.ShapeRef, j, x)]).Tangent.Reshape(-1);
        return Tensor.Stack(cols, 1).Reshape(outShape);
    }

    static Tensor Basis(int[] shape, int i, Tensor like)
    {
        var e = new double[Shape.Numel(shape)];
        e[i] = 1;
        return Tensor.FromArray(e, shape).To(like.DType).ToDevice(like.Device);
    }

    /// <summary>The Hessian of a scalar-valued f at x, shape x.shape ++ x.shape, by forward-over-reverse (one
    /// Hessian-vector product per input element).</summary>
    /// <exception cref="ShapeMismatchException">f does not return a one-element tensor.</exception>
    public static Tensor Hessian(Func<Tensor, Tensor> f, Tensor x) =>
        ForwardJacobian(z => Grad(f, z), x, x.ShapeRef.Concat(x.ShapeRef).ToArray());

    /// <summary>The Hessian of scalar-valued f at x times v (v and the result have x's shape), without forming the
    /// Hessian: forward mode over the gradient.</summary>
    /// <exception cref="ShapeMismatchException">v's shape differs from x's, or f is not scalar-valued.</exception>
    public static Tensor Hvp(Func<Tensor, Tensor> f, Tensor x, Tensor v) =>
        Jvp(xs => Grad(f, xs[0]), [x], [v]).Tangent;

    /// <summary>Evaluates body with derivative tracking off: the result is a constant for every transformation.</summary>
    public static T NoGrad<T>(Func<T> body) => Dispatch.NoGrad(body);

    /// <summary>x with no derivative for any transformation (gradients do not flow through it); the same as
    /// <see cref="Tensor.StopGradient()"/> (JAX's <c>stop_gradient</c>, PyTorch's <c>detach</c>).</summary>
    public static Tensor StopGradient(Tensor x) => x.StopGradient();
}
