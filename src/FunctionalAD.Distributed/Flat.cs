namespace FunctionalAD;

/// <summary>Tensors flattened into one host buffer per dtype, for one collective per dtype.</summary>
internal static class Flat
{
    public interface IBufferAction
    {
        void Run<T>(Span<T> buffer) where T : unmanaged;
    }

    public static void Validate(string op, IReadOnlyList<Tensor> tensors, bool floatOnly)
    {
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i] ?? throw new ArgumentNullException(nameof(tensors), $"{op}: tensor {i} is null");
            if (t.DType == DType.Bool)
                throw new DTypeMismatchException(op, $"tensor {i} (shape {Shape.Format(t.Shape)}) is Bool; Int32, Int64, Float32 and Float64 tensors can be reduced");
            if (floatOnly && !t.DType.IsFloatingPoint())
                throw new DTypeMismatchException(op, $"Mean needs floating-point tensors; tensor {i} (shape {Shape.Format(t.Shape)}) is {t.DType}");
        }
    }

    /// <summary>For each dtype present (in the fixed order Int32, Int64, Float32, Float64, so every rank agrees):
    /// the tensors of that dtype copied into one buffer, <paramref name="action"/> run on it, and new tensors cut from it.</summary>
    public static Tensor[] PerDType<A>(IReadOnlyList<Tensor> tensors, A action) where A : struct, IBufferAction
    {
        var result = new Tensor[tensors.Count];
        Run<int, A>(DType.Int32, tensors, result, action);
        Run<long, A>(DType.Int64, tensors, result, action);
        Run<float, A>(DType.Float32, tensors, result, action);
        Run<double, A>(DType.Float64, tensors, result, action);
        return result;
    }

    static void Run<T, A>(DType dtype, IReadOnlyList<Tensor> tensors, Tensor[] result, A action) where T : unmanaged where A : struct, IBufferAction
    {
        long total = 0;
        bool any = false;
        foreach (var t in tensors) if (t.DType == dtype) { total += t.Numel; any = true; }
        if (!any) return;
        var buffer = new T[total];
        long offset = 0;
        foreach (var t in tensors)
        {
            if (t.DType != dtype) continue;
            t.StopGradient().ToArray<T>().CopyTo(buffer, offset);
            offset += t.Numel;
        }
        action.Run<T>(buffer);
        offset = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t.DType != dtype) continue;
            var part = new T[t.Numel];
            Array.Copy(buffer, offset, part, 0, part.Length);
            result[i] = Tensor.FromArray(part, t.Shape).ToDevice(t.Device);
            offset += t.Numel;
        }
    }
}
