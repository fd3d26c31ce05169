using ILGPU;

namespace FunctionalAD.Gpu;

/// <summary>Parameters of one pass of <see cref="GroupedKernels.ReduceRows{T, TOps}"/>.</summary>
internal struct ReducePass
{
    /// <summary>0 Sum, 1 Prod, 2 Max, 3 Min (ArgMax/ArgMin use Max/Min and read the index).</summary>
    public int Op;
    /// <summary>Elements per row of the input, chunks per row, elements per chunk.</summary>
    public int Len, Chunks, ChunkLen;
    /// <summary>1 when the input carries the indices of a previous pass.</summary>
    public int HasIndex;
}

/// <summary>Kernels that cooperate within a group through shared memory.</summary>
internal static class GroupedKernels
{
    /// <summary>Shared-memory slots per group; groups are at most this large and a power of two.</summary>
    public const int MaxGroup = 256;
    /// <summary>Largest matmul tile edge (tile*tile threads per group, tile*tile shared slots per operand).</summary>
    public const int MaxTile = 16;

    /// <summary>
    /// One group per (row, chunk): each thread folds a strided part of the chunk, then the group combines its
    /// partial results as a tree in shared memory (log2(group) steps, no atomics). The result of chunk c of row r is
    /// written to dst[r*Chunks + c], with the position of the max/min in dstIndex; a second pass over the chunk
    /// results finishes rows longer than one chunk.
    /// </summary>
    public static void ReduceRows<T, TOps>(ArrayView<T> src, ArrayView<long> srcIndex, ArrayView<T> dst, ArrayView<long> dstIndex, ReducePass p)
        where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var ops = default(TOps);
        var values = SharedMemory.Allocate<T>(MaxGroup);
        var indices = SharedMemory.Allocate<long>(MaxGroup);
        int g = Grid.IdxX, t = Group.IdxX, size = Group.DimX;
        int row = g / p.Chunks, chunk = g % p.Chunks;
        int start = chunk * p.ChunkLen;
        int end = start + p.ChunkLen < p.Len ? start + p.ChunkLen : p.Len;
        T acc = p.Op == 1 ? ops.One : ops.Zero;
        long at = -1;
        for (int j = start + t; j < end; j += size)
        {
            int s = row * p.Len + j;
            Fold(ops, p.Op, ref acc, ref at, src[s], p.HasIndex != 0 ? srcIndex[s] : j);
        }
        values[t] = acc; indices[t] = at;
        Group.Barrier();
        for (int half = size / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                T a = values[t]; long ai = indices[t];
                Fold(ops, p.Op, ref a, ref ai, values[t + half], indices[t + half]);
                values[t] = a; indices[t] = ai;
            }
            Group.Barrier();
        }
        if (t == 0) { dst[g] = values[0]; dstIndex[g] = indices[0]; }
    }

    /// <summary>
    /// Folds (v, vi) into (acc, at); at = -1 marks an empty accumulator. Max/Min: NaN wins (the first NaN), ties go
    /// to the smaller index, as in TensorPrimitives.IndexOfMax/IndexOfMin.
    /// </summary>
    static void Fold<T, TOps>(TOps ops, int op, ref T acc, ref long at, T v, long vi)
        where T : unmanaged where TOps : struct, IElementOps<T>
    {
        if (vi < 0) return;
        if (op == 0) { acc = ops.Add(acc, v); at = vi; return; }
        if (op == 1) { acc = ops.Mul(acc, v); at = vi; return; }
        bool take;
        if (at < 0) take = true;
        else if (ops.IsNaN(acc)) take = ops.IsNaN(v) && vi < at;
        else if (ops.IsNaN(v)) take = true;
        else if (ops.Equal(v, acc)) take = vi < at;
        else take = op == 2 ? ops.Less(acc, v) : ops.Less(v, acc);
        if (take) { acc = v; at = vi; }
    }

    /// <summary>
    /// Batched C[b] = A[b] B[b] with square tiles staged in shared memory: group (tile x tile threads) computes one
    /// tile of C, one element per thread, walking k a tile at a time. The grid's X index enumerates
    /// (batch, tile row, tile column); A and B are read through their strides (transposed views need no copy).
    /// </summary>
    public static void MatMul<T, TOps>(ArrayView<T> a, MatrixLayout la, ArrayView<T> b, MatrixLayout lb, ArrayView<T> c, MatMulShape s)
        where T : unmanaged where TOps : struct, IElementOps<T>
    {
        var ops = default(TOps);
        var tileA = SharedMemory.Allocate<T>(MaxTile * MaxTile);
        var tileB = SharedMemory.Allocate<T>(MaxTile * MaxTile);
        int tile = s.Tile;
        int id = Grid.IdxX;
        int perMatrix = s.TilesM * s.TilesN;
        int batch = id / perMatrix, rest = id % perMatrix;
        int tx = Group.IdxX, ty = Group.IdxY;
        int row = rest / s.TilesN * tile + ty, col = rest % s.TilesN * tile + tx;
        T acc = ops.Zero;
        for (int p0 = 0; p0 < s.K; p0 += tile)
        {
            int ak = p0 + tx, bk = p0 + ty;
            tileA[ty * tile + tx] = row < s.M && ak < s.K ? a[la.At(batch, row, ak)] : ops.Zero;
            tileB[ty * tile + tx] = bk < s.K && col < s.N ? b[lb.At(batch, bk, col)] : ops.Zero;
            Group.Barrier();
            for (int q = 0; q < tile; q++) acc = ops.Add(acc, ops.Mul(tileA[ty * tile + q], tileB[q * tile + tx]));
            Group.Barrier();
        }
        if (row < s.M && col < s.N) c[(batch * s.M + row) * s.N + col] = acc;
    }
}

/// <summary>Sizes of a batched matmul launch.</summary>
internal struct MatMulShape
{
    public int M, K, N, Tile, TilesM, TilesN;
}
