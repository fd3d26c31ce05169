using System.Globalization;
using System.Text;

namespace FunctionalAD;

/// <summary>Prints tensors the way PyTorch does: <c>tensor([[1.0000, 2.0000], ...], dtype=Float32)</c>, with
/// "..." in place of the middle of dimensions longer than <see cref="EdgeItems"/>×2 once a tensor has more than
/// <see cref="Threshold"/> elements. A tensor whose text spans several lines starts with a line break, so that its
/// rows line up wherever the text lands: F# Interactive puts a value after <c>val t: Tensor = </c> or on the next
/// line indented by two, and a format string puts it after its own prefix; rows indented for column 0 would be off
/// by that much.</summary>
public static class TensorFormat
{
    /// <summary>Element count above which printing elides.</summary>
    public const int Threshold = 1000;
    /// <summary>Elements shown at each end of an elided dimension.</summary>
    public const int EdgeItems = 3;

    /// <summary>The PyTorch-style text of a tensor.</summary>
    public static string Format(Tensor t)
    {
        var raw = t.Value;
        var values = t.DType switch
        {
            DType.Bool => t.StopGradient().ToArray<bool>().Select(b => b ? "True" : "False").ToArray(),
            DType.Int32 or DType.Int64 => t.StopGradient().To(DType.Int64).ToArray<long>().Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray(),
            _ => FloatStrings(t.ToDoubleArray()),
        };
        int width = values.Length == 0 ? 0 : values.Max(v => v.Length);
        var sb = new StringBuilder("tensor(");
        bool elide = raw.Numel > Threshold;
        Append(sb, values, raw.Shape, 0, 0, width, elide, "tensor(".Length);
        if (raw.Numel == 0 && raw.Rank > 1) sb.Append($", size={Shape.Format(raw.Shape)}");
        sb.Append(", dtype=").Append(t.DType);
        if (t.Device != Device.Cpu) sb.Append(", device=").Append(t.Device);
        if (t.GradFn is { } fn) sb.Append(", grad_fn=<").Append(fn.Operation).Append('>');
        var text = sb.Append(')').ToString();
        return text.Contains('\n') ? "\n" + text : text;
    }

    static string[] FloatStrings(double[] v)
    {
        bool sci = v.Any(x => double.IsFinite(x) && x != 0 && (Math.Abs(x) >= 1e8 || Math.Abs(x) < 1e-4));
        return v.Select(x =>
            double.IsNaN(x) ? "nan" : double.IsPositiveInfinity(x) ? "inf" : double.IsNegativeInfinity(x) ? "-inf"
            : x.ToString(sci ? "0.0000e+00" : "0.0000", CultureInfo.InvariantCulture)).ToArray();
    }

    static void Append(StringBuilder sb, string[] v, int[] shape, int dim, int offset, int width, bool elide, int indent)
    {
        if (shape.Length == 0) { sb.Append(v[0]); return; }
        int n = shape[dim];
        int stride = Shape.Numel(shape.AsSpan(dim + 1));
        sb.Append('[');
        for (int i = 0; i < n; i++)
        {
            if (elide && n > 2 * EdgeItems && i == EdgeItems)
            {
                sb.Append(dim == shape.Length - 1 ? "..., " : "...,\n" + new string(' ', indent + dim + 1));
                i = n - EdgeItems - 1;
                continue;
            }
            if (dim == shape.Length - 1) sb.Append(v[offset + i].PadLeft(width));
            else Append(sb, v, shape, dim + 1, offset + i * stride, width, elide, indent);
            if (i < n - 1)
                sb.Append(dim == shape.Length - 1 ? ", " : "," + new string('\n', shape.Length - 1 - dim) + new string(' ', indent + dim + 1));
        }
        sb.Append(']');
    }
}
