using System.Globalization;
using System.Numerics;

namespace FunctionalAD;

// The generic-math plumbing of Dual<T>: constants, classification, conversions, parsing and formatting. All of it
// reads the primal (a parsed or converted value is a constant with zero tangent).
public readonly partial struct Dual<T>
{
    /// <inheritdoc/>
    public static Dual<T> Zero => T.Zero;
    /// <inheritdoc/>
    public static Dual<T> One => T.One;
    /// <inheritdoc/>
    public static Dual<T> NegativeOne => T.NegativeOne;
    /// <inheritdoc/>
    public static int Radix => T.Radix;
    /// <inheritdoc/>
    public static Dual<T> AdditiveIdentity => T.Zero;
    /// <inheritdoc/>
    public static Dual<T> MultiplicativeIdentity => T.One;
    /// <inheritdoc/>
    public static Dual<T> E => T.E;
    /// <inheritdoc/>
    public static Dual<T> Pi => T.Pi;
    /// <inheritdoc/>
    public static Dual<T> Tau => T.Tau;
    /// <inheritdoc/>
    public static Dual<T> Epsilon => T.Epsilon;
    /// <inheritdoc/>
    public static Dual<T> NaN => T.NaN;
    /// <inheritdoc/>
    public static Dual<T> NegativeInfinity => T.NegativeInfinity;
    /// <inheritdoc/>
    public static Dual<T> PositiveInfinity => T.PositiveInfinity;
    /// <inheritdoc/>
    public static Dual<T> NegativeZero => T.NegativeZero;

    /// <inheritdoc/>
    public static bool IsCanonical(Dual<T> value) => T.IsCanonical(value.Primal);
    /// <inheritdoc/>
    public static bool IsComplexNumber(Dual<T> value) => T.IsComplexNumber(value.Primal);
    /// <inheritdoc/>
    public static bool IsEvenInteger(Dual<T> value) => T.IsEvenInteger(value.Primal);
    /// <inheritdoc/>
    public static bool IsFinite(Dual<T> value) => T.IsFinite(value.Primal);
    /// <inheritdoc/>
    public static bool IsImaginaryNumber(Dual<T> value) => T.IsImaginaryNumber(value.Primal);
    /// <inheritdoc/>
    public static bool IsInfinity(Dual<T> value) => T.IsInfinity(value.Primal);
    /// <inheritdoc/>
    public static bool IsInteger(Dual<T> value) => T.IsInteger(value.Primal);
    /// <inheritdoc/>
    public static bool IsNaN(Dual<T> value) => T.IsNaN(value.Primal);
    /// <inheritdoc/>
    public static bool IsNegative(Dual<T> value) => T.IsNegative(value.Primal);
    /// <inheritdoc/>
    public static bool IsNegativeInfinity(Dual<T> value) => T.IsNegativeInfinity(value.Primal);
    /// <inheritdoc/>
    public static bool IsNormal(Dual<T> value) => T.IsNormal(value.Primal);
    /// <inheritdoc/>
    public static bool IsOddInteger(Dual<T> value) => T.IsOddInteger(value.Primal);
    /// <inheritdoc/>
    public static bool IsPositive(Dual<T> value) => T.IsPositive(value.Primal);
    /// <inheritdoc/>
    public static bool IsPositiveInfinity(Dual<T> value) => T.IsPositiveInfinity(value.Primal);
    /// <inheritdoc/>
    public static bool IsRealNumber(Dual<T> value) => T.IsRealNumber(value.Primal);
    /// <inheritdoc/>
    public static bool IsSubnormal(Dual<T> value) => T.IsSubnormal(value.Primal);
    /// <inheritdoc/>
    public static bool IsZero(Dual<T> value) => T.IsZero(value.Primal);

    /// <inheritdoc/>
    public static Dual<T> Parse(string s, IFormatProvider? provider) => T.Parse(s, provider);
    /// <inheritdoc/>
    public static Dual<T> Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => T.Parse(s, provider);
    /// <inheritdoc/>
    public static Dual<T> Parse(string s, NumberStyles style, IFormatProvider? provider) => T.Parse(s, style, provider);
    /// <inheritdoc/>
    public static Dual<T> Parse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider? provider) => T.Parse(s, style, provider);
    /// <inheritdoc/>
    public static bool TryParse(string? s, IFormatProvider? provider, out Dual<T> result) { var ok = T.TryParse(s, provider, out var v); result = v!; return ok; }
    /// <inheritdoc/>
    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out Dual<T> result) { var ok = T.TryParse(s, provider, out var v); result = v!; return ok; }
    /// <inheritdoc/>
    public static bool TryParse(string? s, NumberStyles style, IFormatProvider? provider, out Dual<T> result) { var ok = T.TryParse(s, style, provider, out var v); result = v!; return ok; }
    /// <inheritdoc/>
    public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider? provider, out Dual<T> result) { var ok = T.TryParse(s, style, provider, out var v); result = v!; return ok; }

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        var s = ToString(format.IsEmpty ? null : format.ToString(), provider);
        charsWritten = 0;
        if (s.Length > destination.Length) return false;
        s.AsSpan().CopyTo(destination);
        charsWritten = s.Length;
        return true;
    }

    // Conversions: from/to other number types through the primal.
    static bool TryConvertFrom<TOther>(TOther value, out Dual<T> result, Func<TOther, T> convert) where TOther : INumberBase<TOther>
    {
        if (value is Dual<T> d) { result = d; return true; }
        result = convert(value);
        return true;
    }

    /// <inheritdoc/>
    public static bool TryConvertFromChecked<TOther>(TOther value, out Dual<T> result) where TOther : INumberBase<TOther> =>
        TryConvertFrom(value, out result, T.CreateChecked);
    /// <inheritdoc/>
    public static bool TryConvertFromSaturating<TOther>(TOther value, out Dual<T> result) where TOther : INumberBase<TOther> =>
        TryConvertFrom(value, out result, T.CreateSaturating);
    /// <inheritdoc/>
    public static bool TryConvertFromTruncating<TOther>(TOther value, out Dual<T> result) where TOther : INumberBase<TOther> =>
        TryConvertFrom(value, out result, T.CreateTruncating);
    /// <inheritdoc/>
    public static bool TryConvertToChecked<TOther>(Dual<T> value, out TOther result) where TOther : INumberBase<TOther>
    {
        result = TOther.CreateChecked(value.Primal);
        return true;
    }
    /// <inheritdoc/>
    public static bool TryConvertToSaturating<TOther>(Dual<T> value, out TOther result) where TOther : INumberBase<TOther>
    {
        result = TOther.CreateSaturating(value.Primal);
        return true;
    }
    /// <inheritdoc/>
    public static bool TryConvertToTruncating<TOther>(Dual<T> value, out TOther result) where TOther : INumberBase<TOther>
    {
        result = TOther.CreateTruncating(value.Primal);
        return true;
    }

    // IFloatingPoint's exponent/significand accessors describe the primal's representation.
    /// <inheritdoc/>
    public int GetExponentByteCount() => Primal.GetExponentByteCount();
    /// <inheritdoc/>
    public int GetExponentShortestBitLength() => Primal.GetExponentShortestBitLength();
    /// <inheritdoc/>
    public int GetSignificandBitLength() => Primal.GetSignificandBitLength();
    /// <inheritdoc/>
    public int GetSignificandByteCount() => Primal.GetSignificandByteCount();
    /// <inheritdoc/>
    public bool TryWriteExponentBigEndian(Span<byte> destination, out int bytesWritten) => Primal.TryWriteExponentBigEndian(destination, out bytesWritten);
    /// <inheritdoc/>
    public bool TryWriteExponentLittleEndian(Span<byte> destination, out int bytesWritten) => Primal.TryWriteExponentLittleEndian(destination, out bytesWritten);
    /// <inheritdoc/>
    public bool TryWriteSignificandBigEndian(Span<byte> destination, out int bytesWritten) => Primal.TryWriteSignificandBigEndian(destination, out bytesWritten);
    /// <inheritdoc/>
    public bool TryWriteSignificandLittleEndian(Span<byte> destination, out int bytesWritten) => Primal.TryWriteSignificandLittleEndian(destination, out bytesWritten);
}

/// <summary>Derivatives of scalar functions with <see cref="Dual{T}"/> (forward mode, no allocation).</summary>
public static class Dual
{
    /// <summary>x as the variable: primal x, tangent 1.</summary>
    public static Dual<T> Variable<T>(T x) where T : IFloatingPointIeee754<T> => new(x, T.One);

    /// <summary>f'(x).</summary>
    public static T Diff<T>(Func<Dual<T>, Dual<T>> f, T x) where T : IFloatingPointIeee754<T> => f(Variable(x)).Tangent;

    /// <summary>(f(x), f'(x)) in one evaluation.</summary>
    public static (T Value, T Derivative) ValueAndDiff<T>(Func<Dual<T>, Dual<T>> f, T x) where T : IFloatingPointIeee754<T>
    {
        var y = f(Variable(x));
        return (y.Primal, y.Tangent);
    }

    /// <summary>f''(x), by nesting duals (the inner level is a distinct type, so no perturbation confusion).</summary>
    public static T Diff2<T>(Func<Dual<Dual<T>>, Dual<Dual<T>>> f, T x) where T : IFloatingPointIeee754<T> =>
        f(new Dual<Dual<T>>(Variable(x), new Dual<T>(T.One, T.Zero))).Tangent.Tangent;
}
