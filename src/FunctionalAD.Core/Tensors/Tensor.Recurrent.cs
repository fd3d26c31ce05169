namespace FunctionalAD;

public sealed partial class Tensor
{
    /// <summary>
    /// One step of an LSTM cell, as PyTorch's <c>LSTMCell</c>: gates = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh split into
    /// (i, f, g, o); i, f, o = σ(·), g = tanh(·); c' = f·c + i·g; h' = o·tanh(c'). x [B, I], h and c [B, H],
    /// W_ih [4H, I], W_hh [4H, H], biases [4H] (each optional). Returns (h', c').
    /// </summary>
    /// <exception cref="ShapeMismatchException">an operand's shape does not fit the others (the message names both).</exception>
    public static (Tensor H, Tensor C) LstmCell(Tensor x, Tensor h, Tensor c, Tensor weightIh, Tensor weightHh, Tensor? biasIh = null, Tensor? biasHh = null)
    {
        ArgumentNullException.ThrowIfNull(c);
        var gates = Gates("lstmCell", 4, x, h, weightIh, weightHh, biasIh, biasHh, out int hidden);
        if (!c.shape.AsSpan().SequenceEqual(h.shape))
            throw new ShapeMismatchException("lstmCell", $"the cell state c {F(c.shape)} must have the hidden state's shape {F(h.shape)}");
        var chunks = gates.Chunk(4, -1);
        var i = chunks[0].Sigmoid();
        var f = chunks[1].Sigmoid();
        var g = chunks[2].Tanh();
        var o = chunks[3].Sigmoid();
        var c2 = f * c + i * g;
        return (o * c2.Tanh(), c2);
    }

    /// <summary>
    /// One step of a GRU cell, as PyTorch's <c>GRUCell</c>: with W_ih = [W_ir; W_iz; W_in] and W_hh = [W_hr; W_hz; W_hn],
    /// r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(W_iz·x + b_iz + W_hz·h + b_hz), n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)),
    /// h' = (1 - z)·n + z·h. x [B, I], h [B, H], W_ih [3H, I], W_hh [3H, H], biases [3H] (each optional). Returns h'.
    /// </summary>
    /// <exception cref="ShapeMismatchException">an operand's shape does not fit the others (the message names both).</exception>
    public static Tensor GruCell(Tensor x, Tensor h, Tensor weightIh, Tensor weightHh, Tensor? biasIh = null, Tensor? biasHh = null)
    {
        const string op = "gruCell";
        CheckRecurrent(op, 3, x, h, weightIh, weightHh, biasIh, biasHh, out _);
        var gi = x.MatMul(weightIh.T);
        if (biasIh is not null) gi = gi + biasIh;
        var gh = h.MatMul(weightHh.T);
        if (biasHh is not null) gh = gh + biasHh;
        var a = gi.Chunk(3, -1);
        var b = gh.Chunk(3, -1);
        var r = (a[0] + b[0]).Sigmoid();
        var z = (a[1] + b[1]).Sigmoid();
        var n = (a[2] + r * b[2]).Tanh();
        return (1.0 - z) * n + z * h;
    }

    /// <summary>
    /// An LSTM over a sequence, batch first (PyTorch's <c>LSTM</c> with one layer, <c>batch_first=True</c>): x [B, T, I],
    /// initial h0 and c0 [B, H]; applies <see cref="LstmCell"/> at t = 0..T-1. Returns the outputs [B, T, H] (h at every
    /// step) and the final (h, c).
    /// </summary>
    /// <exception cref="ShapeMismatchException">x is not [B, T, I] with T ≥ 1, or the shapes do not fit (see LstmCell).</exception>
    public static (Tensor Output, Tensor H, Tensor C) Lstm(Tensor x, Tensor h0, Tensor c0, Tensor weightIh, Tensor weightHh, Tensor? biasIh = null, Tensor? biasHh = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckSequence("lstm", x);
        Tensor h = h0, c = c0;
        var outputs = new Tensor[x.shape[1]];
        for (int t = 0; t < outputs.Length; t++)
        {
            (h, c) = LstmCell(x.Select(1, t), h, c, weightIh, weightHh, biasIh, biasHh);
            outputs[t] = h;
        }
        return (Stack(outputs, 1), h, c);
    }

    /// <summary>
    /// A GRU over a sequence, batch first (PyTorch's <c>GRU</c> with one layer, <c>batch_first=True</c>): x [B, T, I],
    /// initial h0 [B, H]; applies <see cref="GruCell"/> at t = 0..T-1. Returns the outputs [B, T, H] and the final h.
    /// </summary>
    /// <exception cref="ShapeMismatchException">x is not [B, T, I] with T ≥ 1, or the shapes do not fit (see GruCell).</exception>
    public static (Tensor Output, Tensor H) Gru(Tensor x, Tensor h0, Tensor weightIh, Tensor weightHh, Tensor? biasIh = null, Tensor? biasHh = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckSequence("gru", x);
        Tensor h = h0;
        var outputs = new Tensor[x.shape[1]];
        for (int t = 0; t < outputs.Length; t++)
        {
            h = GruCell(x.Select(1, t), h, weightIh, weightHh, biasIh, biasHh);
            outputs[t] = h;
        }
        return (Stack(outputs, 1), h);
    }

    static void CheckSequence(string op, Tensor x)
    {
        if (x.Rank != 3 || x.shape[1] < 1)
            throw new ShapeMismatchException(op, $"the input must be [batch, time, features] with at least one step, got {F(x.shape)}");
    }

    static Tensor Gates(string op, int count, Tensor x, Tensor h, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh, out int hidden)
    {
        CheckRecurrent(op, count, x, h, weightIh, weightHh, biasIh, biasHh, out hidden);
        var gates = x.MatMul(weightIh.T) + h.MatMul(weightHh.T);
        if (biasIh is not null) gates = gates + biasIh;
        if (biasHh is not null) gates = gates + biasHh;
        return gates;
    }

    static void CheckRecurrent(string op, int count, Tensor x, Tensor h, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh, out int hidden)
    {
        ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(weightIh); ArgumentNullException.ThrowIfNull(weightHh);
        if (weightHh.Rank != 2 || weightHh.shape[0] != count * weightHh.shape[1])
            throw new ShapeMismatchException(op, $"weight_hh must be [{count}·H, H], got {F(weightHh.shape)}");
        hidden = weightHh.shape[1];
        if (weightIh.Rank != 2 || weightIh.shape[0] != count * hidden)
            throw new ShapeMismatchException(op, $"weight_ih must be [{count * hidden}, input size] for hidden size {hidden}, got {F(weightIh.shape)}");
        if (x.Rank != 2 || x.shape[1] != weightIh.shape[1])
            throw new ShapeMismatchException(op, $"the input must be [batch, {weightIh.shape[1]}] (weight_ih {F(weightIh.shape)}), got {F(x.shape)}");
        if (h.Rank != 2 || h.shape[0] != x.shape[0] || h.shape[1] != hidden)
            throw new ShapeMismatchException(op, $"the hidden state must be [{x.shape[0]}, {hidden}] (input {F(x.shape)}, hidden size {hidden}), got {F(h.shape)}");
        foreach (var (name, b) in new[] { ("bias_ih", biasIh), ("bias_hh", biasHh) })
            if (b is not null && (b.Rank != 1 || b.shape[0] != count * hidden))
                throw new ShapeMismatchException(op, $"{name} must be [{count * hidden}], got {F(b.shape)}");
    }
}
