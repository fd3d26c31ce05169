using FunctionalAD.Ops;

namespace FunctionalAD.Backends;

#pragma warning disable CS1591 // the op enums' members are the names of the math functions they denote
/// <summary>Elementwise comparisons; the result is Bool.</summary>
public enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }

/// <summary>Reductions over a set of axes.</summary>
public enum ReduceOp { Sum, Prod, Max, Min, ArgMax, ArgMin }
#pragma warning restore CS1591

/// <summary>
/// The raw kernels of one device: raw storage in, raw storage out. A backend never sees derivatives. Tensors reach a
/// backend only through the primitives' forward rules, with exceptions that involve no derivative: creating and
/// reading out values (FromArray, Full, ToArray, Cast of fresh data), the backward pass's two optional fast paths
/// (<see cref="TryUnaryDerivative{TOp}"/>, <see cref="TryAddInPlace"/>), and the one-pass update of constants
/// (<see cref="TryAddScaled"/>, an optimizer's step), each of which falls back to the primitive rules when it declines. Inputs arrive validated (shapes aligned, dtypes equal, same device), may be strided views,
/// and are never written. Methods with a default body are optional: the default composes the op from the others.
/// </summary>
public partial interface IBackend
{
    /// <summary>The device this backend computes on.</summary>
    Device Device { get; }
    /// <summary>A tensor holding a copy of <paramref name="data"/> (row-major) with the given shape.</summary>
    RawTensor FromArray<T>(T[] data, int[] shape);
    /// <summary>The elements in row-major order, as a new array.</summary>
    T[] ToArray<T>(RawTensor x);
    /// <summary>A tensor of the given shape and dtype with every element equal to <paramref name="value"/>.</summary>
    RawTensor Full(int[] shape, DType dtype, double value);
    /// <summary>A row-major copy of a view (or the view itself if it already is one).</summary>
    RawTensor Contiguous(RawTensor x);
    /// <summary>The elementwise op <typeparamref name="TOp"/> (floating-point dtypes; integers too where the op
    /// <see cref="IUnaryOp.AcceptsIntegers"/>). A backend evaluates the op's own formula, never a table of its own.</summary>
    /// <exception cref="DTypeMismatchException">a dtype the op does not compute on.</exception>
    RawTensor Unary<TOp>(RawTensor x) where TOp : struct, IUnaryOp;
    /// <summary>The elementwise op <typeparamref name="TOp"/> of two tensors of equal shape and dtype (broadcast views allowed).</summary>
    /// <exception cref="DTypeMismatchException">a dtype the op does not compute on.</exception>
    RawTensor Binary<TOp>(RawTensor a, RawTensor b) where TOp : struct, IBinaryOp;
    /// <summary>Elementwise comparison of two tensors of equal shape and dtype; Bool result.</summary>
    RawTensor Compare(CompareOp op, RawTensor a, RawTensor b);
    /// <summary>cond ? a : b elementwise; all three of equal shape, a and b of equal dtype, cond Bool.</summary>
    RawTensor Where(RawTensor cond, RawTensor a, RawTensor b);
    /// <summary>Reduces over the sorted, distinct <paramref name="axes"/>. ArgMax/ArgMin take one axis and give Int64.</summary>
    RawTensor Reduce(ReduceOp op, RawTensor x, int[] axes, bool keepDim);
    /// <summary>Batched matrix product: [B,m,k] x [B,k,n] -> [B,m,n], floating point.</summary>
    RawTensor MatMul(RawTensor a, RawTensor b);
    /// <summary>The elements converted to <paramref name="dtype"/> (truncating toward zero for float to integer; nonzero is true).</summary>
    RawTensor Cast(RawTensor x, DType dtype);
    /// <summary>Joins tensors of equal dtype whose shapes differ only along <paramref name="axis"/>.</summary>
    RawTensor Concat(RawTensor[] xs, int axis);
    /// <summary>Zeros of <paramref name="shape"/> with <paramref name="source"/> written at start, start+step, ... along axis.</summary>
    RawTensor SliceScatter(int[] shape, RawTensor source, int axis, int start, int step);
    /// <summary>Entries index[0], index[1], ... of <paramref name="x"/> along <paramref name="axis"/>; index is 1-D Int32/Int64 in range.</summary>
    RawTensor IndexSelect(RawTensor x, int axis, RawTensor index);
    /// <summary>Zeros of <paramref name="shape"/> plus, for each i, source's slice i added at index[i] along axis (the transpose of IndexSelect).</summary>
    RawTensor IndexAdd(int[] shape, int axis, RawTensor index, RawTensor source);
    /// <summary>
    /// softmax along <paramref name="axis"/> of a floating-point tensor (exp(x - max) / Σ exp(x - max)). The default is
    /// <see cref="CompositeKernels.Softmax"/>, composed from this backend's other kernels; override it with a one-pass
    /// kernel where that is faster.
    /// </summary>
    RawTensor Softmax(RawTensor x, int axis) => CompositeKernels.Softmax(this, x, axis);
    /// <summary>im2col: x [N, C, H, W] to [N, C·kh·kw, L] under <paramref name="geometry"/> (zero padding, stride,
    /// dilation). Default: <see cref="ConvolutionKernels.Unfold"/>.</summary>
    RawTensor Unfold(RawTensor x, ConvGeometry geometry) => ConvolutionKernels.Unfold(this, x, geometry);
    /// <summary>col2im, the transpose of <see cref="Unfold"/>: [N, C·kh·kw, L] to [N, C, H, W], overlaps summed.
    /// Default: <see cref="ConvolutionKernels.Fold"/>.</summary>
    RawTensor Fold(RawTensor cols, ConvGeometry geometry) => ConvolutionKernels.Fold(this, cols, geometry);
    /// <summary>2-D convolution without bias: x [N, C, H, W], w [O, C/groups, kh, kw] to [N, O, OutHeight, OutWidth]
    /// (floating point). Default: <see cref="ConvolutionKernels.Conv2d"/> (unfold + batched MatMul).</summary>
    RawTensor Conv2d(RawTensor x, RawTensor w, ConvGeometry geometry) => ConvolutionKernels.Conv2d(this, x, w, geometry);
    /// <summary><see cref="Conv2d"/> plus a bias b [O] added to every position of output channel o. Default:
    /// <see cref="ConvolutionKernels.Conv2dBias"/> (Conv2d, then a broadcast Add).</summary>
    RawTensor Conv2dBias(RawTensor x, RawTensor w, RawTensor b, ConvGeometry geometry) => ConvolutionKernels.Conv2dBias(this, x, w, b, geometry);
    /// <summary>The input gradient of <see cref="Conv2d"/> (the transposed convolution): dy [N, O, OutHeight, OutWidth]
    /// and w [O, C/groups, kh, kw] to [N, C, H, W], Σ over output channels and taps of w · dy placed where the forward
    /// read. Default: <see cref="ConvolutionKernels.Conv2dInputGrad"/> (batched MatMul by wᵀ, then Fold).</summary>
    RawTensor Conv2dInputGrad(RawTensor dy, RawTensor w, ConvGeometry geometry) => ConvolutionKernels.Conv2dInputGrad(this, dy, w, geometry);
    /// <summary>The weight gradient of <see cref="Conv2d"/>: dy [N, O, OutHeight, OutWidth] and x [N, C, H, W] to
    /// [O, C/groups, kh, kw], Σ over images and output positions of dy · the input the tap read. Default:
    /// <see cref="ConvolutionKernels.Conv2dWeightGrad"/> (Unfold, batched MatMul, sum over images).</summary>
    RawTensor Conv2dWeightGrad(RawTensor dy, RawTensor x, ConvGeometry geometry) => ConvolutionKernels.Conv2dWeightGrad(this, dy, x, geometry);
    /// <summary>Max pooling without padding (the caller pads with -∞): x [N, C, H, W] to [N, C, OutHeight, OutWidth].
    /// Default: <see cref="PoolingKernels.MaxPool2d"/> (Unfold, then a max over each window).</summary>
    RawTensor MaxPool2d(RawTensor x, ConvGeometry geometry) => PoolingKernels.MaxPool2d(this, x, geometry);
    /// <summary>The input cotangent of <see cref="MaxPool2d"/>: dy [N, C, OutHeight, OutWidth], x [N, C, H, W] to
    /// [N, C, H, W], ties sharing equally. Default: <see cref="PoolingKernels.MaxPool2dGrad"/>.</summary>
    RawTensor MaxPool2dGrad(RawTensor dy, RawTensor x, ConvGeometry geometry) => PoolingKernels.MaxPool2dGrad(this, dy, x, geometry);
    /// <summary>
    /// g·f'(x) elementwise, where f is <typeparamref name="TOp"/> and y = f(x): the first-order vjp (and jvp) of an
    /// elementwise primitive in one pass, from the op's own derivative formula, instead of computing f'(x) and then
    /// multiplying. g, x and y have equal shape and dtype (g may be a broadcast view). Returns false where the backend
    /// has no fused kernel (the default); the engine then composes the derivative from the other kernels.
    /// </summary>
    bool TryUnaryDerivative<TOp>(RawTensor g, RawTensor x, RawTensor y, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RawTensor? result) where TOp : struct, IUnaryOp
    {
        result = null;
        return false;
    }
    /// <summary>
    /// target += x elementwise, writing into target's storage. Only for a target the caller created and nobody else
    /// holds (the backward pass's own adjoint sums): everything else in the library treats storage as immutable.
    /// target is contiguous; x has target's shape and dtype and may be a view. Returns false, writing nothing, where the
    /// backend has no such kernel (the default) or the operands do not fit; the caller then adds out of place.
    /// </summary>
    bool TryAddInPlace(RawTensor target, RawTensor x) => false;

    /// <summary>
    /// Optional fast path for constants (an optimizer's update p - lr·g): a + alpha·b in one pass, as a new tensor; a
    /// and b have one shape and dtype and may be views. Returns false, with <paramref name="result"/> null, where the
    /// backend has no such kernel (the default) or the dtype is not floating point; the caller then composes
    /// a + alpha·b from the primitives.
    /// </summary>
    bool TryAddScaled(RawTensor a, RawTensor b, double alpha, out RawTensor? result) { result = null; return false; }
}

/// <summary>Finds the backend of a device. The CPU backend is built in; others register themselves.</summary>
public static class Backend
{
    static readonly System.Collections.Concurrent.ConcurrentDictionary<DeviceKind, Func<int, IBackend>> Factories = new();
    static readonly System.Collections.Concurrent.ConcurrentDictionary<Device, IBackend> Cache = new();

    /// <summary>Makes devices of <paramref name="kind"/> available (called by FunctionalAD.Gpu).</summary>
    public static void Register(DeviceKind kind, Func<int, IBackend> factory) => Factories[kind] = factory;

    /// <summary>The backend of <paramref name="device"/>.</summary>
    /// <exception cref="DeviceMismatchException">no backend is registered for the device's kind.</exception>
    public static IBackend For(Device device)
    {
        if (device.Kind == DeviceKind.Cpu) return CpuBackend.Instance;
        return Cache.GetOrAdd(device, d => Factories.TryGetValue(d.Kind, out var f)
            ? f(d.Index)
            : throw new DeviceMismatchException("toDevice", $"no backend for device {d}; reference FunctionalAD.Gpu and call Gpu.Register() to enable GPU devices"));
    }
}
