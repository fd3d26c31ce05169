using FunctionalAD.Backends;
using ILGPU.Runtime;

namespace FunctionalAD.Gpu;

/// <summary>One device ILGPU can run FunctionalAD's kernels on.</summary>
/// <param name="Device">The FunctionalAD device to pass to <c>ToDevice</c>.</param>
/// <param name="Accelerator">"Cuda", "OpenCL" or "CPU" (ILGPU's accelerator type).</param>
/// <param name="Name">The device's own name.</param>
/// <param name="MemoryBytes">Device memory in bytes.</param>
public sealed record GpuDeviceInfo(Device Device, string Accelerator, string Name, long MemoryBytes);

/// <summary>
/// The GPU backend's entry point: <see cref="Register"/> makes <see cref="DeviceKind.Gpu"/> (CUDA first, then
/// OpenCL GPUs) and <see cref="DeviceKind.GpuEmulated"/> (ILGPU's CPU accelerator) usable with <c>ToDevice</c>.
/// </summary>
public static class Gpu
{
    static int registered;

    /// <summary>Registers the GPU device kinds with <see cref="Backend"/>. Cheap and idempotent: the ILGPU context
    /// and accelerators are created when a device is first used.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1) return;
        Backend.Register(DeviceKind.Gpu, index => GpuRuntime.BackendFor(Device.Gpu(index)));
        Backend.Register(DeviceKind.GpuEmulated, _ => GpuRuntime.BackendFor(Device.GpuEmulated));
    }

    /// <summary>The GPUs present, in <c>Device.Gpu(n)</c> order (CUDA, then OpenCL), followed by the emulated device.</summary>
    public static IReadOnlyList<GpuDeviceInfo> Devices()
    {
        var list = new List<GpuDeviceInfo>();
        var gpus = GpuRuntime.Gpus();
        for (int i = 0; i < gpus.Count; i++)
            list.Add(new GpuDeviceInfo(Device.Gpu(i), gpus[i].AcceleratorType.ToString(), gpus[i].Name, gpus[i].MemorySize));
        var cpu = GpuRuntime.Context.GetPreferredDevice(preferCPU: true);
        list.Add(new GpuDeviceInfo(Device.GpuEmulated, AcceleratorType.CPU.ToString(), cpu.Name, cpu.MemorySize));
        return list;
    }

    /// <summary>True when at least one real GPU (CUDA or OpenCL) is present.</summary>
    public static bool IsAvailable => GpuRuntime.Gpus().Count > 0;

    /// <summary>
    /// Frees the device memory under <paramref name="tensor"/> now instead of when it is garbage collected. Every
    /// tensor sharing that storage (views of it) becomes unusable: reading it throws <see cref="TensorException"/>.
    /// Does nothing for a CPU tensor or one already freed.
    /// </summary>
    /// <exception cref="ArgumentNullException">tensor is null.</exception>
    public static void Free(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Value.Storage is IDisposable d) d.Dispose();
    }

    /// <summary>The backend of a GPU device (registers the GPU kinds if needed).</summary>
    /// <exception cref="DeviceMismatchException">the device is not a GPU device, or no such GPU exists.</exception>
    public static GpuBackend BackendFor(Device device)
    {
        if (device.Kind == DeviceKind.Cpu) throw new DeviceMismatchException("gpu", "Device.Cpu has no GPU backend; use Device.Gpu(n) or Device.GpuEmulated");
        Register();
        return (GpuBackend)Backend.For(device);
    }
}
