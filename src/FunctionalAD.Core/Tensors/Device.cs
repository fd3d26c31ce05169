namespace FunctionalAD;

/// <summary>The kind of place a tensor's storage lives.</summary>
public enum DeviceKind
{
    /// <summary>Managed memory, computed by the CPU backend.</summary>
    Cpu,
    /// <summary>A GPU (CUDA, then OpenCL) through ILGPU.</summary>
    Gpu,
    /// <summary>ILGPU's CPU accelerator: the GPU kernels run on the CPU (for testing without a GPU).</summary>
    GpuEmulated,
}

/// <summary>Where a tensor lives: <see cref="Cpu"/> or <see cref="Gpu"/>(n). Moving between devices is explicit (<c>ToDevice</c>).</summary>
public readonly record struct Device(DeviceKind Kind, int Index)
{
    /// <summary>The CPU (managed memory).</summary>
    public static readonly Device Cpu = new(DeviceKind.Cpu, 0);

    /// <summary>GPU number <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">index is negative.</exception>
    public static Device Gpu(int index = 0) =>
        index < 0 ? throw new ArgumentOutOfRangeException(nameof(index), index, "Device.Gpu: index must be >= 0") : new(DeviceKind.Gpu, index);

    /// <summary>The GPU kernels run on ILGPU's CPU accelerator (a device for tests on machines without a GPU).</summary>
    public static readonly Device GpuEmulated = new(DeviceKind.GpuEmulated, 0);

    /// <summary>"cpu", "gpu:0", "gpu-emulated".</summary>
    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Gpu => $"gpu:{Index}",
        _ => "gpu-emulated",
    };
}
