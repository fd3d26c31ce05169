using FunctionalAD.Autodiff;
using FunctionalAD.Backends;

namespace FunctionalAD;

/// <summary>
/// An immutable n-dimensional array of Float32/Float64/Int32/Int64/Bool on a device, which may also carry
/// derivative information for the transformations that are differentiating it (forward tangents or a place on a
/// reverse-mode tape, one layer per nested transformation). No operation changes a tensor; views share storage
/// because nothing writes to it.
/// </summary>
public sealed partial class Tensor
{
    // Exactly one of: a constant (tag null, inner is its RawTensor), or a value carrying a derivative for tag (inner is
    // its primal; derivative is its tangent in forward mode, its tape node in reverse mode). One field each instead of
    // two: a tape holds two tensors per operation, and 16 bytes each is a tenth of an operation's memory.
    // A scalar record's value (reverse mode, derivative null) holds its primal as a boxed double in inner (exact for
    // Float32 too) until its storage is asked for (Value: inner becomes that RawTensor) or its primal Tensor is
    // (primal: inner becomes that Tensor). Benign races: every form is the same constant. A scalar operation so
    // allocates one Tensor and a box instead of two Tensors, a RawTensor, its storage and an array.
    object inner;
    readonly object? derivative;
    internal readonly Tag? tag;
    readonly int[] shape;
    // Reverse mode with derivative null: the tape slot of this value's ScalarRecord (an int fits in the padding of the
    // object, so it costs no memory)
    readonly int slot;

    internal RawTensor? raw => tag is null ? (RawTensor)inner : null;
    internal Tensor? primal => tag is null ? null : inner as Tensor ?? PrimalOfRecord();

    /// <summary>For a value carrying a derivative whose primal is a constant rank-0 CPU Float32/Float64: that number,
    /// read without creating the primal's Tensor or storage (false for any other value).</summary>
    internal bool TryConstantPrimalScalar(out double value, out bool single)
    {
        var i = inner;
        if (i is double d) { value = d; single = DType == DType.Float32; return true; }
        return ScalarRecord.TryValue(i as RawTensor ?? (i as Tensor)?.raw, out value, out single);
    }

    Tensor PrimalOfRecord()
    {
        var p = new Tensor(RecordRaw());
        inner = p;
        return p;
    }

    // a scalar record's primal storage, created from the boxed number the first time it is needed
    RawTensor RecordRaw()
    {
        var i = inner;
        if (i is RawTensor r) return r;
        if (i is Tensor p) return p.Value;
        var made = ScalarRecord.Raw((double)i, DType == DType.Float32);
        inner = made;
        return made;
    }
    internal Tensor? tangent => derivative as Tensor;   // forward mode; null means a zero tangent
    /// <summary>Reverse mode: the node that produced this value (a scalar record is viewed as one on demand).</summary>
    internal Node? node => derivative as Node ?? (derivative is null && tag is { Mode: Mode.Reverse, Tape: { } t } ? t.NodeAt(slot) : null);
    /// <summary>Reverse mode on a taped tag: this value's slot on the tape, without viewing a record as a node.</summary>
    internal int Slot => derivative is Node n ? (int)n.Index : slot;

    internal Tensor(RawTensor raw)
    {
        inner = raw; shape = raw.Shape; DType = raw.DType; Device = raw.Device;
    }

    internal Tensor(Tensor primal, Tensor? tangent, Node? node, Tag tag)
    {
        inner = primal; derivative = (object?)tangent ?? node; this.tag = tag;
        shape = primal.shape; DType = primal.DType; Device = primal.Device;
    }

    /// <summary>The value of a scalar record, in slot <paramref name="slot"/> of reverse tag <paramref name="tag"/>'s
    /// tape, whose primal is the constant rank-0 CPU <paramref name="dtype"/> (Float32/Float64) <paramref name="value"/>.</summary>
    internal Tensor(double value, DType dtype, Tag tag, int slot)
    {
        inner = value; this.tag = tag; this.slot = slot;
        shape = []; DType = dtype; Device = Device.Cpu;
    }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>Where the storage lives.</summary>
    public Device Device { get; }

    /// <summary>The size of each dimension (a copy; [] for a scalar).</summary>
    public int[] Shape => (int[])shape.Clone();

    internal int[] ShapeRef => shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => shape.Length;

    /// <summary>Number of elements.</summary>
    public int Numel => shape.Length == 0 ? 1 : Value.Numel;

    /// <summary>True when the tensor carries no derivative for any enclosing transformation.</summary>
    public bool IsConstant => tag is null;

    /// <summary>The underlying values, with every layer of derivative information removed.</summary>
    internal RawTensor Value
    {
        get
        {
            object t = inner;
            var owner = this;
            while (t is Tensor p) { owner = p; t = p.inner; }
            return t as RawTensor ?? owner.RecordRaw();
        }
    }

    internal IBackend Backend => FunctionalAD.Backends.Backend.For(Device);

    /// <summary>The value of a one-element tensor as a double.</summary>
    /// <exception cref="ShapeMismatchException">the tensor does not have exactly one element.</exception>
    public double Item()
    {
        if (Numel != 1) throw new ShapeMismatchException("item", $"expected a tensor with one element, got shape {FunctionalAD.Shape.Format(shape)}");
        return ToDoubleArray()[0];
    }

    /// <summary>The value of a one-element tensor (see <see cref="Item"/>); lets F#'s <c>float t</c> work.</summary>
    /// <exception cref="ShapeMismatchException">the tensor does not have exactly one element.</exception>
    public static explicit operator double(Tensor t) => t.Item();

    /// <summary>The value of a one-element tensor as a float (F#'s <c>float32 t</c>).</summary>
    /// <exception cref="ShapeMismatchException">the tensor does not have exactly one element.</exception>
    public static explicit operator float(Tensor t) => (float)t.Item();

    /// <summary>The elements in row-major order as a new <typeparamref name="T"/>[] (the dtype must store T).</summary>
    /// <exception cref="DTypeMismatchException">T is not the .NET type of this tensor's dtype.</exception>
    public T[] ToArray<T>()
    {
        if (DTypes.Of<T>() != DType) throw new DTypeMismatchException("toArray", $"the tensor is {DType}; asked for {typeof(T).Name}[] (cast with To(DType.{DTypes.Of<T>()}) first)");
        var v = Value;
        return v.Device == Device.Cpu ? CpuBackend.Instance.ToArray<T>(v) : FunctionalAD.Backends.Backend.For(v.Device).ToArray<T>(v);
    }

    /// <summary>The elements in row-major order converted to double.</summary>
    public double[] ToDoubleArray() => DType == DType.Float64 ? ToArray<double>() : StopGradient().To(DType.Float64).ToArray<double>();

    /// <summary>The elements in row-major order converted to float.</summary>
    public float[] ToFloatArray() => DType == DType.Float32 ? ToArray<float>() : StopGradient().To(DType.Float32).ToArray<float>();

    /// <summary>A 2-D tensor's elements as a T[rows, cols].</summary>
    /// <exception cref="ShapeMismatchException">the tensor is not 2-D.</exception>
    public T[,] ToArray2D<T>()
    {
        if (Rank != 2) throw new ShapeMismatchException("toArray2D", $"expected a 2-D tensor, got shape {FunctionalAD.Shape.Format(shape)}");
        var flat = ToArray<T>();
        var r = new T[shape[0], shape[1]];
        for (int i = 0; i < shape[0]; i++)
            for (int j = 0; j < shape[1]; j++) r[i, j] = flat[i * shape[1] + j];
        return r;
    }

    /// <summary>The elements as a System.Numerics.Tensors <c>Tensor&lt;T&gt;</c> of the same shape.</summary>
    /// <exception cref="DTypeMismatchException">T is not the .NET type of this tensor's dtype.</exception>
    public System.Numerics.Tensors.Tensor<T> ToNumericsTensor<T>() =>
        System.Numerics.Tensors.Tensor.Create(ToArray<T>(), shape.Select(d => (nint)d).ToArray());

    /// <summary>The same values as a constant: no derivative flows through the result for any transformation
    /// (JAX's <c>stop_gradient</c>, PyTorch's <c>detach</c>). Returns this tensor itself when it carries no derivative.</summary>
    public Tensor StopGradient() => raw is not null ? this : new Tensor(Value);

    /// <inheritdoc/>
    public override string ToString() => TensorFormat.Format(this);
}
