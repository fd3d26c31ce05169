using FunctionalAD.Backends;

namespace FunctionalAD.Autodiff;

/// <summary>
/// The nesting rule, in one place. Applying a primitive to operands that carry derivatives for several nested
/// transformations:
/// <list type="number">
/// <item>the operand tag with the highest level is the current perturbation; operands without it are constants to it;</item>
/// <item>the primal result is the same primitive applied to the primals (recursively, which handles outer tags);</item>
/// <item>forward tag: the result's tangent is the sum of the per-input jvp rules over inputs with a tangent;</item>
/// <item>reverse tag: the application is recorded as a node on that tag's tape (vjp rules run in backward);</item>
/// <item>two different live tags at the same level mean a perturbation escaped its transformation: an error;</item>
/// <item>a layer whose transformation has finished is removed first: the escaped value is the constant it became.</item>
/// </list>
/// Inside <see cref="NoGrad"/> every operand is treated as a constant.
/// </summary>
internal static class Dispatch
{
    // The scope flows with the async flow (AsyncLocal); every operation reads it through a per-thread copy that the
    // AsyncLocal's change notification keeps equal to it (on Value writes and on every execution-context switch of the
    // thread): AsyncLocal.Value showed as a few percent of the scalar tape's profile.
    static readonly AsyncLocal<bool> noGrad = new(change => noGradHere = change.CurrentValue);
    [ThreadStatic] static bool noGradHere;

    public static bool NoGradActive => noGradHere;

    /// <summary>Runs body with derivative tracking off (results are constants).</summary>
    public static T NoGrad<T>(Func<T> body)
    {
        bool outer = noGrad.Value;
        noGrad.Value = true;
        try { return body(); }
        finally { noGrad.Value = outer; }
    }

    /// <summary>The operands with every layer of a finished transformation removed: a value that escaped its
    /// grad/jvp call is the constant it became (never a derivative of zero read from a dead tape).</summary>
    static Tensor[] WithoutFinished(Tensor[] xs)
    {
        var r = new Tensor[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            var x = xs[i];
            while (x.tag is { Finished: true }) x = x.primal!;
            r[i] = x;
        }
        return r;
    }

    /// <summary><paramref name="p"/> of one operand: the same rule as <see cref="Apply(Primitive, Tensor[], object?)"/>,
    /// with the common cases (a constant; a value of one reverse tag over a constant) taken without the operand array,
    /// the recursion on the primal and the raw operand array. Anything else goes to the general rule.</summary>
    public static Tensor Apply(Primitive p, Tensor x, object? attr)
    {
        var top = x.tag;
        if (top is null) return Constant(p, x, attr);
        if (top.Finished || top.Mode != Mode.Reverse || p.ZeroDerivative || noGradHere) return Apply(p, [x], attr);
        // a rank-0 float over a constant: computed on the number and taped as a record of numbers (the scalar tape)
        if (p.ForwardScalar is { } scalar && top.Tape is { } tape && x.TryConstantPrimalScalar(out var x0, out bool single))
        {
            double value = scalar(x0, 0, single);
            return new Tensor(value, single ? DType.Float32 : DType.Float64, top,
                tape.Append(new ScalarRecord { Op = p.ScalarId + 1, X0 = x0, Y = value, Parent0 = x.Slot, Parent1 = -1, Single = single }));
        }
        var primal = x.primal!;
        var y = primal.tag is null ? Constant(p, primal, attr) : Apply(p, primal, attr);
        if (!y.DType.IsFloatingPoint()) return y;
        if (p.Vjp[0] is null) throw p.Missing("reverse-mode", 0);
        return Record(top, new Node(p, primal, x.node, null, null, y, attr));
    }

    /// <summary><paramref name="p"/> of two operands: the common cases of <see cref="Apply(Primitive, Tensor[], object?)"/>
    /// (constants; values of one reverse tag, each over a constant or not) without the operand arrays; anything else
    /// (forward mode, two tags, a finished tag, no-grad) goes to the general rule.</summary>
    public static Tensor Apply(Primitive p, Tensor a, Tensor b, object? attr)
    {
        Tag? ta = a.tag, tb = b.tag;
        if (ta is null && tb is null) return Constant(p, a, b, attr);
        var top = ta is null ? tb! : tb is null || ReferenceEquals(ta, tb) ? ta : null;
        if (top is null || top.Finished || top.Mode != Mode.Reverse || p.ZeroDerivative || noGradHere) return Apply(p, [a, b], attr);
        // rank-0 floats of one dtype over constants: computed on the numbers and taped as a record of numbers
        if (p.ForwardScalar is { } scalar && top.Tape is { } tape
            && (ta is null ? ScalarRecord.TryValue(a.raw, out var x0, out bool single) : a.TryConstantPrimalScalar(out x0, out single))
            && (tb is null ? ScalarRecord.TryValue(b.raw, out var x1, out bool single1) : b.TryConstantPrimalScalar(out x1, out single1))
            && single == single1)
        {
            double value = scalar(x0, x1, single);
            return new Tensor(value, single ? DType.Float32 : DType.Float64, top, tape.Append(new ScalarRecord
            {
                Op = p.ScalarId + 1, X0 = x0, X1 = x1, Y = value, Single = single, Binary = true,
                Parent0 = ta is null ? -1 : a.Slot, Parent1 = tb is null ? -1 : b.Slot,
            }));
        }
        Tensor pa = ta is null ? a : a.primal!, pb = tb is null ? b : b.primal!;
        var y = pa.tag is null && pb.tag is null ? Constant(p, pa, pb, attr) : Apply(p, pa, pb, attr);
        if (!y.DType.IsFloatingPoint()) return y;
        if (ta is not null && p.Vjp[0] is null) throw p.Missing("reverse-mode", 0);
        if (tb is not null && p.Vjp[1] is null) throw p.Missing("reverse-mode", 1);
        return Record(top, new Node(p, pa, a.node, pb, b.node, y, attr));
    }

    static Tensor Record(Tag top, Node node)
    {
        node.Index = top.Record(node);
        return new Tensor(node.Output, null, node, top);
    }

    static Tensor Constant(Primitive p, Tensor x, object? attr)
    {
        var raw = x.Value;
        var backend = Backend.For(x.Device);
        return new Tensor(p.ForwardUnary is { } f ? f(backend, raw) : p.Forward(backend, [raw], attr));
    }

    static Tensor Constant(Primitive p, Tensor a, Tensor b, object? attr)
    {
        RawTensor ra = a.Value, rb = b.Value;
        var backend = Backend.For(a.Device);
        return new Tensor(p.ForwardBinary is { } f ? f(backend, ra, rb) : p.Forward(backend, [ra, rb], attr));
    }

    public static Tensor Apply(Primitive p, Tensor[] xs, object? attr)
    {
        Tag? top = null;
        foreach (var x in xs)
        {
            var t = x.tag;
            if (t is null) continue;
            if (t.Finished) return Apply(p, WithoutFinished(xs), attr);
            if (top is null || t.Level > top.Level) top = t;
            else if (t.Level == top.Level && !ReferenceEquals(t, top))
                throw new InvalidOperationException($"{p.Name}: operands carry derivatives of two different transformations at the same nesting level; a value escaped the grad/jvp call that created it");
        }
        if (top is null || noGradHere)
        {
            var raws = new RawTensor[xs.Length];
            for (int i = 0; i < xs.Length; i++) raws[i] = xs[i].Value;
            return new Tensor(p.Forward(Backend.For(raws.Length > 0 ? raws[0].Device : Device.Cpu), raws, attr));
        }

        var primals = new Tensor[xs.Length];
        for (int i = 0; i < xs.Length; i++) primals[i] = ReferenceEquals(xs[i].tag, top) ? xs[i].primal! : xs[i];
        var y = Apply(p, primals, attr);
        if (p.ZeroDerivative || !y.DType.IsFloatingPoint()) return y;

        if (top.Mode == Mode.Forward)
        {
            Tensor? dy = null;
            for (int i = 0; i < xs.Length; i++)
            {
                if (!ReferenceEquals(xs[i].tag, top) || xs[i].tangent is null) continue;
                var rule = p.Jvp[i] ?? throw p.Missing("forward-mode", i);
                var di = rule(xs[i].tangent!, primals, y, attr);
                dy = dy is null ? di : dy + di;
            }
            return dy is null ? y : new Tensor(y, dy, null, top);
        }

        var parents = new Node?[xs.Length];
        bool any = false;
        for (int i = 0; i < xs.Length; i++)
        {
            if (!ReferenceEquals(xs[i].tag, top)) continue;
            if (p.Vjp[i] is null) throw p.Missing("reverse-mode", i);
            parents[i] = xs[i].node;
            any = true;
        }
        if (!any) return y;
        return Record(top, new Node(p, primals, parents, y, attr));
    }
}
