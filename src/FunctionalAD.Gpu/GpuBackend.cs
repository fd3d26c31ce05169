using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FunctionalAD.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace FunctionalAD.Gpu;

/// <summary>
/// The kernels of one ILGPU accelerator (a CUDA/OpenCL GPU, or ILGPU's CPU accelerator for
/// <see cref="Device.GpuEmulated"/>). Results live in <see cref="GpuStorage{T}"/>; inputs may be strided views.
/// Kernels are compiled on first use and cached for the life of the accelerator. Calls are serialised per device.
/// </summary>
public sealed partial class GpuBackend : IBackend
{
    readonly Accelerator accelerator;
    readonly object gate = new();
    readonly ConcurrentDictionary<(string, Type, Type?), Delegate> kernels = new();
    readonly ConcurrentQueue<MemoryBuffer> releases = new();
    /// <summary>Threads per group for reductions (a power of two) and the matmul tile edge.</summary>
    readonly int groupSize, tile;

    internal GpuBackend(Device device, Accelerator accelerator)
    {
        Device = device;
        this.accelerator = accelerator;
        int g = 1;
        while (g * 2 <= Math.Min(GroupedKernels.MaxGroup, accelerator.MaxNumThreadsPerGroup)) g *= 2;
        groupSize = g;
        int t = 1;
        while ((t * 2) * (t * 2) <= accelerator.MaxNumThreadsPerGroup && t * 2 <= GroupedKernels.MaxTile) t *= 2;
        tile = t;
    }

    /// <inheritdoc/>
    public Device Device { get; }

    /// <summary>The accelerator's name (e.g. "NVIDIA H100", or "CPUAccelerator").</summary>
    public string AcceleratorName => accelerator.Name;

    /// <summary>Waits until every launched kernel has finished (for timing).</summary>
    public void Synchronize() { lock (gate) { accelerator.Bind(); accelerator.Synchronize(); } }

    // ---- memory ------------------------------------------------------------------------------------------------

    long liveBytes;

    /// <summary>Bytes of device memory held by storages that have not been freed yet (for leak checks and
    /// monitoring; buffers of collected tensors count until the next operation frees them).</summary>
    public long LiveBytes => Interlocked.Read(ref liveBytes);

    void Free(MemoryBuffer buffer)
    {
        Interlocked.Add(ref liveBytes, -buffer.LengthInBytes);
        buffer.Dispose();
    }

    internal void Release(MemoryBuffer buffer)
    {
        lock (gate) { accelerator.Bind(); accelerator.Synchronize(); Free(buffer); }
    }

    internal void ReleaseLater(MemoryBuffer buffer) => releases.Enqueue(buffer);

    /// <summary>Binds the accelerator to this thread and frees buffers whose storage was collected. Call inside the gate.</summary>
    void Enter()
    {
        accelerator.Bind();
        if (releases.IsEmpty) return;
        accelerator.Synchronize();
        while (releases.TryDequeue(out var b)) Free(b);
    }

    GpuStorage<T> Allocate<T>(int length, DType dtype) where T : unmanaged
    {
        MemoryBuffer1D<T, Stride1D.Dense> buffer;
        try { buffer = accelerator.Allocate1D<T>(Math.Max(1, length)); }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            // Memory held only by unreachable tensors comes back after a collection; try once more.
            GC.Collect(); GC.WaitForPendingFinalizers();
            Enter();
            try { buffer = accelerator.Allocate1D<T>(Math.Max(1, length)); }
            catch (Exception e2) when (e2 is OutOfMemoryException or AcceleratorException)
            {
                throw new TensorException("gpu", $"out of memory on {Device} allocating {length} x {dtype}: {e2.Message}");
            }
        }
        Interlocked.Add(ref liveBytes, buffer.LengthInBytes);
        return new GpuStorage<T>(this, buffer, length, dtype);
    }

    static ArrayView<T> View<T>(RawTensor x, string op) where T : unmanaged => x.Storage switch
    {
        GpuStorage<T> s => s.View(op),
        _ => throw new DeviceMismatchException(op, $"expected a tensor on a GPU device, got one on {x.Device} ({x.DType})"),
    };

    void CheckDevice(string op, RawTensor x)
    {
        if (x.Device != Device) throw new DeviceMismatchException(op, $"operand is on {x.Device}, this backend computes on {Device}; move it with ToDevice");
    }

    /// <summary>A loaded kernel, compiled once per accelerator.</summary>
    TKernel Kernel<TKernel>(string name, Func<Accelerator, TKernel> load) where TKernel : Delegate =>
        (TKernel)kernels.GetOrAdd((name, typeof(TKernel), null), static (_, arg) => arg.load(arg.accelerator), (load, accelerator));

    /// <summary>A loaded kernel of the op <typeparamref name="TOp"/> (its delegate type alone does not name the op).</summary>
    TKernel Kernel<TOp, TKernel>(string name, Func<Accelerator, TKernel> load) where TKernel : Delegate =>
        (TKernel)kernels.GetOrAdd((name, typeof(TKernel), typeof(TOp)), static (_, arg) => arg.load(arg.accelerator), (load, accelerator));

    // ---- transfer ----------------------------------------------------------------------------------------------

    /// <inheritdoc/>
    public RawTensor FromArray<T>(T[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        lock (gate)
        {
            Enter();
            object d = data;
            return d switch
            {
                bool[] b => Upload(MemoryMarshal.Cast<bool, byte>(b), shape, DType.Bool),
                float[] f => Upload<float>(f, shape, DType.Float32),
                double[] f => Upload<double>(f, shape, DType.Float64),
                int[] i => Upload<int>(i, shape, DType.Int32),
                long[] i => Upload<long>(i, shape, DType.Int64),
                _ => throw new DTypeMismatchException("toDevice", $"element type {typeof(T).Name} is not supported"),
            };
        }
    }

    RawTensor Upload<TDev>(ReadOnlySpan<TDev> data, int[] shape, DType dtype) where TDev : unmanaged
    {
        var s = Allocate<TDev>(data.Length, dtype);
        if (data.Length > 0)
        {
            ArrayView1D<TDev, Stride1D.Dense> view = s.View("toDevice").SubView(0, data.Length);
            view.CopyFromCPU(accelerator.DefaultStream, data);
        }
        return new RawTensor(s, shape);
    }

    /// <inheritdoc/>
    public T[] ToArray<T>(RawTensor x)
    {
        lock (gate)
        {
            Enter();
            var c = Contiguous(x);
            var r = new T[c.Numel];
            if (r.Length == 0) return r;
            return GpuDTypeDispatch.Any<DownloadKernel<T>, T[]>(c.DType, new(this, c, r));
        }
    }

    /// <summary>Copies contiguous c into r, whose element type must be the dtype's (bool[] for Bool).</summary>
    readonly struct DownloadKernel<T>(GpuBackend b, RawTensor c, T[] r) : IGpuElementKernel<T[]>
    {
        public T[] Run<TDev, TOps>() where TDev : unmanaged where TOps : struct, IElementOps<TDev> { b.Download<TDev, T>(c, r); return r; }
    }

    void Download<TDev, T>(RawTensor c, T[] r) where TDev : unmanaged
    {
        Span<TDev> target = (object)r switch
        {
            TDev[] same => same,
            bool[] b when typeof(TDev) == typeof(byte) => MemoryMarshal.Cast<bool, TDev>(b.AsSpan()),
            _ => throw new DTypeMismatchException("toArray", $"cannot read a {c.DType} tensor as {typeof(T).Name}[]"),
        };
        ArrayView1D<TDev, Stride1D.Dense> view = View<TDev>(c, "toArray").SubView(c.Offset, c.Numel);
        view.CopyToCPU(accelerator.DefaultStream, target);
        accelerator.DefaultStream.Synchronize();
    }
}
