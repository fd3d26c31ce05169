using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>
/// A differentiable function with hand-written derivative rules (PyTorch's torch.autograd.Function): the forward
/// computation runs on constants, and the given backward (and optional jvp) rules are used by every
/// transformation. Rules written with tensor operations are themselves differentiable, so higher derivatives work.
/// </summary>
public sealed class CustomFunction
{
    readonly Primitive primitive;

    /// <summary>Declares a custom function of <paramref name="arity"/> tensors.</summary>
    /// <param name="name">The name shown in graphs and errors.</param>
    /// <param name="arity">How many tensor arguments it takes.</param>
    /// <param name="forward">Computes the result from the (constant) inputs.</param>
    /// <param name="backward">Given the result's cotangent g, the inputs and the result, returns one cotangent per
    /// input (with that input's shape).</param>
    /// <param name="jvp">Optional: given the inputs' tangents (zeros where an input has none), the inputs and the
    /// result, returns the result's tangent. Without it, forward mode throws by name.</param>
    /// <exception cref="ArgumentOutOfRangeException">arity &lt; 1.</exception>
    public CustomFunction(string name, int arity, Func<Tensor[], Tensor> forward,
        Func<Tensor, Tensor[], Tensor, Tensor[]> backward, Func<Tensor[], Tensor[], Tensor, Tensor>? jvp = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(arity, 1);
        var vjps = new DerivativeRule?[arity];
        var jvps = new DerivativeRule?[arity];
        for (int i = 0; i < arity; i++)
        {
            int k = i;
            vjps[k] = (g, xs, y, _) =>
            {
                var r = backward(g, xs, y);
                if (r.Length != arity) throw new InvalidOperationException($"{name}: backward returned {r.Length} cotangents; expected {arity}");
                if (!r[k].ShapeRef.AsSpan().SequenceEqual(xs[k].ShapeRef))
                    throw new ShapeMismatchException(name, $"backward returned a cotangent of shape {Shape.Format(r[k].ShapeRef)} for input {k + 1} of shape {Shape.Format(xs[k].ShapeRef)}");
                return r[k];
            };
            if (jvp is not null)
                jvps[k] = (dx, xs, y, _) =>
                {
                    var ts = new Tensor[arity];
                    for (int j = 0; j < arity; j++) ts[j] = j == k ? dx : Tensor.ZerosView(xs[j]);
                    return jvp(ts, xs, y);
                };
            else
                jvps[k] = (_, _, _, _) => throw new InvalidOperationException($"the forward-mode derivative of custom function '{name}' is not defined; pass a jvp rule to use it under jvp/diff/hessian");
        }
        primitive = new Primitive(name, (_, raws, _) =>
        {
            var r = forward(raws.Select(raw => new Tensor(raw)).ToArray());
            return r.Value;
        }, jvps, vjps) { UserRules = true };
        Arity = arity;
        Name = name;
    }

    /// <summary>The function's name.</summary>
    public string Name { get; }

    /// <summary>Number of tensor arguments.</summary>
    public int Arity { get; }

    /// <summary>Applies the function.</summary>
    /// <exception cref="ArgumentException">the number of arguments differs from <see cref="Arity"/>.</exception>
    public Tensor Invoke(params Tensor[] xs)
    {
        if (xs.Length != Arity) throw new TensorException(Name, $"expected {Arity} arguments, got {xs.Length}");
        for (int i = 1; i < xs.Length; i++) Tensor.SameDevice(Name, xs[0], xs[i]);
        return Dispatch.Apply(primitive, xs, null);
    }
}
