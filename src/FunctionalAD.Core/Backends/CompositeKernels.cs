using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

/// <summary>
/// The default implementations of <see cref="IBackend"/>'s non-elementwise ops, composed from its core kernels
/// (Reduce, the elementwise ops, MatMul, the layout kernels). A backend gets them through IBackend's default methods
/// and runs every op from the start; it overrides one with its own kernel when that is measured to be faster. This is
/// where convolution (im2col + MatMul), pooling and blocked factorizations (on MatMul) get their first kernels.
/// </summary>
public static class CompositeKernels
{
    /// <summary>exp(x - max) / Σ exp(x - max) along <paramref name="axis"/>: Reduce(Max), sub, exp, Reduce(Sum), div.
    /// A row that is entirely -inf gives NaN, as in PyTorch.</summary>
    public static RawTensor Softmax(IBackend backend, RawTensor x, int axis)
    {
        ArgumentNullException.ThrowIfNull(backend); ArgumentNullException.ThrowIfNull(x);
        if (x.Numel == 0) return x;
        int[] axes = [axis];
        var max = backend.Reduce(ReduceOp.Max, x, axes, keepDim: true).Expand(x.Shape);
        var e = backend.Unary<Exp>(backend.Binary<Sub>(x, max));
        var sum = backend.Reduce(ReduceOp.Sum, e, axes, keepDim: true).Expand(x.Shape);
        return backend.Binary<Div>(e, sum);
    }
}
