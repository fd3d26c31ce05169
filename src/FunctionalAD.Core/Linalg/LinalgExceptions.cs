namespace FunctionalAD;

/// <summary>
/// A matrix that an operation must invert is singular: LU factorization with partial pivoting met a pivot that is
/// exactly zero. The message names the operation, the shape, the batch entry and the pivot.
/// </summary>
public sealed class SingularMatrixException : TensorException
{
    /// <summary>The (0-based) index of the zero pivot U[k, k].</summary>
    public int Pivot { get; }
    /// <summary>The (0-based, row-major) index of the singular matrix among the batch dimensions.</summary>
    public int BatchIndex { get; }

    /// <summary>Creates the exception for matrix <paramref name="batchIndex"/> of a batch of shape
    /// <paramref name="shape"/> whose pivot <paramref name="pivot"/> is zero.</summary>
    public SingularMatrixException(string operation, int[] shape, int batchIndex, int pivot)
        : base(operation, $"the matrix is singular: LU factorization found U[{pivot},{pivot}] = 0 (pivot {pivot + 1} of {shape[^1]}) in matrix {batchIndex} of shape {Shape.Format(shape)}")
    {
        Pivot = pivot; BatchIndex = batchIndex;
    }
}

/// <summary>
/// Cholesky factorization of a matrix that is not (numerically) positive definite: the leading principal minor of
/// order <see cref="Order"/> is not positive. The message names the operation, the shape, the batch entry and the order.
/// </summary>
public sealed class NotPositiveDefiniteException : TensorException
{
    /// <summary>The order (1-based, as LAPACK's info) of the first leading minor that is not positive.</summary>
    public int Order { get; }
    /// <summary>The (0-based, row-major) index of the failing matrix among the batch dimensions.</summary>
    public int BatchIndex { get; }

    /// <summary>Creates the exception for matrix <paramref name="batchIndex"/> of a batch of shape
    /// <paramref name="shape"/> whose leading minor of order <paramref name="order"/> is not positive.</summary>
    public NotPositiveDefiniteException(string operation, int[] shape, int batchIndex, int order)
        : base(operation, $"the matrix is not positive definite: its leading minor of order {order} is not positive (matrix {batchIndex} of shape {Shape.Format(shape)})")
    {
        Order = order; BatchIndex = batchIndex;
    }
}
