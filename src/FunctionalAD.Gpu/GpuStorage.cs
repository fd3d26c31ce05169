using ILGPU;
using ILGPU.Runtime;

namespace FunctionalAD.Gpu;

/// <summary>
/// Elements in the memory of an ILGPU accelerator (a GPU, or ILGPU's CPU accelerator for
/// <see cref="Device.GpuEmulated"/>). Bool tensors are stored as one byte per element (0 or 1).
/// </summary>
/// <remarks>
/// The device memory is freed when the storage is garbage collected, or earlier by <see cref="Dispose"/>
/// (<see cref="Gpu.Free"/> on a tensor). The finalizer never touches the device itself: it hands the buffer to its
/// backend, which frees it on the next operation, on a thread that may use the accelerator.
/// </remarks>
/// <typeparam name="T">The element type on the device: float, double, int, long, or byte for Bool.</typeparam>
public sealed class GpuStorage<T> : Storage, IDisposable where T : unmanaged
{
    MemoryBuffer1D<T, Stride1D.Dense>? buffer;
    readonly GpuBackend owner;

    internal GpuStorage(GpuBackend owner, MemoryBuffer1D<T, Stride1D.Dense> buffer, int length, DType dtype)
    {
        this.owner = owner; this.buffer = buffer; Length = length; DType = dtype;
        // Only this storage frees the buffer (never ILGPU's own finalizer, on a thread that may not use the device).
        GC.SuppressFinalize(buffer);
    }

    /// <inheritdoc/>
    public override DType DType { get; }
    /// <inheritdoc/>
    public override Device Device => owner.Device;
    /// <inheritdoc/>
    public override int Length { get; }
    /// <summary>True once the device memory has been freed (by <see cref="Dispose"/>).</summary>
    public bool IsFreed => Volatile.Read(ref buffer) is null;
    /// <summary>Bytes of device memory held (0 once freed).</summary>
    public long SizeInBytes => Volatile.Read(ref buffer)?.LengthInBytes ?? 0;

    /// <summary>The elements as a view; throws if the memory was freed.</summary>
    internal ArrayView<T> View(string op) =>
        (Volatile.Read(ref buffer) ?? throw new TensorException(op, $"the tensor's memory on {Device} was freed (Gpu.Free or Dispose); it can no longer be read")).View;

    /// <summary>Frees the device memory now. Any tensor over this storage can no longer be used (it throws
    /// <see cref="TensorException"/>). Calling it twice does nothing.</summary>
    public void Dispose()
    {
        var b = Interlocked.Exchange(ref buffer, null);
        if (b is not null) owner.Release(b);
        GC.SuppressFinalize(this);
    }

    /// <summary>Hands the buffer to the backend to free on its next operation (never frees on the finalizer thread).</summary>
    ~GpuStorage()
    {
        var b = Interlocked.Exchange(ref buffer, null);
        if (b is not null) owner.ReleaseLater(b);
    }
}
