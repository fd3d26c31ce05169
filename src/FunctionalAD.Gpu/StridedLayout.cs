namespace FunctionalAD.Gpu;

/// <summary>
/// How a kernel finds element i (row-major index over a view's shape) in storage: up to eight dimensions after
/// merging the ones that are laid out back to back, stored right-aligned (S7/T7 is the innermost dimension).
/// A plain struct of ints so that it can be a kernel parameter.
/// </summary>
internal struct StridedLayout
{
    public const int MaxRank = 8;
    public int Rank, Offset, Contiguous;
    public int S0, S1, S2, S3, S4, S5, S6, S7;
    public int T0, T1, T2, T3, T4, T5, T6, T7;

    /// <summary>Storage index of the element with row-major index <paramref name="i"/>.</summary>
    public readonly int At(int i)
    {
        if (Contiguous != 0) return Offset + i;
        int off = Offset, r = i;
        if (Rank > 0) { off += r % S7 * T7; r /= S7; }
        if (Rank > 1) { off += r % S6 * T6; r /= S6; }
        if (Rank > 2) { off += r % S5 * T5; r /= S5; }
        if (Rank > 3) { off += r % S4 * T4; r /= S4; }
        if (Rank > 4) { off += r % S3 * T3; r /= S3; }
        if (Rank > 5) { off += r % S2 * T2; r /= S2; }
        if (Rank > 6) { off += r % S1 * T1; r /= S1; }
        if (Rank > 7) { off += r % S0 * T0; }
        return off;
    }

    /// <summary>The layout of a view, with size-1 dimensions dropped and adjacent dimensions merged where possible.</summary>
    /// <exception cref="TensorException">more than eight dimensions remain after merging.</exception>
    public static StridedLayout Of(string op, RawTensor x)
    {
        var l = new StridedLayout { Offset = x.Offset, Contiguous = x.IsContiguous ? 1 : 0 };
        if (l.Contiguous != 0) return l;
        Span<int> sizes = stackalloc int[x.Rank];
        Span<int> strides = stackalloc int[x.Rank];
        int n = 0;
        for (int d = 0; d < x.Rank; d++)
        {
            int size = x.Shape[d], stride = x.Strides[d];
            if (size == 1) continue;
            if (n > 0 && strides[n - 1] == stride * size) { sizes[n - 1] *= size; strides[n - 1] = stride; continue; }
            sizes[n] = size; strides[n] = stride; n++;
        }
        if (n > MaxRank)
            throw new TensorException(op, $"a view of shape {Shape.Format(x.Shape)} with strides {Shape.Format(x.Strides)} has {n} non-mergeable dimensions; GPU kernels take at most {MaxRank} (make a contiguous copy first)");
        l.Rank = n;
        for (int k = 0; k < MaxRank; k++)
        {
            // slot 7 - k holds dimension n - 1 - k; unused slots are size 1, stride 0
            int d = n - 1 - k;
            l.Set(MaxRank - 1 - k, d >= 0 ? sizes[d] : 1, d >= 0 ? strides[d] : 0);
        }
        return l;
    }

    void Set(int slot, int size, int stride)
    {
        switch (slot)
        {
            case 0: S0 = size; T0 = stride; break;
            case 1: S1 = size; T1 = stride; break;
            case 2: S2 = size; T2 = stride; break;
            case 3: S3 = size; T3 = stride; break;
            case 4: S4 = size; T4 = stride; break;
            case 5: S5 = size; T5 = stride; break;
            case 6: S6 = size; T6 = stride; break;
            default: S7 = size; T7 = stride; break;
        }
    }
}

/// <summary>Where element (b, r, c) of a [B, rows, cols] view is: Offset + b*SB + r*SR + c*SC.</summary>
internal struct MatrixLayout
{
    public int Offset, SB, SR, SC;
    public readonly int At(int b, int r, int c) => Offset + b * SB + r * SR + c * SC;
    public static MatrixLayout Of(RawTensor x) => new() { Offset = x.Offset, SB = x.Strides[0], SR = x.Strides[1], SC = x.Strides[2] };
}
