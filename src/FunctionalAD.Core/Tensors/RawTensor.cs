namespace FunctionalAD;

/// <summary>A block of elements owned by one backend. Never written after the kernel that produced it returns, with one
/// exception: the backward pass adds into adjoint sums it allocated and has not handed to anyone (IBackend.TryAddInPlace).</summary>
public abstract class Storage
{
    /// <summary>Element type.</summary>
    public abstract DType DType { get; }
    /// <summary>Where the elements live.</summary>
    public abstract Device Device { get; }
    /// <summary>Number of elements.</summary>
    public abstract int Length { get; }
}

/// <summary>Managed storage: a .NET array.</summary>
public sealed class CpuStorage<T>(T[] data) : Storage
{
    /// <summary>The elements. Kernels write only into storage they have just allocated (and TryAddInPlace into the
    /// backward pass's own sums).</summary>
    public readonly T[] Data = data;
    /// <inheritdoc/>
    public override DType DType => DTypes.Of<T>(); // computed: a field would add 8 bytes to every scalar's storage
    /// <inheritdoc/>
    public override Device Device => Device.Cpu;
    /// <inheritdoc/>
    public override int Length => Data.Length;
}

/// <summary>
/// A strided view of a storage with no derivative information: what backends take and return.
/// Views (reshape, permute, slice, expand) only change shape, strides and offset.
/// </summary>
public sealed class RawTensor
{
    /// <summary>The elements.</summary>
    public Storage Storage { get; }
    /// <summary>Size of each dimension.</summary>
    public int[] Shape { get; }
    /// <summary>Elements to skip in storage per step in each dimension (0 for a broadcast dimension).</summary>
    public int[] Strides { get; }
    /// <summary>Index in storage of the first element.</summary>
    public int Offset { get; }
    /// <summary>Number of elements.</summary>
    public int Numel { get; }

    /// <summary>A view of <paramref name="storage"/>; the caller guarantees the view stays inside it.</summary>
    public RawTensor(Storage storage, int[] shape, int[] strides, int offset)
    {
        Storage = storage; Shape = shape; Strides = strides; Offset = offset; Numel = FunctionalAD.Shape.Numel(shape);
    }

    /// <summary>A contiguous tensor over the whole of <paramref name="storage"/>.</summary>
    public RawTensor(Storage storage, int[] shape) : this(storage, shape, FunctionalAD.Shape.ContiguousStrides(shape), 0) { }

    /// <summary>Element type.</summary>
    public DType DType => Storage.DType;
    /// <summary>Device of the storage.</summary>
    public Device Device => Storage.Device;
    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>True when the elements are laid out row-major without gaps starting at <see cref="Offset"/>.</summary>
    public bool IsContiguous
    {
        get
        {
            int s = 1;
            for (int i = Shape.Length - 1; i >= 0; i--)
            {
                if (Shape[i] != 1 && Strides[i] != s) return false;
                s *= Shape[i];
            }
            return true;
        }
    }

    /// <summary>The same elements with a new shape, if the layout allows it without copying (PyTorch's view rule:
    /// every group of merged or split dimensions must be contiguous within itself); otherwise null.</summary>
    public RawTensor? TryReshapeView(int[] shape)
    {
        // an empty tensor has no layout to keep: any strides view it
        if (IsContiguous || Numel == 0) return new RawTensor(Storage, shape, FunctionalAD.Shape.ContiguousStrides(shape), Offset);
        var strides = ViewStrides(Shape, Strides, shape);
        return strides is null ? null : new RawTensor(Storage, shape, strides, Offset);
    }

    static int[]? ViewStrides(int[] oldShape, int[] oldStrides, int[] newShape)
    {
        var result = new int[newShape.Length];
        if (oldShape.Length == 0) return result;           // a scalar: every new dimension has size 1
        int viewD = newShape.Length - 1;
        long chunkBase = oldStrides[^1], tensorNumel = 1, viewNumel = 1;
        for (int d = oldShape.Length - 1; d >= 0; d--)
        {
            tensorNumel *= oldShape[d];
            // the end of a chunk of dimensions laid out contiguously relative to each other
            if (d == 0 || (oldShape[d - 1] != 1 && oldStrides[d - 1] != tensorNumel * chunkBase))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1))
                {
                    result[viewD] = (int)(viewNumel * chunkBase);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) { chunkBase = oldStrides[d - 1]; tensorNumel = 1; viewNumel = 1; }
            }
        }
        return viewD == -1 ? result : null;
    }

    /// <summary>Dimensions reordered: result dimension i is this tensor's dimension perm[i].</summary>
    public RawTensor Permute(int[] perm)
    {
        var sh = new int[perm.Length]; var st = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) { sh[i] = Shape[perm[i]]; st[i] = Strides[perm[i]]; }
        return new RawTensor(Storage, sh, st, Offset);
    }

    /// <summary>Broadcast view to <paramref name="shape"/> (stride 0 on broadcast dimensions).</summary>
    public RawTensor Expand(int[] shape)
    {
        int off = shape.Length - Shape.Length;
        var st = new int[shape.Length];
        for (int i = 0; i < shape.Length; i++)
            st[i] = i < off ? 0 : (Shape[i - off] == 1 && shape[i] != 1 ? 0 : Strides[i - off]);
        return new RawTensor(Storage, shape, st, Offset);
    }

    /// <summary>Elements start, start+step, ... (count of them) along dimension <paramref name="dim"/>.</summary>
    public RawTensor Slice(int dim, int start, int count, int step)
    {
        var sh = (int[])Shape.Clone(); var st = (int[])Strides.Clone();
        sh[dim] = count; st[dim] = Strides[dim] * step;
        return new RawTensor(Storage, sh, st, count == 0 ? Offset : Offset + start * Strides[dim]);
    }
}
