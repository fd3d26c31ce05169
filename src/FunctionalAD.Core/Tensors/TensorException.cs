namespace FunctionalAD;

/// <summary>
/// Thrown when a tensor operation gets input it cannot accept (shapes that do not align, a dtype or device it does
/// not support, an axis out of range). The message starts with the operation's name and says what was expected.
/// </summary>
public class TensorException : ArgumentException
{
    /// <summary>The operation that refused its input, e.g. "matmul".</summary>
    public string Operation { get; }

    /// <summary>Creates the exception; the message is "<paramref name="operation"/>: <paramref name="detail"/>".</summary>
    public TensorException(string operation, string detail) : base($"{operation}: {detail}") => Operation = operation;
}

/// <summary>Shapes that do not fit the operation (not broadcastable, not aligned, wrong rank).</summary>
public sealed class ShapeMismatchException(string operation, string detail) : TensorException(operation, detail);

/// <summary>A dtype the operation does not accept (e.g. sin of an Int32 tensor).</summary>
public sealed class DTypeMismatchException(string operation, string detail) : TensorException(operation, detail);

/// <summary>Operands on different devices, or a device that does not exist.</summary>
public sealed class DeviceMismatchException(string operation, string detail) : TensorException(operation, detail);
