using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace FunctionalAD.Gpu;

/// <summary>
/// The one ILGPU <see cref="Context"/> of the process (created on first use) and one accelerator and backend per
/// device. Device.Gpu(n) numbers the CUDA devices first, then OpenCL GPUs.
/// </summary>
internal static class GpuRuntime
{
    static readonly Lazy<Context> context = new(CreateContext, LazyThreadSafetyMode.ExecutionAndPublication);
    static readonly ConcurrentDictionary<Device, Lazy<GpuBackend>> backends = new();

    public static Context Context => context.Value;

    static Context CreateContext() => Context.Create(builder => builder
        .Cuda()
        .OpenCL(d => d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU)
        // The emulated device: 2 threads per warp, 2 warps per group (groups of 4, 2x2 matmul tiles: the reductions
        // still take several levels), one simulated multiprocessor. Each simulated GPU thread is an OS thread that
        // yields while it waits, so the kernel time grows with their number: on 2 cores the GPU test list took
        // 197 s wall / 180 s sys with 32 threads (one multiprocessor per core), 158 s / 102 s with 16 (4x4x1), 42-51 s
        // / 25-27 s with these 4 (same host, 2026-11-29). ILGPU's Sequential mode was slower still (320 s / 173 s).
        .CPU(new CPUDevice(2, 2, 1))
        .EnableAlgorithms()
        .Optimize(OptimizationLevel.O1));

    /// <summary>The GPUs in Device.Gpu order: CUDA devices, then OpenCL GPUs.</summary>
    public static IReadOnlyList<ILGPU.Runtime.Device> Gpus()
    {
        var list = new List<ILGPU.Runtime.Device>();
        foreach (var d in Context.GetCudaDevices()) list.Add(d);
        foreach (var d in Context.GetCLDevices()) list.Add(d);
        return list;
    }

    public static GpuBackend BackendFor(Device device) =>
        backends.GetOrAdd(device, d => new Lazy<GpuBackend>(() => Create(d), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    static GpuBackend Create(Device device)
    {
        if (device.Kind == DeviceKind.GpuEmulated) return new GpuBackend(device, Context.GetCPUDevice(0).CreateAccelerator(Context));
        var gpus = Gpus();
        if (device.Kind != DeviceKind.Gpu || device.Index >= gpus.Count)
        {
            backends.TryRemove(device, out _);
            throw new DeviceMismatchException("toDevice",
                $"{device} does not exist: ILGPU found {Describe(gpus)}; use Device.GpuEmulated to run the GPU kernels on the CPU");
        }
        return new GpuBackend(device, gpus[device.Index].CreateAccelerator(Context));
    }

    static string Describe(IReadOnlyList<ILGPU.Runtime.Device> gpus)
    {
        if (gpus.Count == 0) return "no CUDA or OpenCL GPU (only ILGPU's CPU accelerator)";
        var parts = new string[gpus.Count];
        for (int i = 0; i < gpus.Count; i++) parts[i] = $"gpu:{i} = {gpus[i].AcceleratorType} {gpus[i].Name}";
        return $"{gpus.Count} GPU(s): " + string.Join(", ", parts);
    }
}
