using FunctionalAD.Autodiff;
using FunctionalAD.Backends;

namespace FunctionalAD;

public sealed partial class Tensor
{
    Tensor Reduce(string op, Primitive p, int[]? dims, bool keepDim, bool widen = false)
    {
        var axes = FunctionalAD.Shape.NormalizeAxes(op, dims, Rank);
        // Bool counts as Int64; sums and products of integers widen to Int64 (as in PyTorch) instead of wrapping.
        var x = DType == DType.Bool || (widen && DType == DType.Int32) ? To(DType.Int64) : this;
        return Dispatch.Apply(p, [x], new ReduceAttr(axes, keepDim));
    }

    /// <summary>Sum over <paramref name="dims"/> (all when null or empty); reduced dimensions are dropped unless
    /// <paramref name="keepDim"/>. Integer and Bool tensors sum to Int64 (as in PyTorch), so counts do not wrap.</summary>
    /// <exception cref="TensorException">a dimension is out of range or repeated.</exception>
    public Tensor Sum(int[]? dims = null, bool keepDim = false) => Reduce("sum", Primitives.Sum, dims, keepDim, widen: true);
    /// <summary>Sum over one dimension.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);

    /// <summary>Mean over <paramref name="dims"/> (all when null); integer input gives Float32.</summary>
    public Tensor Mean(int[]? dims = null, bool keepDim = false)
    {
        var axes = FunctionalAD.Shape.NormalizeAxes("mean", dims, Rank);
        int n = 1;
        foreach (var a in axes) n *= shape[a];
        return Float("mean").Sum(axes, keepDim) / n;
    }
    /// <summary>Mean over one dimension.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);

    /// <summary>Product over <paramref name="dims"/> (all when null); integer and Bool tensors give Int64.</summary>
    public Tensor Prod(int[]? dims = null, bool keepDim = false) => Reduce("prod", Primitives.Prod, dims, keepDim, widen: true);

    /// <summary>Largest element over <paramref name="dims"/> (all when null); ties share the derivative equally.</summary>
    /// <exception cref="TensorException">a reduced dimension is empty.</exception>
    public Tensor Max(int[]? dims = null, bool keepDim = false) => Reduce("max", Primitives.Max, dims, keepDim);
    /// <summary>Largest element along one dimension.</summary>
    public Tensor Max(int dim, bool keepDim = false) => Max([dim], keepDim);
    /// <summary>Smallest element over <paramref name="dims"/> (all when null); ties share the derivative equally.</summary>
    public Tensor Min(int[]? dims = null, bool keepDim = false) => Reduce("min", Primitives.Min, dims, keepDim);
    /// <summary>Smallest element along one dimension.</summary>
    public Tensor Min(int dim, bool keepDim = false) => Min([dim], keepDim);

    Tensor Arg(string op, ReduceOp r, int? dim, bool keepDim)
    {
        if (Numel == 0) throw new TensorException(op, $"cannot take {op} of an empty tensor of shape {FunctionalAD.Shape.Format(shape)}");
        var p = r == ReduceOp.ArgMax ? Primitives.ArgMax : Primitives.ArgMin;
        if (dim is null) return Dispatch.Apply(p, [Reshape(-1)], new ReduceAttr([0], false));
        int d = FunctionalAD.Shape.NormalizeAxis(op, dim.Value, Rank);
        return Dispatch.Apply(p, [this], new ReduceAttr(Rank == 0 ? [] : [d], keepDim));
    }

    /// <summary>Index (Int64) of the largest element: of the flattened tensor when dim is null, else along dim. First index on ties.</summary>
    public Tensor ArgMax(int? dim = null, bool keepDim = false) => Arg("argmax", ReduceOp.ArgMax, dim, keepDim);
    /// <summary>Index (Int64) of the smallest element: of the flattened tensor when dim is null, else along dim.</summary>
    public Tensor ArgMin(int? dim = null, bool keepDim = false) => Arg("argmin", ReduceOp.ArgMin, dim, keepDim);

    /// <summary>Variance over <paramref name="dims"/> (all when null), dividing by n - correction (default 1: unbiased, as PyTorch).</summary>
    public Tensor Var(int[]? dims = null, bool keepDim = false, int correction = 1)
    {
        var axes = FunctionalAD.Shape.NormalizeAxes("var", dims, Rank);
        int n = 1;
        foreach (var a in axes) n *= shape[a];
        var x = Float("var");
        var centered = x - x.Mean(axes, true);
        return (centered * centered).Sum(axes, keepDim) / Math.Max(n - correction, 0);
    }

    /// <summary>Standard deviation: √Var.</summary>
    public Tensor Std(int[]? dims = null, bool keepDim = false, int correction = 1) => Var(dims, keepDim, correction).Sqrt();

    /// <summary>log Σ exp(x) over <paramref name="dims"/>, computed stably by shifting by the (constant) maximum;
    /// its gradient is softmax.</summary>
    public Tensor LogSumExp(int[]? dims = null, bool keepDim = false)
    {
        var x = Float("logsumexp");
        var axes = FunctionalAD.Shape.NormalizeAxes("logsumexp", dims, Rank);
        foreach (var a in axes)
            if (shape[a] == 0) // a sum of no terms is 0, and log 0 = -inf (as in PyTorch)
                return Full(FunctionalAD.Shape.Reduced(shape, axes, keepDim), double.NegativeInfinity, x.DType, Device);
        var m = x.StopGradient().Max(axes, true);
        // Shift by the maximum only where it is finite: an infinite maximum would make inf - inf = NaN, while
        // log Σ exp over a row holding +inf is +inf and over a row of -inf is -inf, which the unshifted sum gives.
        m = Where(m.Abs().Lt(double.PositiveInfinity), m, ZerosView(m));
        var r = (x - m).Exp().Sum(axes, true).Log() + m;
        return keepDim ? r : r.Reshape(FunctionalAD.Shape.Reduced(shape, axes, false));
    }
    /// <summary>log Σ exp(x) along one dimension.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false) => LogSumExp([dim], keepDim);

    /// <summary>exp(x) / Σ exp(x) along <paramref name="dim"/> (default last), computed stably (shifted by the
    /// maximum); one primitive whose derivative is y·(d - Σ y·d). Integer input is converted to Float32.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is not a dimension of the tensor.</exception>
    /// <exception cref="DTypeMismatchException">the tensor is Bool.</exception>
    public Tensor Softmax(int dim = -1)
    {
        var x = Float("softmax");
        if (Rank == 0) return x.Reshape([1]).Softmax(0).Reshape([]);
        return Dispatch.Apply(Primitives.Softmax, [x], FunctionalAD.Shape.NormalizeAxis("softmax", dim, Rank));
    }
    /// <summary>x - logsumexp(x) along <paramref name="dim"/> (default last).</summary>
    public Tensor LogSoftmax(int dim = -1) => Float("logSoftmax") - LogSumExp([dim], true);
}
