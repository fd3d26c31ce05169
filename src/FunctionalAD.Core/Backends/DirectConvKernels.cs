using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86Fma = System.Runtime.Intrinsics.X86.Fma;

namespace FunctionalAD.Backends;

/// <summary>
/// The register tiles of the direct (implicit-GEMM) convolution. Both work on a zero-padded input image laid out
/// flat, [C][Hp][Wp] row-major, where kernel tap t = (ci, i, j) of output position q (= oy·Wp + ox, columns ox ≥ OutWidth
/// being junk) reads element q + offsets[t]; the vector dimension runs along q. <see cref="DirectConv"/> does the
/// padding, blocking and threading around them.
/// </summary>
internal interface IDirectConvKernel<T> where T : unmanaged
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Lanes { get; }

    /// <summary>Output channels per forward tile.</summary>
    static abstract int MR { get; }

    /// <summary>Output positions per forward tile (a few vectors).</summary>
    static abstract int Width { get; }

    /// <summary>Output channels per weight-gradient tile.</summary>
    static abstract int GradRows { get; }

    /// <summary>Kernel taps per weight-gradient tile.</summary>
    static abstract int GradTaps { get; }

    /// <summary>
    /// y[r·ldy + q] = Σ_t w[t·MR + r] · x[offsets[t] + q] for r &lt; MR, q &lt; Width, t &lt; taps: w is the weight block
    /// packed tap-major, x points at the tile's first output position.
    /// </summary>
    static abstract void Forward(int taps, ref T w, ref T x, ref int offsets, ref T y, nint ldy);

    /// <summary>As <see cref="Forward"/> for one vector of positions (<see cref="Lanes"/>): the positions past the last
    /// full tile, so a small image does not compute most of a tile for nothing.</summary>
    static abstract void ForwardNarrow(int taps, ref T w, ref T x, ref int offsets, ref T y, nint ldy);

    /// <summary>
    /// dw[r·ldw + t] += Σ_m Σ_q g[m·gImage + r·ldg + q] · x[m·xImage + offsets[t] + q] for r &lt; GradRows, t &lt;
    /// GradTaps, m &lt; images, q &lt; length (a multiple of <see cref="Lanes"/>): the sums stay in registers across a group
    /// of small images, so the horizontal adds at the end are paid once per group.
    /// </summary>
    static abstract void WeightGrad(int length, int images, ref T g, nint ldg, nint gImage, ref T x, nint xImage, ref int offsets, ref T dw, nint ldw);
}

/// <summary>Vector512 tiles: forward 8 channels × 3 vectors (24 accumulators, 3 input vectors, one broadcast of AVX-512's
/// 32 registers); weight gradient 4 channels × 6 taps (24 accumulators, 4 cotangent vectors, one input vector).</summary>
internal readonly struct DirectConv512<T> : IDirectConvKernel<T> where T : unmanaged
{
    public static int Lanes => Vector512<T>.Count;
    public static int MR => 8;
    public static int Width => 3 * Vector512<T>.Count;
    public static int GradRows => 4;
    public static int GradTaps => 6;

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
    public static void Forward(int taps, ref T w, ref T x, ref int offsets, ref T y, nint ldy)
    {
        nuint v = (nuint)Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default,
                     c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default,
                     c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default,
                     c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        for (int t = 0; t < taps; t++)
        {
            ref T row = ref Unsafe.Add(ref x, Unsafe.Add(ref offsets, t));
            var x0 = Vector512.LoadUnsafe(ref row);
            var x1 = Vector512.LoadUnsafe(ref row, v);
            var x2 = Vector512.LoadUnsafe(ref row, 2 * v);
            var a = Vector512.Create(w);
            c00 = Fma(a, x0, c00); c01 = Fma(a, x1, c01); c02 = Fma(a, x2, c02);
            a = Vector512.Create(Unsafe.Add(ref w, 1));
            c10 = Fma(a, x0, c10); c11 = Fma(a, x1, c11); c12 = Fma(a, x2, c12);
            a = Vector512.Create(Unsafe.Add(ref w, 2));
            c20 = Fma(a, x0, c20); c21 = Fma(a, x1, c21); c22 = Fma(a, x2, c22);
            a = Vector512.Create(Unsafe.Add(ref w, 3));
            c30 = Fma(a, x0, c30); c31 = Fma(a, x1, c31); c32 = Fma(a, x2, c32);
            a = Vector512.Create(Unsafe.Add(ref w, 4));
            c40 = Fma(a, x0, c40); c41 = Fma(a, x1, c41); c42 = Fma(a, x2, c42);
            a = Vector512.Create(Unsafe.Add(ref w, 5));
            c50 = Fma(a, x0, c50); c51 = Fma(a, x1, c51); c52 = Fma(a, x2, c52);
            a = Vector512.Create(Unsafe.Add(ref w, 6));
            c60 = Fma(a, x0, c60); c61 = Fma(a, x1, c61); c62 = Fma(a, x2, c62);
            a = Vector512.Create(Unsafe.Add(ref w, 7));
            c70 = Fma(a, x0, c70); c71 = Fma(a, x1, c71); c72 = Fma(a, x2, c72);
            w = ref Unsafe.Add(ref w, 8);
        }
        Store(ref y, v, c00, c01, c02);
        Store(ref Unsafe.Add(ref y, ldy), v, c10, c11, c12);
        Store(ref Unsafe.Add(ref y, 2 * ldy), v, c20, c21, c22);
        Store(ref Unsafe.Add(ref y, 3 * ldy), v, c30, c31, c32);
        Store(ref Unsafe.Add(ref y, 4 * ldy), v, c40, c41, c42);
        Store(ref Unsafe.Add(ref y, 5 * ldy), v, c50, c51, c52);
        Store(ref Unsafe.Add(ref y, 6 * ldy), v, c60, c61, c62);
        Store(ref Unsafe.Add(ref y, 7 * ldy), v, c70, c71, c72);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardNarrow(int taps, ref T w, ref T x, ref int offsets, ref T y, nint ldy)
    {
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int t = 0; t < taps; t++)
        {
            var x0 = Vector512.LoadUnsafe(ref Unsafe.Add(ref x, Unsafe.Add(ref offsets, t)));
            c0 = Fma(Vector512.Create(w), x0, c0);
            c1 = Fma(Vector512.Create(Unsafe.Add(ref w, 1)), x0, c1);
            c2 = Fma(Vector512.Create(Unsafe.Add(ref w, 2)), x0, c2);
            c3 = Fma(Vector512.Create(Unsafe.Add(ref w, 3)), x0, c3);
            c4 = Fma(Vector512.Create(Unsafe.Add(ref w, 4)), x0, c4);
            c5 = Fma(Vector512.Create(Unsafe.Add(ref w, 5)), x0, c5);
            c6 = Fma(Vector512.Create(Unsafe.Add(ref w, 6)), x0, c6);
            c7 = Fma(Vector512.Create(Unsafe.Add(ref w, 7)), x0, c7);
            w = ref Unsafe.Add(ref w, 8);
        }
        c0.StoreUnsafe(ref y); c1.StoreUnsafe(ref Unsafe.Add(ref y, ldy)); c2.StoreUnsafe(ref Unsafe.Add(ref y, 2 * ldy));
        c3.StoreUnsafe(ref Unsafe.Add(ref y, 3 * ldy)); c4.StoreUnsafe(ref Unsafe.Add(ref y, 4 * ldy)); c5.StoreUnsafe(ref Unsafe.Add(ref y, 5 * ldy));
        c6.StoreUnsafe(ref Unsafe.Add(ref y, 6 * ldy)); c7.StoreUnsafe(ref Unsafe.Add(ref y, 7 * ldy));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(ref T row, nuint v, Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        a.StoreUnsafe(ref row); b.StoreUnsafe(ref row, v); c.StoreUnsafe(ref row, 2 * v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGrad(int length, int images, ref T g, nint ldg, nint gImage, ref T x, nint xImage, ref int offsets, ref T dw, nint ldw)
    {
        Vector512<T> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default, a05 = default,
                     a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default,
                     a20 = default, a21 = default, a22 = default, a23 = default, a24 = default, a25 = default,
                     a30 = default, a31 = default, a32 = default, a33 = default, a34 = default, a35 = default;
        for (int m = 0; m < images; m++)
        {
            ref T g0 = ref Unsafe.Add(ref g, m * gImage); ref T g1 = ref Unsafe.Add(ref g0, ldg); ref T g2 = ref Unsafe.Add(ref g0, 2 * ldg); ref T g3 = ref Unsafe.Add(ref g0, 3 * ldg);
            ref T xm = ref Unsafe.Add(ref x, m * xImage);
            ref T x0 = ref Unsafe.Add(ref xm, offsets); ref T x1 = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 1));
            ref T x2 = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 2)); ref T x3 = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 3));
            ref T x4 = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 4)); ref T x5 = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 5));
            for (nuint q = 0; q < (nuint)length; q += (nuint)Vector512<T>.Count)
            {
                var r0 = Vector512.LoadUnsafe(ref g0, q); var r1 = Vector512.LoadUnsafe(ref g1, q);
                var r2 = Vector512.LoadUnsafe(ref g2, q); var r3 = Vector512.LoadUnsafe(ref g3, q);
                var b = Vector512.LoadUnsafe(ref x0, q);
                a00 = Fma(r0, b, a00); a10 = Fma(r1, b, a10); a20 = Fma(r2, b, a20); a30 = Fma(r3, b, a30);
                b = Vector512.LoadUnsafe(ref x1, q);
                a01 = Fma(r0, b, a01); a11 = Fma(r1, b, a11); a21 = Fma(r2, b, a21); a31 = Fma(r3, b, a31);
                b = Vector512.LoadUnsafe(ref x2, q);
                a02 = Fma(r0, b, a02); a12 = Fma(r1, b, a12); a22 = Fma(r2, b, a22); a32 = Fma(r3, b, a32);
                b = Vector512.LoadUnsafe(ref x3, q);
                a03 = Fma(r0, b, a03); a13 = Fma(r1, b, a13); a23 = Fma(r2, b, a23); a33 = Fma(r3, b, a33);
                b = Vector512.LoadUnsafe(ref x4, q);
                a04 = Fma(r0, b, a04); a14 = Fma(r1, b, a14); a24 = Fma(r2, b, a24); a34 = Fma(r3, b, a34);
                b = Vector512.LoadUnsafe(ref x5, q);
                a05 = Fma(r0, b, a05); a15 = Fma(r1, b, a15); a25 = Fma(r2, b, a25); a35 = Fma(r3, b, a35);
            }
        }
        AddSums(ref dw, a00, a01, a02, a03, a04, a05);
        AddSums(ref Unsafe.Add(ref dw, ldw), a10, a11, a12, a13, a14, a15);
        AddSums(ref Unsafe.Add(ref dw, 2 * ldw), a20, a21, a22, a23, a24, a25);
        AddSums(ref Unsafe.Add(ref dw, 3 * ldw), a30, a31, a32, a33, a34, a35);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddSums(ref T row, Vector512<T> s0, Vector512<T> s1, Vector512<T> s2, Vector512<T> s3, Vector512<T> s4, Vector512<T> s5)
    {
        row = DirectConvMath.Add(row, Vector512.Sum(s0));
        Unsafe.Add(ref row, 1) = DirectConvMath.Add(Unsafe.Add(ref row, 1), Vector512.Sum(s1));
        Unsafe.Add(ref row, 2) = DirectConvMath.Add(Unsafe.Add(ref row, 2), Vector512.Sum(s2));
        Unsafe.Add(ref row, 3) = DirectConvMath.Add(Unsafe.Add(ref row, 3), Vector512.Sum(s3));
        Unsafe.Add(ref row, 4) = DirectConvMath.Add(Unsafe.Add(ref row, 4), Vector512.Sum(s4));
        Unsafe.Add(ref row, 5) = DirectConvMath.Add(Unsafe.Add(ref row, 5), Vector512.Sum(s5));
    }
}

/// <summary>Vector256 + FMA tiles (AVX2's 16 registers): forward 4 channels × 3 vectors (12 accumulators, 3 input
/// vectors, one broadcast); weight gradient 3 channels × 4 taps (12 accumulators, 3 cotangent vectors, one input vector).</summary>
internal readonly struct DirectConv256<T> : IDirectConvKernel<T> where T : unmanaged
{
    public static int Lanes => Vector256<T>.Count;
    public static int MR => 4;
    public static int Width => 3 * Vector256<T>.Count;
    public static int GradRows => 3;
    public static int GradTaps => 4;

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
    public static void Forward(int taps, ref T w, ref T x, ref int offsets, ref T y, nint ldy)
    {
        nuint v = (nuint)Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default,
                     c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        for (int t = 0; t < taps; t++)
        {
            ref T row = ref Unsafe.Add(ref x, Unsafe.Add(ref offsets, t));
            var x0 = Vector256.LoadUnsafe(ref row);
            var x1 = Vector256.LoadUnsafe(ref row, v);
            var x2 = Vector256.LoadUnsafe(ref row, 2 * v);
            var a = Vector256.Create(w);
            c00 = Fma(a, x0, c00); c01 = Fma(a, x1, c01); c02 = Fma(a, x2, c02);
            a = Vector256.Create(Unsafe.Add(ref w, 1));
            c10 = Fma(a, x0, c10); c11 = Fma(a, x1, c11); c12 = Fma(a, x2, c12);
            a = Vector256.Create(Unsafe.Add(ref w, 2));
            c20 = Fma(a, x0, c20); c21 = Fma(a, x1, c21); c22 = Fma(a, x2, c22);
            a = Vector256.Create(Unsafe.Add(ref w, 3));
            c30 = Fma(a, x0, c30); c31 = Fma(a, x1, c31); c32 = Fma(a, x2, c32);
            w = ref Unsafe.Add(ref w, 4);
        }
        Store(ref y, v, c00, c01, c02);
        Store(ref Unsafe.Add(ref y, ldy), v, c10, c11, c12);
        Store(ref Unsafe.Add(ref y, 2 * ldy), v, c20, c21, c22);
        Store(ref Unsafe.Add(ref y, 3 * ldy), v, c30, c31, c32);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardNarrow(int taps, ref T w, ref T x, ref int offsets, ref T y, nint ldy)
    {
        Vector256<T> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int t = 0; t < taps; t++)
        {
            var x0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref x, Unsafe.Add(ref offsets, t)));
            c0 = Fma(Vector256.Create(w), x0, c0);
            c1 = Fma(Vector256.Create(Unsafe.Add(ref w, 1)), x0, c1);
            c2 = Fma(Vector256.Create(Unsafe.Add(ref w, 2)), x0, c2);
            c3 = Fma(Vector256.Create(Unsafe.Add(ref w, 3)), x0, c3);
            w = ref Unsafe.Add(ref w, 4);
        }
        c0.StoreUnsafe(ref y); c1.StoreUnsafe(ref Unsafe.Add(ref y, ldy));
        c2.StoreUnsafe(ref Unsafe.Add(ref y, 2 * ldy)); c3.StoreUnsafe(ref Unsafe.Add(ref y, 3 * ldy));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(ref T row, nuint v, Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        a.StoreUnsafe(ref row); b.StoreUnsafe(ref row, v); c.StoreUnsafe(ref row, 2 * v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGrad(int length, int images, ref T g, nint ldg, nint gImage, ref T x, nint xImage, ref int offsets, ref T dw, nint ldw)
    {
        Vector256<T> a00 = default, a01 = default, a02 = default, a03 = default,
                     a10 = default, a11 = default, a12 = default, a13 = default,
                     a20 = default, a21 = default, a22 = default, a23 = default;
        for (int m = 0; m < images; m++)
        {
            ref T g0 = ref Unsafe.Add(ref g, m * gImage); ref T g1 = ref Unsafe.Add(ref g0, ldg); ref T g2 = ref Unsafe.Add(ref g0, 2 * ldg);
            ref T xm = ref Unsafe.Add(ref x, m * xImage);
            ref T x0 = ref Unsafe.Add(ref xm, offsets); ref T x1 = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 1));
            ref T x2 = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 2)); ref T x3 = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 3));
            for (nuint q = 0; q < (nuint)length; q += (nuint)Vector256<T>.Count)
            {
                var r0 = Vector256.LoadUnsafe(ref g0, q); var r1 = Vector256.LoadUnsafe(ref g1, q); var r2 = Vector256.LoadUnsafe(ref g2, q);
                var b = Vector256.LoadUnsafe(ref x0, q);
                a00 = Fma(r0, b, a00); a10 = Fma(r1, b, a10); a20 = Fma(r2, b, a20);
                b = Vector256.LoadUnsafe(ref x1, q);
                a01 = Fma(r0, b, a01); a11 = Fma(r1, b, a11); a21 = Fma(r2, b, a21);
                b = Vector256.LoadUnsafe(ref x2, q);
                a02 = Fma(r0, b, a02); a12 = Fma(r1, b, a12); a22 = Fma(r2, b, a22);
                b = Vector256.LoadUnsafe(ref x3, q);
                a03 = Fma(r0, b, a03); a13 = Fma(r1, b, a13); a23 = Fma(r2, b, a23);
            }
        }
        AddSums(ref dw, a00, a01, a02, a03);
        AddSums(ref Unsafe.Add(ref dw, ldw), a10, a11, a12, a13);
        AddSums(ref Unsafe.Add(ref dw, 2 * ldw), a20, a21, a22, a23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddSums(ref T row, Vector256<T> s0, Vector256<T> s1, Vector256<T> s2, Vector256<T> s3)
    {
        row = DirectConvMath.Add(row, Vector256.Sum(s0));
        Unsafe.Add(ref row, 1) = DirectConvMath.Add(Unsafe.Add(ref row, 1), Vector256.Sum(s1));
        Unsafe.Add(ref row, 2) = DirectConvMath.Add(Unsafe.Add(ref row, 2), Vector256.Sum(s2));
        Unsafe.Add(ref row, 3) = DirectConvMath.Add(Unsafe.Add(ref row, 3), Vector256.Sum(s3));
    }
}

/// <summary>Scalar addition for the two floating-point element types of the tiles (the structs are generic over an
/// unmanaged T, which has no operators).</summary>
internal static class DirectConvMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Add<T>(T a, T b) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return (T)(object)((float)(object)a + (float)(object)b);
        if (typeof(T) == typeof(double)) return (T)(object)((double)(object)a + (double)(object)b);
        throw new NotSupportedException($"direct convolution on {typeof(T).Name}");
    }
}
