namespace FunctionalAD;

public static partial class Linalg
{
    /// <summary>
    /// Einstein summation (NumPy's and PyTorch's <c>einsum</c>), e.g. <c>"ij,jk->ik"</c> (matmul), <c>"bij,bjk->bik"</c>,
    /// <c>"ii->"</c> (trace), <c>"ij->ji"</c>, <c>"i,j->ij"</c>. Indices are letters; without "->" the output is the
    /// letters that occur once, in alphabetical order. A letter repeated within one operand takes its diagonal; letters
    /// absent from the output are summed. Operands are contracted left to right, each pair as one batched matmul
    /// (so derivatives of every order come from matmul, permute, reshape, diagonal and sum). Ellipsis ("...") is not
    /// supported.
    /// </summary>
    /// <exception cref="TensorException">the equation is malformed, has an ellipsis, or names an output letter twice
    /// or not among the inputs.</exception>
    /// <exception cref="ShapeMismatchException">the number of operands or an operand's rank does not match the
    /// equation, or one letter stands for two different sizes.</exception>
    public static Tensor Einsum(string equation, params Tensor[] operands)
    {
        ArgumentNullException.ThrowIfNull(equation); ArgumentNullException.ThrowIfNull(operands);
        const string op = "einsum";
        var eq = equation.Replace(" ", "", StringComparison.Ordinal);
        if (eq.Contains("...", StringComparison.Ordinal)) throw new TensorException(op, $"ellipsis is not supported: '{equation}'");
        var sides = eq.Split("->");
        if (sides.Length > 2) throw new TensorException(op, $"more than one '->' in '{equation}'");
        var terms = sides[0].Split(',');
        foreach (var c in eq)
            if (!char.IsAsciiLetter(c) && c != ',' && c != '-' && c != '>') throw new TensorException(op, $"'{c}' is not an index letter in '{equation}'");
        if (terms.Length != operands.Length)
            throw new ShapeMismatchException(op, $"'{equation}' has {terms.Length} operand(s), got {operands.Length} tensor(s)");
        string output = sides.Length == 2 ? sides[1]
            : new string(sides[0].Where(char.IsAsciiLetter).GroupBy(c => c).Where(g => g.Count() == 1).Select(g => g.Key).Order().ToArray());
        if (output.Distinct().Count() != output.Length) throw new TensorException(op, $"an output index repeats in '{equation}'");
        var size = new Dictionary<char, int>();
        for (int i = 0; i < terms.Length; i++)
        {
            var t = operands[i];
            ArgumentNullException.ThrowIfNull(t);
            if (terms[i].Length != t.Rank)
                throw new ShapeMismatchException(op, $"operand {i} has shape {F(t.ShapeRef)} (rank {t.Rank}) but '{terms[i]}' names {terms[i].Length} indices");
            for (int d = 0; d < t.Rank; d++)
            {
                char c = terms[i][d];
                if (size.TryGetValue(c, out int s) && s != t.ShapeRef[d])
                    throw new ShapeMismatchException(op, $"index '{c}' has sizes {s} and {t.ShapeRef[d]} in '{equation}'");
                size[c] = t.ShapeRef[d];
            }
            if (i > 0) Tensor.SameDevice(op, operands[0], t);
        }
        foreach (var c in output)
            if (!size.ContainsKey(c)) throw new TensorException(op, $"output index '{c}' appears in no operand of '{equation}'");

        var xs = new Tensor[operands.Length];
        var ts = new string[operands.Length];
        for (int i = 0; i < operands.Length; i++)
        {
            (xs[i], ts[i]) = TakeDiagonals(operands[i], terms[i]);
            var elsewhere = new HashSet<char>(output);
            for (int j = 0; j < terms.Length; j++) if (j != i) elsewhere.UnionWith(terms[j]);
            (xs[i], ts[i]) = SumOut(xs[i], ts[i], c => !elsewhere.Contains(c));
        }
        var x = xs[0]; var term = ts[0];
        for (int i = 1; i < xs.Length; i++)
        {
            var later = new HashSet<char>(output);
            for (int j = i + 1; j < ts.Length; j++) later.UnionWith(ts[j]);
            (x, term) = Contract(x, term, xs[i], ts[i], later, size);
        }
        return x.Permute([.. output.Select(c => term.IndexOf(c, StringComparison.Ordinal))]);
    }

    /// <summary>For each letter repeated within one term, its diagonal (the letter then appears once, last).</summary>
    static (Tensor, string) TakeDiagonals(Tensor x, string term)
    {
        while (true)
        {
            int p = -1, q = -1;
            for (int a = 0; a < term.Length && p < 0; a++)
                for (int b = a + 1; b < term.Length; b++)
                    if (term[a] == term[b]) { p = a; q = b; break; }
            if (p < 0) return (x, term);
            var rest = Enumerable.Range(0, term.Length).Where(d => d != p && d != q).ToArray();
            x = Diagonal(x.Permute([.. rest, p, q]));
            term = new string(rest.Select(d => term[d]).Append(term[p]).ToArray());
        }
    }

    static (Tensor, string) SumOut(Tensor x, string term, Func<char, bool> drop)
    {
        var axes = Enumerable.Range(0, term.Length).Where(d => drop(term[d])).ToArray();
        if (axes.Length == 0) return (x, term);
        return (x.Sum(axes), new string(term.Where(c => !drop(c)).ToArray()));
    }

    /// <summary>Two operands as one batched matmul: [batch, freeA, contracted] · [batch, contracted, freeB].</summary>
    static (Tensor, string) Contract(Tensor a, string ta, Tensor b, string tb, HashSet<char> later, Dictionary<char, int> size)
    {
        var batch = ta.Where(c => tb.Contains(c) && later.Contains(c)).ToArray();
        var contracted = ta.Where(c => tb.Contains(c) && !later.Contains(c)).ToArray();
        var freeA = ta.Where(c => !tb.Contains(c)).ToArray();
        var freeB = tb.Where(c => !ta.Contains(c)).ToArray();
        int N(char[] cs) { int n = 1; foreach (var c in cs) n *= size[c]; return n; }
        int[] Axes(string t, char[] cs) => [.. cs.Select(c => t.IndexOf(c, StringComparison.Ordinal))];
        var am = a.Permute([.. Axes(ta, batch), .. Axes(ta, freeA), .. Axes(ta, contracted)]).Reshape(N(batch), N(freeA), N(contracted));
        var bm = b.Permute([.. Axes(tb, batch), .. Axes(tb, contracted), .. Axes(tb, freeB)]).Reshape(N(batch), N(contracted), N(freeB));
        var r = am.MatMul(bm).Reshape([.. batch.Select(c => size[c]), .. freeA.Select(c => size[c]), .. freeB.Select(c => size[c])]);
        return (r, new string(batch.Concat(freeA).Concat(freeB).ToArray()));
    }
}
