using FunctionalAD.Backends;

namespace FunctionalAD;

public sealed partial class Tensor
{
    static Tensor OnDevice(RawTensor cpu, Device? device)
    {
        var t = new Tensor(cpu);
        return device is { } d && d != Device.Cpu ? t.ToDevice(d) : t;
    }

    /// <summary>A 1-D tensor holding a copy of <paramref name="values"/>. dtype follows T (float: Float32,
    /// double: Float64, int, long, bool).</summary>
    public static Tensor FromArray<T>(T[] values) => FromArray(values, [values.Length]);

    /// <summary>A tensor holding a copy of <paramref name="values"/> (row-major) with <paramref name="shape"/>
    /// ([] for a scalar). dtype follows T (float: Float32, double: Float64, int, long, bool).</summary>
    /// <exception cref="ShapeMismatchException">the number of values does not fill the shape.</exception>
    public static Tensor FromArray<T>(T[] values, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(shape);
        DTypes.Of<T>();
        var s = FunctionalAD.Shape.Validate("tensor", shape);
        if (FunctionalAD.Shape.Numel(s) != values.Length)
            throw new ShapeMismatchException("tensor", $"{values.Length} values do not fill shape {F(s)} ({FunctionalAD.Shape.Numel(s)} elements)");
        return new Tensor(CpuBackend.Instance.FromArray(values, s));
    }

    /// <summary>A tensor with a copy of <paramref name="values"/> and the given shape.</summary>
    /// <exception cref="ShapeMismatchException">the number of values does not fill the shape.</exception>
    public static Tensor FromSpan<T>(ReadOnlySpan<T> values, params int[] shape) => FromArray(values.ToArray(), shape);

    /// <summary>A tensor from a .NET multi-dimensional array (T[,], T[,,], ...), same shape.</summary>
    /// <exception cref="ArgumentException">the element type is not supported.</exception>
    public static Tensor FromArray(Array values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var shape = new int[values.Rank];
        for (int i = 0; i < shape.Length; i++) shape[i] = values.GetLength(i);
        var et = values.GetType().GetElementType()!;
        return et == typeof(float) ? FromArray(Flatten<float>(values), shape)
            : et == typeof(double) ? FromArray(Flatten<double>(values), shape)
            : et == typeof(int) ? FromArray(Flatten<int>(values), shape)
            : et == typeof(long) ? FromArray(Flatten<long>(values), shape)
            : et == typeof(bool) ? FromArray(Flatten<bool>(values), shape)
            : throw new ArgumentException($"tensor: element type {et.Name} is not supported; expected float, double, int, long or bool");
    }

    static T[] Flatten<T>(Array a)
    {
        var r = new T[a.Length];
        int i = 0;
        foreach (T v in a) r[i++] = v;
        return r;
    }

    /// <summary>A 2-D tensor from a jagged array (every row the same length).</summary>
    /// <exception cref="ShapeMismatchException">rows have different lengths.</exception>
    public static Tensor FromJagged<T>(T[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int cols = rows.Length == 0 ? 0 : rows[0].Length;
        var flat = new T[rows.Length * cols];
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != cols) throw new ShapeMismatchException("tensor", $"row {i} has {rows[i].Length} elements; row 0 has {cols} (jagged arrays must be rectangular)");
            Array.Copy(rows[i], 0, flat, i * cols, cols);
        }
        return FromArray(flat, rows.Length, cols);
    }

    /// <summary>A copy of a System.Numerics.Tensors tensor, same shape.</summary>
    public static Tensor FromNumericsTensor<T>(System.Numerics.Tensors.Tensor<T> values)
    {
        var shape = values.Lengths.ToArray().Select(l => checked((int)l)).ToArray();
        var flat = new T[values.FlattenedLength];
        values.FlattenTo(flat);
        return FromArray(flat, shape);
    }

    /// <summary>A 0-D tensor; dtype follows T.</summary>
    public static Tensor Scalar<T>(T value)
    {
        DTypes.Of<T>();
        return new Tensor(CpuBackend.Instance.FromArray([value], []));
    }

    /// <summary>A 0-D tensor of <paramref name="dtype"/> holding value.</summary>
    public static Tensor Scalar(double value, DType dtype) => Full([], value, dtype);

    /// <summary>A tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    /// <exception cref="ShapeMismatchException">a dimension is negative.</exception>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32, Device? device = null) =>
        FullNamed("full", shape, value, dtype, device);

    // The creation functions share Full's body but report bad shapes under their own name.
    static Tensor FullNamed(string op, int[] shape, double value, DType dtype, Device? device)
    {
        var s = FunctionalAD.Shape.Validate(op, shape);
        return new Tensor(FunctionalAD.Backends.Backend.For(device ?? Device.Cpu).Full(s, dtype, value));
    }

    /// <summary>Zeros of <paramref name="shape"/> (Float32 unless dtype is given).</summary>
    /// <exception cref="ShapeMismatchException">a dimension is negative.</exception>
    public static Tensor Zeros(int[] shape, DType dtype = DType.Float32, Device? device = null) => FullNamed("zeros", shape, 0, dtype, device);
    /// <summary>Ones of <paramref name="shape"/> (Float32 unless dtype is given).</summary>
    /// <exception cref="ShapeMismatchException">a dimension is negative.</exception>
    public static Tensor Ones(int[] shape, DType dtype = DType.Float32, Device? device = null) => FullNamed("ones", shape, 1, dtype, device);
    /// <summary>Zeros with x's shape, dtype and device.</summary>
    public static Tensor ZerosLike(Tensor x) => Zeros(x.shape, x.DType, x.Device);
    /// <summary>Ones with x's shape, dtype and device.</summary>
    public static Tensor OnesLike(Tensor x) => Ones(x.shape, x.DType, x.Device);
    /// <summary>value everywhere, with x's shape, dtype and device.</summary>
    public static Tensor FullLike(Tensor x, double value) => Full(x.shape, value, x.DType, x.Device);

    /// <summary>start, start+step, ... below end (Float32 unless dtype is given).</summary>
    /// <exception cref="TensorException">step is 0 or has the wrong sign for the range.</exception>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32, Device? device = null)
    {
        if (step == 0 || double.IsNaN(step) || (end - start) * step < 0 && end != start)
            throw new TensorException("arange", $"step {step} cannot go from {start} to {end}");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = start + i * step;
        return OnDevice(CpuBackend.Instance.Cast(new RawTensor(new CpuStorage<double>(v), [n]), dtype), device);
    }

    /// <summary>0, 1, ..., end-1.</summary>
    public static Tensor Arange(double end, DType dtype = DType.Float32, Device? device = null) => Arange(0, end, 1, dtype, device);

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive.</summary>
    /// <exception cref="TensorException">steps is negative.</exception>
    public static Tensor Linspace(double start, double end, int steps, DType dtype = DType.Float32, Device? device = null)
    {
        if (steps < 0) throw new TensorException("linspace", $"steps must be >= 0, got {steps}");
        var v = new double[steps];
        for (int i = 0; i < steps; i++) v[i] = steps == 1 ? start : start + (end - start) * i / (steps - 1);
        return OnDevice(CpuBackend.Instance.Cast(new RawTensor(new CpuStorage<double>(v), [steps]), dtype), device);
    }

    /// <summary>The n×m identity (m defaults to n).</summary>
    public static Tensor Eye(int n, int? m = null, DType dtype = DType.Float32, Device? device = null)
    {
        int cols = m ?? n;
        FunctionalAD.Shape.Validate("eye", [n, cols]);
        // from the result pool: an identity inside a derivative rule (the SVD's, the inverse's) is one of the rule's
        // temporaries, which the backward pass gives back; the Float64 staging array of another dtype dies here
        var v = ResultPool.RentZeroed<double>(n * cols);
        for (int i = 0; i < Math.Min(n, cols); i++) v[i * cols + i] = 1;
        var eye = CpuBackend.Instance.Cast(new RawTensor(new CpuStorage<double>(v), [n, cols]), dtype);
        if (dtype != DType.Float64) ResultPool.Return(v);
        return OnDevice(eye, device);
    }

    static Tensor Random(string op, int[] shape, Func<double> next, DType dtype, Device? device)
    {
        var s = FunctionalAD.Shape.Validate(op, shape);
        var v = new double[FunctionalAD.Shape.Numel(s)];
        for (int i = 0; i < v.Length; i++) v[i] = next();
        return OnDevice(CpuBackend.Instance.Cast(new RawTensor(new CpuStorage<double>(v), s), dtype), device);
    }

    /// <summary>Uniform samples in [0, 1) drawn from <paramref name="generator"/> (always generated on the CPU, so
    /// a seed gives the same numbers on every device).</summary>
    public static Tensor Rand(int[] shape, Generator generator, DType dtype = DType.Float32, Device? device = null) =>
        Random("rand", shape, generator.NextDouble, dtype, device);

    /// <summary>Standard normal samples drawn from <paramref name="generator"/>.</summary>
    public static Tensor Randn(int[] shape, Generator generator, DType dtype = DType.Float32, Device? device = null) =>
        Random("randn", shape, generator.NextNormal, dtype, device);

    /// <summary>Uniform integers in [low, high) (Int64 unless dtype is given).</summary>
    /// <exception cref="ArgumentException">high &lt;= low.</exception>
    public static Tensor Randint(long low, long high, int[] shape, Generator generator, DType dtype = DType.Int64, Device? device = null)
    {
        if (high <= low) throw new TensorException("randint", $"high ({high}) must be greater than low ({low})");
        var s = FunctionalAD.Shape.Validate("randint", shape);
        var v = new long[FunctionalAD.Shape.Numel(s)];
        for (int i = 0; i < v.Length; i++) v[i] = generator.NextInt64(low, high);
        return OnDevice(CpuBackend.Instance.Cast(new RawTensor(new CpuStorage<long>(v), s), dtype), device);
    }

    /// <summary>Uniform samples in [0, 1) with x's shape, dtype and device.</summary>
    public static Tensor RandLike(Tensor x, Generator generator) => Rand(x.shape, generator, x.DType, x.Device);
    /// <summary>Standard normal samples with x's shape, dtype and device.</summary>
    public static Tensor RandnLike(Tensor x, Generator generator) => Randn(x.shape, generator, x.DType, x.Device);
}
