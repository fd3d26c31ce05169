using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace FunctionalAD.Backends;

/// <summary>
/// Direct (implicit-GEMM) convolution on the CPU for stride 1 and one channel group, any padding and dilation: the
/// forward pass, the input gradient (the forward pass over the padded cotangent with the flipped, channel-transposed
/// weight) and the weight gradient, none of which builds im2col columns. Each image is zero-padded into a flat
/// [C][Hp][Wp] buffer; output position q = oy·Wp + ox then reads tap (ci, i, j) at q + ci·Hp·Wp + i·dh·Wp + j·dw, so
/// a register tile of output channels × output positions (<see cref="IDirectConvKernel{T}"/>) runs over the taps with
/// unit-stride vector loads; the Wp - OutWidth junk columns of each output row are computed and dropped (2 of 34 for a
/// 32-wide image with padding 1), and the positions past the last full tile run one vector at a time. Images (and output-channel blocks when there are fewer images than threads) are
/// split over threads; the weight gradient keeps one accumulator per thread and adds them in a fixed order.
/// </summary>
internal static class DirectConv
{
    /// <summary>The geometries handled here: stride 1 and a single channel group (dilation and padding are free).</summary>
    public static bool Handles(ConvGeometry g) => g.StrideH == 1 && g.StrideW == 1 && g.Groups == 1;

    /// <summary>The tile set to use for <paramref name="kind"/> (default: the widest the machine has), or null where
    /// the machine has neither 512- nor 256-bit FMA vectors (the caller then takes the im2col path).</summary>
    public static GemmKernelKind? Usable(GemmKernelKind? kind = null)
    {
        var k = kind ?? Gemm.Best;
        if (k == GemmKernelKind.Vector512 && DirectConv512<float>.IsSupported) return k;
        if (k <= GemmKernelKind.Vector256 && DirectConv256<float>.IsSupported) return GemmKernelKind.Vector256;
        return null;
    }

    /// <summary>y [n, o, OutHeight, OutWidth] = conv(x [n, C, H, W], w [o, C, kh, kw]) for a geometry that
    /// <see cref="Handles"/> accepts; x and w are row-major from their offsets.</summary>
    public static T[] Forward<T>(T[] x, int xOffset, int n, T[] w, int wOffset, int o, ConvGeometry g, GemmKernelKind kind, T[]? bias = null, int biasOffset = 0)
        where T : unmanaged, INumberBase<T> =>
        kind == GemmKernelKind.Vector512 ? Forward<T, DirectConv512<T>>(x, xOffset, n, w, wOffset, o, g, bias, biasOffset) : Forward<T, DirectConv256<T>>(x, xOffset, n, w, wOffset, o, g, bias, biasOffset);

    /// <summary>The input gradient [n, C, H, W] of conv(·, w) at the cotangent dy [n, o, OutHeight, OutWidth], or null
    /// where the geometry's padding exceeds the dilated kernel's reach (the transposed convolution would need negative
    /// padding; the caller takes the fold path).</summary>
    public static T[]? InputGrad<T>(T[] dy, int dyOffset, int n, T[] w, int wOffset, int o, ConvGeometry g, GemmKernelKind kind) where T : unmanaged, INumberBase<T>
    {
        int eh = g.DilationH * (g.KernelH - 1), ew = g.DilationW * (g.KernelW - 1);
        if (g.PadTop > eh || g.PadBottom > eh || g.PadLeft > ew || g.PadRight > ew) return null;
        int c = g.Channels, kh = g.KernelH, kw = g.KernelW, taps = kh * kw;
        // wᵀ[ci, co, i, j] = w[co, ci, kh - 1 - i, kw - 1 - j]
        var flipped = ArrayPool<T>.Shared.Rent(c * o * taps); // scratch (a large-object allocation per call otherwise)
        for (int co = 0; co < o; co++)
            for (int ci = 0; ci < c; ci++)
                for (int t = 0; t < taps; t++)
                    flipped[(ci * o + co) * taps + taps - 1 - t] = w[wOffset + (co * c + ci) * taps + t];
        var transposed = new ConvGeometry(o, g.OutHeight, g.OutWidth, kh, kw, 1, 1, eh - g.PadTop, eh - g.PadBottom, ew - g.PadLeft, ew - g.PadRight, g.DilationH, g.DilationW);
        var dx = Forward(dy, dyOffset, n, flipped, 0, c, transposed, kind);
        ArrayPool<T>.Shared.Return(flipped);
        return dx;
    }

    /// <summary>The weight gradient [o, C, kh, kw] of conv(x, ·) at the cotangent dy [n, o, OutHeight, OutWidth], or
    /// null where x holds an infinity or NaN (the junk columns multiply zeros with padded input, and 0·∞ would leak a
    /// NaN; the caller takes the unfold path, which gives PyTorch's values).</summary>
    public static T[]? WeightGrad<T>(T[] dy, int dyOffset, T[] x, int xOffset, int n, int o, ConvGeometry g, GemmKernelKind kind) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = x.AsSpan(xOffset, n * g.Channels * g.Height * g.Width);
        if (!input.IsEmpty && !T.IsFinite(TensorPrimitives.MaxMagnitude<T>(input))) return null;
        return kind == GemmKernelKind.Vector512 ? WeightGrad<T, DirectConv512<T>>(dy, dyOffset, x, xOffset, n, o, g) : WeightGrad<T, DirectConv256<T>>(dy, dyOffset, x, xOffset, n, o, g);
    }

    static int RoundUp(int a, int b) => (a + b - 1) / b * b;

    /// <summary>Offsets of every tap (ci, i, j) from an output position, in the weight's tap order.</summary>
    static int[] TapOffsets(ConvGeometry g, int length)
    {
        int hp = g.PaddedHeight, wp = g.PaddedWidth, taps = g.KernelSize;
        var offsets = new int[length];
        for (int ci = 0; ci < g.Channels; ci++)
            for (int i = 0; i < g.KernelH; i++)
                for (int j = 0; j < g.KernelW; j++)
                    offsets[ci * taps + i * g.KernelW + j] = ci * hp * wp + i * g.DilationH * wp + j * g.DilationW;
        return offsets;
    }

    /// <summary>Image <paramref name="image"/> of x, zero-padded, into dst (whose tail past the image is zeroed too).</summary>
    static void PadInto<T>(T[] x, int xOffset, int image, ConvGeometry g, Span<T> dst) where T : unmanaged
    {
        int c = g.Channels, h = g.Height, w = g.Width, hp = g.PaddedHeight, wp = g.PaddedWidth;
        dst.Clear();
        for (int ci = 0; ci < c; ci++)
        {
            int src = xOffset + (image * c + ci) * h * w, plane = ci * hp * wp + g.PadTop * wp + g.PadLeft;
            for (int y = 0; y < h; y++) x.AsSpan(src + y * w, w).CopyTo(dst.Slice(plane + y * wp, w));
        }
    }

    /// <summary>Pieces worth a thread: one per unit of work, unless the whole job is too small to split.</summary>
    static int Pieces(int units, long workPerUnit)
    {
        long total = units * workPerUnit;
        if (total < 8L * Parallelism.Grain) return 1;
        return Math.Max(1, Math.Min(units, Parallelism.MaxThreads));
    }

    static T[] Forward<T, K>(T[] x, int xOffset, int n, T[] w, int wOffset, int o, ConvGeometry g, T[]? bias, int biasOffset) where T : unmanaged, INumberBase<T> where K : IDirectConvKernel<T>
    {
        int mr = K.MR, width = K.Width, c = g.Channels, taps = c * g.KernelSize, wp = g.PaddedWidth, oh = g.OutHeight, ow = g.OutWidth;
        // full tiles of Width positions, then single vectors up to the last output position
        int blocks = (o + mr - 1) / mr, full = oh * wp / width * width, positions = Math.Max(full, RoundUp(oh * wp, K.Lanes));
        var offsets = TapOffsets(g, taps);
        int length = Math.Max(c * g.PaddedHeight * wp, offsets[^1] + positions);
        // weight blocks packed tap-major, MR channels per tap, zero rows past o
        var packed = ArrayPool<T>.Shared.Rent(blocks * taps * mr);
        packed.AsSpan(0, blocks * taps * mr).Clear();
        for (int co = 0; co < o; co++)
            for (int t = 0; t < taps; t++)
                packed[(co / mr * taps + t) * mr + co % mr] = w[wOffset + co * taps + t];
        var y = ResultPool.Rent<T>(n * o * oh * ow); // every element is copied out of a tile
        // split output-channel blocks too when there are fewer images than threads
        int split = n >= Parallelism.MaxThreads ? 1 : Math.Min(blocks, (Parallelism.MaxThreads + n - 1) / n);
        int units = n * split, pieces = Pieces(units, (long)blocks / split * taps * mr * positions);
        Parallelism.Pieces(pieces, piece =>
        {
            int first = (int)((long)units * piece / pieces), last = (int)((long)units * (piece + 1) / pieces);
            // per-piece scratch from the shared pool (a tile is ~100 KB for a 32-channel 26×26 output: a large-object
            // allocation per call otherwise)
            int tileLength = (blocks / split + 1) * mr * positions;
            var padded = ArrayPool<T>.Shared.Rent(length);
            var tile = ArrayPool<T>.Shared.Rent(tileLength);
            tile.AsSpan(0, tileLength).Clear();
            for (int u = first; u < last; u++)
            {
                int image = u / split, part = u % split, b0 = blocks * part / split, b1 = blocks * (part + 1) / split;
                PadInto(x, xOffset, image, g, padded.AsSpan(0, length));
                for (int q = 0; q < full; q += width)
                    for (int b = b0; b < b1; b++)
                        K.Forward(taps, ref packed[b * taps * mr], ref padded[q], ref offsets[0], ref tile[(b - b0) * mr * positions + q], positions);
                for (int q = full; q < positions; q += K.Lanes)
                    for (int b = b0; b < b1; b++)
                        K.ForwardNarrow(taps, ref packed[b * taps * mr], ref padded[q], ref offsets[0], ref tile[(b - b0) * mr * positions + q], positions);
                for (int co = b0 * mr; co < Math.Min(o, b1 * mr); co++)
                {
                    int src = (co - b0 * mr) * positions, dst = (image * o + co) * oh * ow;
                    if (bias is null)
                        for (int oy = 0; oy < oh; oy++) Array.Copy(tile, src + oy * wp, y, dst + oy * ow, ow);
                    else
                        for (int oy = 0; oy < oh; oy++) TensorPrimitives.Add(tile.AsSpan(src + oy * wp, ow), bias[biasOffset + co], y.AsSpan(dst + oy * ow, ow));
                }
            }
            ArrayPool<T>.Shared.Return(padded);
            ArrayPool<T>.Shared.Return(tile);
        });
        ArrayPool<T>.Shared.Return(packed);
        return y;
    }

    static T[] WeightGrad<T, K>(T[] dy, int dyOffset, T[] x, int xOffset, int n, int o, ConvGeometry g) where T : unmanaged where K : IDirectConvKernel<T>
    {
        int rowsPer = K.GradRows, tapsPer = K.GradTaps, c = g.Channels, taps = c * g.KernelSize, wp = g.PaddedWidth, oh = g.OutHeight, ow = g.OutWidth;
        int rows = RoundUp(o, rowsPer), columns = RoundUp(taps, tapsPer), positions = RoundUp(oh * wp, K.Lanes);
        var offsets = TapOffsets(g, columns); // the padding taps read offset 0 and land in dropped columns
        int length = Math.Max(c * g.PaddedHeight * wp, offsets[taps - 1] + positions);
        int pieces = Pieces(n, (long)o * taps * positions);
        // images per kernel call: enough output positions (~1k) that the horizontal sums at the end of a call are cheap
        int group = Math.Max(1, Math.Min(n, 1024 / positions));
        var partial = new T[pieces][];
        Parallelism.Pieces(pieces, piece =>
        {
            int first = (int)((long)n * piece / pieces), last = (int)((long)n * (piece + 1) / pieces);
            var acc = ArrayPool<T>.Shared.Rent(rows * columns);
            acc.AsSpan(0, rows * columns).Clear();
            var padded = ArrayPool<T>.Shared.Rent(group * length); // each image's slice cleared by PadInto
            var cotangent = ArrayPool<T>.Shared.Rent(group * rows * positions);
            cotangent.AsSpan(0, group * rows * positions).Clear(); // junk columns and rows past o stay zero
            for (int image = first; image < last; image += group)
            {
                int images = Math.Min(group, last - image);
                for (int m = 0; m < images; m++)
                {
                    PadInto(x, xOffset, image + m, g, padded.AsSpan(m * length, length));
                    for (int co = 0; co < o; co++)
                        for (int oy = 0; oy < oh; oy++)
                            Array.Copy(dy, dyOffset + (((image + m) * o + co) * oh + oy) * ow, cotangent, (m * rows + co) * positions + oy * wp, ow);
                }
                for (int r = 0; r < rows; r += rowsPer)
                    for (int t = 0; t < columns; t += tapsPer)
                        K.WeightGrad(positions, images, ref cotangent[r * positions], positions, rows * positions, ref padded[0], length, ref offsets[t], ref acc[r * columns + t], columns);
            }
            partial[piece] = acc;
            ArrayPool<T>.Shared.Return(padded);
            ArrayPool<T>.Shared.Return(cotangent);
        });
        // the pieces' sums in a fixed order (the same bits from run to run)
        var dw = ResultPool.Rent<T>(o * taps);
        for (int co = 0; co < o; co++) Array.Copy(partial[0], co * columns, dw, co * taps, taps);
        for (int p = 1; p < pieces; p++)
            for (int co = 0; co < o; co++)
                for (int t = 0; t < taps; t++) dw[co * taps + t] = DirectConvMath.Add(dw[co * taps + t], partial[p][co * columns + t]);
        foreach (var acc in partial) ArrayPool<T>.Shared.Return(acc);
        return dw;
    }
}
