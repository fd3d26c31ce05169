using FunctionalAD.Ops;
using ILGPU;

namespace FunctionalAD.Gpu;

/// <summary>
/// The device code. Elementwise kernels take one thread per output element (row-major index i) and read their
/// operands through <see cref="StridedLayout"/>s, so views (transposes, slices, broadcasts) need no copy first.
/// Arithmetic comes from an <see cref="IElementOps{T}"/> struct, so each kernel is written once for every dtype; the
/// elementwise kernels evaluate an op struct's own formula in the dtype's <see cref="IElementMath{T}"/>.
/// </summary>
internal static class Kernels
{
    public static void Fill<T>(Index1D i, ArrayView<T> y, T value) where T : unmanaged => y[i] = value;

    public static void Gather<T>(Index1D i, ArrayView<T> x, StridedLayout lx, ArrayView<T> y) where T : unmanaged =>
        y[i] = x[lx.At(i)];

    /// <summary>y = f(x) for the op <typeparamref name="TOp"/>, its formula evaluated in <typeparamref name="TMath"/>.</summary>
    public static void Unary<T, TMath, TOp>(Index1D i, ArrayView<T> x, StridedLayout lx, ArrayView<T> y)
        where T : unmanaged where TMath : struct, IElementMath<T> where TOp : struct, IUnaryOp =>
        y[i] = default(TOp).Apply(default(TMath), x[lx.At(i)]);

    /// <summary>r = g·f'(x) for the op <typeparamref name="TOp"/> (y = f(x)): its first-order derivative in one pass.</summary>
    public static void UnaryDerivative<T, TMath, TOp>(Index1D i, ArrayView<T> g, StridedLayout lg, ArrayView<T> x, StridedLayout lx, ArrayView<T> y, StridedLayout ly, ArrayView<T> r)
        where T : unmanaged where TMath : struct, IElementMath<T> where TOp : struct, IUnaryOp
    {
        var m = default(TMath);
        r[i] = m.Mul(g[lg.At(i)], default(TOp).Derivative(m, x[lx.At(i)], y[ly.At(i)]));
    }

    /// <summary>y = f(a, b) for the op <typeparamref name="TOp"/>.</summary>
    public static void Binary<T, TMath, TOp>(Index1D i, ArrayView<T> a, StridedLayout la, ArrayView<T> b, StridedLayout lb, ArrayView<T> y)
        where T : unmanaged where TMath : struct, IElementMath<T> where TOp : struct, IBinaryOp =>
        y[i] = default(TOp).Apply(default(TMath), a[la.At(i)], b[lb.At(i)]);

    public static void Compare<T, TOps>(Index1D i, ArrayView<T> a, StridedLayout la, ArrayView<T> b, StridedLayout lb, ArrayView<byte> y, int op)
        where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var ops = default(TOps);
        T p = a[la.At(i)], q = b[lb.At(i)];
        bool r;
        switch (op)
        {
            case 0: r = ops.Equal(p, q); break;               // Eq
            case 1: r = !ops.Equal(p, q); break;              // Ne
            case 2: r = ops.Less(p, q); break;                // Lt
            case 3: r = ops.Less(p, q) || ops.Equal(p, q); break; // Le
            case 4: r = ops.Less(q, p); break;                // Gt
            default: r = ops.Less(q, p) || ops.Equal(p, q); break; // Ge
        }
        y[i] = r ? (byte)1 : (byte)0;
    }

    public static void Where<T>(Index1D i, ArrayView<byte> c, StridedLayout lc, ArrayView<T> a, StridedLayout la, ArrayView<T> b, StridedLayout lb, ArrayView<T> y)
        where T : unmanaged =>
        y[i] = c[lc.At(i)] != 0 ? a[la.At(i)] : b[lb.At(i)];

    /// <summary>Integer sources convert through long (wrapping like a C# cast), floating-point ones through double (truncating).</summary>
    public static void Cast<TFrom, TFromOps, TTo, TToOps>(Index1D i, ArrayView<TFrom> x, StridedLayout lx, ArrayView<TTo> y, int fromInteger)
        where TFrom : unmanaged where TFromOps : struct, IElementOps<TFrom>
        where TTo : unmanaged where TToOps : struct, IElementOps<TTo>
    {
        var v = x[lx.At(i)];
        y[i] = fromInteger != 0 ? default(TToOps).FromLong(default(TFromOps).ToLong(v)) : default(TToOps).FromDouble(default(TFromOps).ToDouble(v));
    }

    /// <summary>
    /// Copies view x, seen as [outer, mid, inner] around one axis, into y seen as [outer, yMid, inner], element
    /// (o, j, k) going to (o, start + j*step, k). Concat (step 1) and SliceScatter share it.
    /// </summary>
    public static void ScatterAxis<T>(Index1D i, ArrayView<T> x, StridedLayout lx, ArrayView<T> y, AxisMap map) where T : unmanaged
    {
        int k = i % map.Inner, r = i / map.Inner;
        int j = r % map.Mid, o = r / map.Mid;
        y[(o * map.YMid + map.Start + j * map.Step) * map.Inner + k] = x[lx.At(i)];
    }

    /// <summary>y[o, j, k] = x[o, index[j], k] for a contiguous x seen as [outer, xMid, inner].</summary>
    public static void IndexSelect<T>(Index1D i, ArrayView<T> x, ArrayView<int> index, ArrayView<T> y, AxisMap map) where T : unmanaged
    {
        int k = i % map.Inner, r = i / map.Inner;
        int j = r % map.Mid, o = r / map.Mid;
        y[i] = x[map.Start + (o * map.YMid + index[j]) * map.Inner + k];
    }

    /// <summary>
    /// y[o, t, k] = sum of source[o, j, k] over the j with index[j] = t, one thread per output element:
    /// the host groups the j by target (targets[starts[t] .. starts[t+1]]), so no two threads write one address.
    /// </summary>
    public static void IndexAdd<T, TOps>(Index1D i, ArrayView<T> source, StridedLayout ls, ArrayView<int> starts, ArrayView<int> sources, ArrayView<T> y, AxisMap map)
        where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var ops = default(TOps);
        int k = i % map.Inner, r = i / map.Inner;
        int t = r % map.YMid, o = r / map.YMid;
        T acc = ops.Zero;
        for (int q = starts[t]; q < starts[t + 1]; q++)
            acc = ops.Add(acc, source[ls.At((o * map.Mid + sources[q]) * map.Inner + k)]);
        y[i] = acc;
    }
}

/// <summary>Index arithmetic around one axis: [outer, Mid, Inner] on one side, [outer, YMid, Inner] on the other.</summary>
internal struct AxisMap
{
    public int Mid, YMid, Inner, Start, Step;
}
