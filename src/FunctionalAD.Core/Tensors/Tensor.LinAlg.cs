using FunctionalAD.Autodiff;

namespace FunctionalAD;

public sealed partial class Tensor
{
    /// <summary>Matrix product with NumPy/PyTorch semantics: 1-D·1-D is a dot product, 1-D operands are promoted to
    /// matrices and the added dimension removed afterwards, and leading (batch) dimensions broadcast.</summary>
    /// <exception cref="ShapeMismatchException">the inner dimensions differ, the batch dimensions do not broadcast, or an
    /// operand is 0-D.</exception>
    /// <exception cref="DeviceMismatchException">the operands are on different devices.</exception>
    public Tensor MatMul(Tensor other)
    {
        SameDevice("matmul", this, other);
        if (Rank == 0 || other.Rank == 0) throw new ShapeMismatchException("matmul", $"both operands need at least one dimension, got shapes {F(shape)} and {F(other.shape)}");
        if (Rank == 1 && other.Rank == 1)
        {
            if (shape[0] != other.shape[0]) throw new ShapeMismatchException("matmul", $"shapes {F(shape)} and {F(other.shape)} are not aligned ({shape[0]} != {other.shape[0]})");
            return (this * other).Sum();
        }
        if (Rank == 1) return Unsqueeze(0).MatMul(other).Squeeze(-2);
        if (other.Rank == 1) return MatMul(other.Unsqueeze(-1)).Squeeze(-1);
        int m = shape[^2], k = shape[^1], k2 = other.shape[^2], n = other.shape[^1];
        if (k != k2) throw new ShapeMismatchException("matmul", $"shapes {F(shape)} and {F(other.shape)} are not aligned ({k} != {k2})");
        var dtype = DTypes.Promote(DType, other.DType);
        if (dtype == DType.Bool) throw new DTypeMismatchException("matmul", $"Bool tensors have no arithmetic (shapes {F(shape)} and {F(other.shape)}); cast with To(DType.Float32)");
        if (!dtype.IsFloatingPoint()) dtype = DType.Float32; // integer products are computed in Float32
        if (Rank == 2 && other.Rank == 2) return Dispatch.Apply(Primitives.BatchMatMul, [To(dtype), other.To(dtype)], null);
        var batch = FunctionalAD.Shape.Broadcast("matmul", shape[..^2], other.shape[..^2]);
        int b = FunctionalAD.Shape.Numel(batch);
        var a3 = To(dtype).BroadcastTo([.. batch, m, k]).Reshape(b, m, k);
        var b3 = other.To(dtype).BroadcastTo([.. batch, k, n]).Reshape(b, k, n);
        return Dispatch.Apply(Primitives.BatchMatMul, [a3, b3], null).Reshape([.. batch, m, n]);
    }

    /// <summary>Dot product of two 1-D tensors of equal length (a scalar).</summary>
    /// <exception cref="ShapeMismatchException">not both 1-D of equal length.</exception>
    public Tensor Dot(Tensor other)
    {
        if (Rank != 1 || other.Rank != 1 || shape[0] != other.shape[0])
            throw new ShapeMismatchException("dot", $"expected two 1-D tensors of equal length, got {F(shape)} and {F(other.shape)}");
        return MatMul(other);
    }

    /// <summary>Outer product of two 1-D tensors: [n] and [m] give [n, m].</summary>
    /// <exception cref="ShapeMismatchException">an operand is not 1-D.</exception>
    public Tensor Outer(Tensor other)
    {
        if (Rank != 1 || other.Rank != 1) throw new ShapeMismatchException("outer", $"expected two 1-D tensors, got {F(shape)} and {F(other.shape)}");
        return Unsqueeze(1) * other.Unsqueeze(0);
    }
}
