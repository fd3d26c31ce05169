using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86Fma = System.Runtime.Intrinsics.X86.Fma;

namespace FunctionalAD.Backends;

/// <summary>
/// A GEMM micro-kernel: the register-tiled inner product of one packed MR-row panel of A and one packed NR-column
/// panel of B. The math lives here; <see cref="Gemm"/> does the blocking, packing and threading around it.
/// </summary>
internal interface IGemmKernel<T> where T : unmanaged
{
    /// <summary>Rows of C computed per call.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of C computed per call.</summary>
    static abstract int NR { get; }

    /// <summary>
    /// c[i * ldc + j] += Σ_p a[p * MR + i] · b[p * NR + j] for i &lt; MR, j &lt; NR, p &lt; kc (= with
    /// <paramref name="store"/>: c's previous contents are neither read nor kept, for a fresh result).
    /// a and b are packed panels (kc·MR and kc·NR elements); c points at the tile's top-left element.
    /// </summary>
    static abstract void Run(int kc, ref T a, ref T b, ref T c, nint ldc, bool store);
}

/// <summary>Vector256 + FMA kernel, 6 rows × 2 vectors (6×16 for Float32, 6×8 for Float64): 12 accumulators, 2 B
/// vectors and one broadcast of A fit AVX2's 16 registers.</summary>
internal readonly struct Vector256Kernel<T> : IGemmKernel<T> where T : unmanaged
{
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;

    /// <summary>Usable on this machine: 256-bit vectors and fused multiply-add in hardware.</summary>
    public static bool IsSupported => Vector256.IsHardwareAccelerated && X86Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<T> Fma(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float)) return X86Fma.MultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return X86Fma.MultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, ref T a, ref T b, ref T c, nint ldc, bool store)
    {
        nint w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                     c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.LoadUnsafe(ref b);
            var b1 = Vector256.LoadUnsafe(ref b, (nuint)w);
            var a0 = Vector256.Create(a);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01);
            var a1 = Vector256.Create(Unsafe.Add(ref a, 1));
            c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11);
            var a2 = Vector256.Create(Unsafe.Add(ref a, 2));
            c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21);
            var a3 = Vector256.Create(Unsafe.Add(ref a, 3));
            c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31);
            var a4 = Vector256.Create(Unsafe.Add(ref a, 4));
            c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41);
            var a5 = Vector256.Create(Unsafe.Add(ref a, 5));
            c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51);
            a = ref Unsafe.Add(ref a, 6);
            b = ref Unsafe.Add(ref b, 2 * w);
        }
        AddRow(ref c, w, c00, c01, store);
        AddRow(ref Unsafe.Add(ref c, ldc), w, c10, c11, store);
        AddRow(ref Unsafe.Add(ref c, 2 * ldc), w, c20, c21, store);
        AddRow(ref Unsafe.Add(ref c, 3 * ldc), w, c30, c31, store);
        AddRow(ref Unsafe.Add(ref c, 4 * ldc), w, c40, c41, store);
        AddRow(ref Unsafe.Add(ref c, 5 * ldc), w, c50, c51, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRow(ref T row, nint w, Vector256<T> v0, Vector256<T> v1, bool store)
    {
        if (!store) { v0 = Vector256.LoadUnsafe(ref row) + v0; v1 = Vector256.LoadUnsafe(ref row, (nuint)w) + v1; }
        v0.StoreUnsafe(ref row);
        v1.StoreUnsafe(ref row, (nuint)w);
    }
}

/// <summary>Vector512 kernel, 8 rows × 2 vectors (8×32 for Float32, 8×16 for Float64): 16 accumulators of AVX-512's
/// 32 registers. Used only where the runtime reports Vector512 as accelerated (it does not on cores that slow down
/// for 512-bit work).</summary>
internal readonly struct Vector512Kernel<T> : IGemmKernel<T> where T : unmanaged
{
    public static int MR => 8;
    public static int NR => 2 * Vector512<T>.Count;

    /// <summary>Usable on this machine: 512-bit vectors in hardware.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> Fma(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, ref T a, ref T b, ref T c, nint ldc, bool store)
    {
        nint w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                     c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
                     c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.LoadUnsafe(ref b);
            var b1 = Vector512.LoadUnsafe(ref b, (nuint)w);
            var a0 = Vector512.Create(a);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01);
            var a1 = Vector512.Create(Unsafe.Add(ref a, 1));
            c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11);
            var a2 = Vector512.Create(Unsafe.Add(ref a, 2));
            c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21);
            var a3 = Vector512.Create(Unsafe.Add(ref a, 3));
            c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31);
            var a4 = Vector512.Create(Unsafe.Add(ref a, 4));
            c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41);
            var a5 = Vector512.Create(Unsafe.Add(ref a, 5));
            c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51);
            var a6 = Vector512.Create(Unsafe.Add(ref a, 6));
            c60 = Fma(a6, b0, c60); c61 = Fma(a6, b1, c61);
            var a7 = Vector512.Create(Unsafe.Add(ref a, 7));
            c70 = Fma(a7, b0, c70); c71 = Fma(a7, b1, c71);
            a = ref Unsafe.Add(ref a, 8);
            b = ref Unsafe.Add(ref b, 2 * w);
        }
        AddRow(ref c, w, c00, c01, store);
        AddRow(ref Unsafe.Add(ref c, ldc), w, c10, c11, store);
        AddRow(ref Unsafe.Add(ref c, 2 * ldc), w, c20, c21, store);
        AddRow(ref Unsafe.Add(ref c, 3 * ldc), w, c30, c31, store);
        AddRow(ref Unsafe.Add(ref c, 4 * ldc), w, c40, c41, store);
        AddRow(ref Unsafe.Add(ref c, 5 * ldc), w, c50, c51, store);
        AddRow(ref Unsafe.Add(ref c, 6 * ldc), w, c60, c61, store);
        AddRow(ref Unsafe.Add(ref c, 7 * ldc), w, c70, c71, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRow(ref T row, nint w, Vector512<T> v0, Vector512<T> v1, bool store)
    {
        if (!store) { v0 = Vector512.LoadUnsafe(ref row) + v0; v1 = Vector512.LoadUnsafe(ref row, (nuint)w) + v1; }
        v0.StoreUnsafe(ref row);
        v1.StoreUnsafe(ref row, (nuint)w);
    }
}

/// <summary>Portable kernel, 4 rows × 2 Vector128 (4×8 for Float32, 4×4 for Float64); Vector128 is emulated in
/// software where the hardware has no 128-bit SIMD, so this is also the scalar fallback.</summary>
internal readonly struct Vector128Kernel<T> : IGemmKernel<T> where T : unmanaged
{
    public static int MR => 4;
    public static int NR => 2 * Vector128<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, ref T a, ref T b, ref T c, nint ldc, bool store)
    {
        nint w = Vector128<T>.Count;
        Vector128<T> c00 = default, c01 = default, c10 = default, c11 = default,
                     c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.LoadUnsafe(ref b);
            var b1 = Vector128.LoadUnsafe(ref b, (nuint)w);
            var a0 = Vector128.Create(a);
            c00 += a0 * b0; c01 += a0 * b1;
            var a1 = Vector128.Create(Unsafe.Add(ref a, 1));
            c10 += a1 * b0; c11 += a1 * b1;
            var a2 = Vector128.Create(Unsafe.Add(ref a, 2));
            c20 += a2 * b0; c21 += a2 * b1;
            var a3 = Vector128.Create(Unsafe.Add(ref a, 3));
            c30 += a3 * b0; c31 += a3 * b1;
            a = ref Unsafe.Add(ref a, 4);
            b = ref Unsafe.Add(ref b, 2 * w);
        }
        AddRow(ref c, w, c00, c01, store);
        AddRow(ref Unsafe.Add(ref c, ldc), w, c10, c11, store);
        AddRow(ref Unsafe.Add(ref c, 2 * ldc), w, c20, c21, store);
        AddRow(ref Unsafe.Add(ref c, 3 * ldc), w, c30, c31, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRow(ref T row, nint w, Vector128<T> v0, Vector128<T> v1, bool store)
    {
        if (!store) { v0 = Vector128.LoadUnsafe(ref row) + v0; v1 = Vector128.LoadUnsafe(ref row, (nuint)w) + v1; }
        v0.StoreUnsafe(ref row);
        v1.StoreUnsafe(ref row, (nuint)w);
    }
}
