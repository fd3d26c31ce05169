using System.Reflection;
using FunctionalAD.Autodiff;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FunctionalAD.Gpu;

/// <summary>
/// Compiles every kernel instantiation the backend launches to PTX, without a GPU. ILGPU's CPU accelerator runs a
/// kernel's .NET code directly, so the emulated device alone would not catch code that ILGPU cannot translate for
/// CUDA (an unsupported call, a managed allocation); this does.
/// </summary>
internal static class KernelCheck
{
    /// <summary>Each dtype's element type, ops and the math its elementwise kernels use (none for Bool), as
    /// <see cref="GpuDTypeDispatch"/> pairs them.</summary>
    static readonly (Type T, Type Ops, Type? Math)[] All =
    [
        (typeof(float), typeof(Float32Ops), typeof(Float32Ops)), (typeof(double), typeof(Float64Ops), typeof(Float64Ops)),
        (typeof(int), typeof(Int32Ops), typeof(GpuIntegerMath<int, Int32Ops>)), (typeof(long), typeof(Int64Ops), typeof(GpuIntegerMath<long, Int64Ops>)),
        (typeof(byte), typeof(BoolOps), null),
    ];

    /// <summary>Every (name, method, explicitly grouped) the backend can load.</summary>
    public static IEnumerable<(string Name, MethodInfo Method, bool Grouped)> Instantiations()
    {
        MethodInfo K(string name) => typeof(Kernels).GetMethod(name)!;
        MethodInfo G(string name) => typeof(GroupedKernels).GetMethod(name)!;
        foreach (var (t, ops, math) in All)
        {
            foreach (var n in new[] { "Fill", "Gather", "Where", "ScatterAxis", "IndexSelect" })
                yield return ($"{n}<{t.Name}>", K(n).MakeGenericMethod(t), false);
            yield return ($"Compare<{t.Name}>", K("Compare").MakeGenericMethod(t, ops), false);
            foreach (var (u, uops, _) in All)
                if (u != t) yield return ($"Cast<{t.Name},{u.Name}>", K("Cast").MakeGenericMethod(t, ops, u, uops), false);
            if (math is null) continue;
            yield return ($"IndexAdd<{t.Name}>", K("IndexAdd").MakeGenericMethod(t, ops), false);
            bool floating = t == typeof(float) || t == typeof(double);
            foreach (var op in OpRegistry.UnaryTypes)
            {
                if (!floating && !OpRegistry.AcceptsIntegers(op)) continue;
                yield return ($"Unary<{t.Name},{op.Name}>", K("Unary").MakeGenericMethod(t, math, op), false);
                if (floating && !OpRegistry.ZeroDerivative(op)) yield return ($"UnaryDerivative<{t.Name},{op.Name}>", K("UnaryDerivative").MakeGenericMethod(t, math, op), false);
            }
            foreach (var op in OpRegistry.BinaryTypes)
                if (floating || OpRegistry.AcceptsIntegers(op))
                    yield return ($"Binary<{t.Name},{op.Name}>", K("Binary").MakeGenericMethod(t, math, op), false);
            yield return ($"ReduceRows<{t.Name}>", G("ReduceRows").MakeGenericMethod(t, ops), true);
            if (t != typeof(int) && t != typeof(long))
                yield return ($"MatMul<{t.Name}>", G("MatMul").MakeGenericMethod(t, ops), true);
        }
    }

    /// <summary>Compiles each instantiation for sm_80; returns the ones that failed with ILGPU's message.</summary>
    public static List<string> CompileAllToPtx()
    {
        var arch = CudaArchitecture.SM_80;
        using var backend = new PTXBackend(GpuRuntime.Context, new CudaCapabilityContext(arch), arch, CudaInstructionSet.ISA_70, null);
        var failures = new List<string>();
        foreach (var (name, method, grouped) in Instantiations())
        {
            try
            {
                var entry = grouped ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
                var compiled = (PTXCompiledKernel)backend.Compile(entry, default(KernelSpecialization));
                if (string.IsNullOrEmpty(compiled.PTXAssembly)) failures.Add($"{name}: empty PTX");
            }
            catch (Exception e)
            {
                failures.Add($"{name}: {e.GetType().Name}: {e.Message}{(e.InnerException is { } i ? " / " + i.Message : "")}");
            }
        }
        return failures;
    }
}
