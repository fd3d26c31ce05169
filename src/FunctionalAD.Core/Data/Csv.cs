using System.Globalization;

namespace FunctionalAD.Data;

/// <summary>A table of numbers read from a CSV file: the column names (from the header, or "c0", "c1", ...) and the
/// values as a Float64 tensor [rows, columns].</summary>
/// <param name="Columns">The column names.</param>
/// <param name="Values">The numbers, one row per data line.</param>
public sealed record CsvTable(string[] Columns, Tensor Values);

/// <summary>Reads CSV files of numbers (comma-separated by default, invariant culture, blank lines skipped).</summary>
public static class Csv
{
    /// <summary>
    /// Reads <paramref name="path"/>. <paramref name="header"/>: true or false says whether the first line names the
    /// columns; null decides by looking (a first line with a field that is not a number is a header).
    /// </summary>
    /// <exception cref="FormatException">a row has another number of fields than the first, or a field is not a
    /// number; the message names the file, line and column.</exception>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    public static CsvTable Load(string path, bool? header = null, char separator = ',')
    {
        ArgumentNullException.ThrowIfNull(path);
        var lines = File.ReadAllLines(path);
        string[]? names = null;
        var rows = new List<double[]>();
        int width = -1;
        for (int ln = 0; ln < lines.Length; ln++)
        {
            if (string.IsNullOrWhiteSpace(lines[ln])) continue;
            var fields = lines[ln].Split(separator).Select(f => f.Trim()).ToArray();
            if (names is null && rows.Count == 0 && (header ?? !fields.All(IsNumber)))
            {
                names = fields.Select(f => f.Trim('"')).ToArray();
                width = fields.Length;
                continue;
            }
            if (width < 0) width = fields.Length;
            if (fields.Length != width)
                throw new FormatException($"{path}, line {ln + 1}: {fields.Length} fields, but the table has {width} columns");
            var row = new double[width];
            for (int c = 0; c < width; c++)
                if (!double.TryParse(fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out row[c]))
                    throw new FormatException($"{path}, line {ln + 1}, column {c + 1}: '{fields[c]}' is not a number");
            rows.Add(row);
        }
        width = Math.Max(width, 0);
        var flat = new double[rows.Count * width];
        for (int r = 0; r < rows.Count; r++) rows[r].CopyTo(flat, r * width);
        return new CsvTable(names ?? Enumerable.Range(0, width).Select(i => $"c{i}").ToArray(), Tensor.FromArray(flat, rows.Count, width));
    }

    static bool IsNumber(string field) => double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
