namespace FunctionalAD.Ops;

// Elementwise functions of two tensors. max/min ties split the derivative equally between the operands.

/// <summary>a + b; integers stay integers.</summary>
public readonly struct Add : IBinaryOp
{
    string IBinaryOp.Name => "add";
    OpDomain IBinaryOp.DomainA => new(-2, 2);
    OpDomain IBinaryOp.DomainB => new(-2, 2);
    T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Add(a, b);
    T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Const(1);
    T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Const(1);
}

/// <summary>a - b; integers stay integers.</summary>
public readonly struct Sub : IBinaryOp
{
    string IBinaryOp.Name => "sub";
    OpDomain IBinaryOp.DomainA => new(-2, 2);
    OpDomain IBinaryOp.DomainB => new(-2, 2);
    T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Sub(a, b);
    T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Const(1);
    T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Const(-1);
}

/// <summary>a · b; integers stay integers.</summary>
public readonly struct Mul : IBinaryOp
{
    string IBinaryOp.Name => "mul";
    OpDomain IBinaryOp.DomainA => new(-2, 2);
    OpDomain IBinaryOp.DomainB => new(-2, 2);
    T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Mul(a, b);
    T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => b;
    T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => a;
}

/// <summary>a / b, true division: integer operands are converted to Float32 first.</summary>
public readonly struct Div : IBinaryOp
{
    string IBinaryOp.Name => "div";
    OpDomain IBinaryOp.DomainA => new(-2, 2);
    OpDomain IBinaryOp.DomainB => new(-2, 2, 0.5);
    bool IBinaryOp.AcceptsIntegers => false;
    T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Div(a, b);
    T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Div(m.Const(1), b);
    T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Neg(m.Div(y, b));
}

/// <summary>aᵇ; ∂/∂a = b·aᵇ⁻¹, ∂/∂b = aᵇ·log a (floating point only).</summary>
public readonly struct Pow : IBinaryOp
{
    string IBinaryOp.Name => "pow";
    OpDomain IBinaryOp.DomainA => new(0.5, 2);
    OpDomain IBinaryOp.DomainB => new(-2, 2);
    bool IBinaryOp.AcceptsIntegers => false;
    T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Pow(a, b);
    T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Mul(b, m.Pow(a, m.Sub(b, m.Const(1))));
    // y·log a, read as 0 where a = 0 (PyTorch's convention: 0^b is flat in b there, where y·log a would be 0·-inf).
    T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Mul(y, m.Log(m.Add(a, m.Sub(m.Const(1), m.Positive(m.Abs(a))))));
}

/// <summary>atan2(a, b), the angle of the point (b, a); ∂/∂a = b/(a² + b²), ∂/∂b = -a/(a² + b²) (floating point only).</summary>
public readonly struct Atan2 : IBinaryOp
{
    string IBinaryOp.Name => "atan2";
    OpDomain IBinaryOp.DomainA => new(-2, 2, 0.3);
    OpDomain IBinaryOp.DomainB => new(-2, 2, 0.3);
    bool IBinaryOp.AcceptsIntegers => false;
    T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Atan2(a, b);
    T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.Div(b, m.Add(m.Mul(a, a), m.Mul(b, b)));
    T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.Neg(m.Div(a, m.Add(m.Mul(a, a), m.Mul(b, b))));
}

/// <summary>The larger of a and b (NaN if either is); ties give each operand half the derivative.</summary>
public readonly struct Maximum : IBinaryOp
{
    string IBinaryOp.Name => "maximum";
    OpDomain IBinaryOp.DomainA => new(-2, 2, 0, false);
    OpDomain IBinaryOp.DomainB => new(-2, 2, 0, false);
    T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Max(a, b);
    T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.GreaterShare(a, b);
    T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.GreaterShare(b, a);
}

/// <summary>The smaller of a and b (NaN if either is); ties give each operand half the derivative.</summary>
public readonly struct Minimum : IBinaryOp
{
    string IBinaryOp.Name => "minimum";
    OpDomain IBinaryOp.DomainA => new(-2, 2, 0, false);
    OpDomain IBinaryOp.DomainB => new(-2, 2, 0, false);
    T IBinaryOp.Apply<T, M>(M m, T a, T b) => m.Min(a, b);
    T IBinaryOp.DerivativeA<T, M>(M m, T a, T b, T y) => m.GreaterShare(b, a);
    T IBinaryOp.DerivativeB<T, M>(M m, T a, T b, T y) => m.GreaterShare(a, b);
}

