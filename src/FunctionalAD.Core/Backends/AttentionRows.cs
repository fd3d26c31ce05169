using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FunctionalAD.Backends;

/// <summary>
/// The row steps of the CPU attention kernel, each one pass over a row of scores in L1, 512- or 256-bit wide as the
/// machine runs them (a scalar tail after): the exponentials and their sum in one pass after the row's maximum, and
/// softmax's cotangent in one pass instead of three TensorPrimitives calls.
/// </summary>
internal static class AttentionRows
{
    /// <summary>row[j] = exp(scale·row[j] − shift), shift = the largest scale·row[j] (so no term overflows); returns Σ.</summary>
    public static T ExpShifted<T>(Span<T> row, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T shift = scale * (scale >= T.Zero ? TensorPrimitives.Max<T>(row) : TensorPrimitives.Min<T>(row));
        ref T r = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        T total = T.Zero;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            Vector512<T> s = Vector512.Create(scale), m = Vector512.Create(shift), sum = Vector512<T>.Zero;
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var y = Exp(Vector512.LoadUnsafe(ref r, (nuint)i) * s - m);
                y.StoreUnsafe(ref r, (nuint)i);
                sum += y;
            }
            total = Vector512.Sum(sum);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            Vector256<T> s = Vector256.Create(scale), m = Vector256.Create(shift), sum = Vector256<T>.Zero;
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var y = Exp(Vector256.LoadUnsafe(ref r, (nuint)i) * s - m);
                y.StoreUnsafe(ref r, (nuint)i);
                sum += y;
            }
            total = Vector256.Sum(sum);
        }
        for (; i < n; i++)
        {
            T y = T.Exp(Unsafe.Add(ref r, i) * scale - shift);
            Unsafe.Add(ref r, i) = y;
            total += y;
        }
        return total;
    }

    /// <summary>ds[j] = (ds[j] − d)·p[j]·scale: softmax's cotangent times the scores' scale.</summary>
    public static void ScoresCotangent<T>(Span<T> ds, ReadOnlySpan<T> p, T d, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T r = ref MemoryMarshal.GetReference(ds);
        ref T pr = ref MemoryMarshal.GetReference(p);
        int n = ds.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            Vector512<T> vd = Vector512.Create(d), s = Vector512.Create(scale);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                ((Vector512.LoadUnsafe(ref r, (nuint)i) - vd) * Vector512.LoadUnsafe(ref pr, (nuint)i) * s).StoreUnsafe(ref r, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            Vector256<T> vd = Vector256.Create(d), s = Vector256.Create(scale);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                ((Vector256.LoadUnsafe(ref r, (nuint)i) - vd) * Vector256.LoadUnsafe(ref pr, (nuint)i) * s).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref r, i) = (Unsafe.Add(ref r, i) - d) * Unsafe.Add(ref pr, i) * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> Exp<T>(Vector512<T> x) where T : unmanaged =>
        typeof(T) == typeof(float) ? Vector512.Exp(x.AsSingle()).As<float, T>() : Vector512.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<T> Exp<T>(Vector256<T> x) where T : unmanaged =>
        typeof(T) == typeof(float) ? Vector256.Exp(x.AsSingle()).As<float, T>() : Vector256.Exp(x.AsDouble()).As<double, T>();
}
