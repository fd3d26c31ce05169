namespace FunctionalAD;

/// <summary>
/// An optimizer's update rule, written once for every language (PyTorch's semantics): its hyperparameters and the
/// math of one step for one tensor. It holds no state; the caller keeps the per-tensor slots (momentum buffers,
/// moment estimates) and the step count. The imperative optimizers (<c>FunctionalAD.Imperative.Sgd</c>,
/// <c>Adam</c>, ..., <c>ParameterOptimizer</c>) and the F# pure <c>Optim.step</c> both apply these rules.
/// </summary>
/// <remarks>The learning rate and weight decay are passed to <see cref="Update(Tensor, Tensor, Tensor[], int, double, double)"/> rather than read from the rule,
/// so that parameter groups and schedules can change them; <see cref="LearningRate"/> and
/// <see cref="WeightDecay"/> are the defaults.</remarks>
public abstract record UpdateRule
{
    /// <summary>The default learning rate.</summary>
    public required double LearningRate { get; init; }
    /// <summary>The default weight decay (its meaning, L2 or decoupled, is the rule's; see each rule).</summary>
    public double WeightDecay { get; init; }

    /// <summary>How many state tensors (each shaped like its parameter, starting at zero) the rule keeps per parameter.</summary>
    public abstract int SlotCount { get; }

    /// <summary>One update of one tensor: returns the new value and writes the new slot tensors into
    /// <paramref name="slots"/> (length <see cref="SlotCount"/>; the tensors given there are not changed).</summary>
    /// <param name="parameter">The current value (treated as a constant).</param>
    /// <param name="gradient">Its gradient, the parameter's shape.</param>
    /// <param name="slots">The rule's state for this tensor, replaced by the new state.</param>
    /// <param name="step">How many updates were made before this one (0 for the first).</param>
    /// <param name="learningRate">The learning rate of this step.</param>
    /// <param name="weightDecay">The weight decay of this step.</param>
    public abstract Tensor Update(Tensor parameter, Tensor gradient, Tensor[] slots, int step, double learningRate, double weightDecay);

    /// <summary><see cref="Update(Tensor, Tensor, Tensor[], int, double, double)"/> with the rule's own learning
    /// rate and weight decay.</summary>
    public Tensor Update(Tensor parameter, Tensor gradient, Tensor[] slots, int step) =>
        Update(parameter, gradient, slots, step, LearningRate, WeightDecay);

    /// <summary>
    /// <see cref="Update(Tensor, Tensor, Tensor[], int, double, double)"/>, giving the large arrays of the update's
    /// temporaries (lr·g, moment products, square roots, ...) back to <see cref="Backends.ResultPool"/> when the
    /// rule is one of the library's and nothing is traced: then only the result and the new slots can be referenced
    /// once it returns. Under .NET's default GC each of those arrays was a large-object allocation per parameter and step.
    /// </summary>
    internal Tensor UpdateRecycling(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        bool library = GetType().Assembly == typeof(UpdateRule).Assembly && p.IsConstant && g.IsConstant;
        foreach (var s in slots) library &= s.IsConstant;
        if (!library) return Update(p, g, slots, step, lr, wd);
        var outer = Backends.ResultPool.BeginLog();
        try
        {
            var r = Update(p, g, slots, step, lr, wd);
            var keep = new Array?[slots.Length + 1];
            keep[0] = Backends.ResultPool.ArrayOf(r.Value);
            for (int i = 0; i < slots.Length; i++) keep[i + 1] = Backends.ResultPool.ArrayOf(slots[i].Value);
            Backends.ResultPool.ReturnRentedExcept(keep);
            return r;
        }
        finally { Backends.ResultPool.EndLog(outer); }
    }

    /// <summary>g + wd·p (PyTorch's coupled, L2-style weight decay).</summary>
    protected static Tensor Coupled(Tensor g, Tensor p, double weightDecay) => weightDecay == 0 ? g : g.Add(p, weightDecay);

    /// <summary>Checks the arguments of one update.</summary>
    /// <exception cref="ArgumentException">slots has another length than <see cref="SlotCount"/>.</exception>
    /// <exception cref="ShapeMismatchException">the gradient's shape differs from the parameter's.</exception>
    protected void Check(Tensor parameter, Tensor gradient, Tensor[] slots)
    {
        if (slots.Length != SlotCount)
            throw new ArgumentException($"{GetType().Name}: expected {SlotCount} state slots, got {slots.Length}", nameof(slots));
        if (!parameter.Shape.AsSpan().SequenceEqual(gradient.Shape))
            throw new ShapeMismatchException(GetType().Name,
                $"the parameter has shape {FunctionalAD.Shape.Format(parameter.Shape)} but its gradient has {FunctionalAD.Shape.Format(gradient.Shape)}");
    }
}

/// <summary>Stochastic gradient descent (PyTorch's SGD): g ← g + wd·p; with momentum β, buf ← β·buf + g (buf = g at
/// the first step) and the direction is buf, or g + β·buf with Nesterov; p ← p - lr·direction.</summary>
public sealed record SgdRule : UpdateRule
{
    /// <summary>Momentum β (0: none).</summary>
    public double Momentum { get; init; }
    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; init; }
    /// <inheritdoc/>
    public override int SlotCount => Momentum == 0 ? 0 : 1;
    /// <inheritdoc/>
    public override Tensor Update(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        Check(p, g, slots);
        g = Coupled(g, p, wd);
        if (Momentum == 0) return p.Add(g, -lr); // one pass when nothing is traced (Tensor.Add(other, alpha))
        var buf = step == 0 ? g : g.Add(slots[0], Momentum);
        slots[0] = buf;
        return p.Add(Nesterov ? g.Add(buf, Momentum) : buf, -lr);
    }
}

/// <summary>Adam (PyTorch's Adam; with <see cref="Decoupled"/> PyTorch's AdamW): m ← β₁m + (1-β₁)g,
/// v ← β₂v + (1-β₂)g², p ← p - lr·m̂/(√v̂ + ε) with m̂ = m/(1-β₁ᵗ), v̂ = v/(1-β₂ᵗ). Weight decay is added to the
/// gradient, or (decoupled) p ← p - lr·wd·p first.</summary>
public sealed record AdamRule : UpdateRule
{
    /// <summary>β₁ (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>β₂ (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>ε (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Decoupled weight decay (AdamW).</summary>
    public bool Decoupled { get; init; }
    /// <inheritdoc/>
    public override int SlotCount => 2;
    /// <inheritdoc/>
    public override Tensor Update(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        Check(p, g, slots);
        if (wd != 0)
        {
            if (Decoupled) p = p - lr * wd * p;
            else g = g + wd * p;
        }
        var m = Beta1 * slots[0] + (1 - Beta1) * g;
        var v = Beta2 * slots[1] + (1 - Beta2) * g * g;
        var mHat = m / (1 - Math.Pow(Beta1, step + 1));
        var vHat = v / (1 - Math.Pow(Beta2, step + 1));
        slots[0] = m;
        slots[1] = v;
        return p - lr * mHat / (vHat.Sqrt() + Epsilon);
    }
}

/// <summary>NAdam (PyTorch's NAdam, Dozat 2016): Adam with Nesterov momentum and the momentum schedule
/// μₜ = β₁(1 - 0.5·0.96^(t·ψ)), ψ = <see cref="MomentumDecay"/>:
/// p ← p - lr·(1-μₜ)/(1-Πμ)·g/(√v̂ + ε) - lr·μₜ₊₁/(1-Πμ·μₜ₊₁)·m/(√v̂ + ε), weight decay added to the gradient.</summary>
public sealed record NAdamRule : UpdateRule
{
    /// <summary>β₁ (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>β₂ (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>ε (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>ψ, the momentum decay (default 4e-3).</summary>
    public double MomentumDecay { get; init; } = 4e-3;
    /// <inheritdoc/>
    public override int SlotCount => 2;

    double Mu(int t) => Beta1 * (1 - 0.5 * Math.Pow(0.96, t * MomentumDecay));

    /// <summary>Π μᵢ for i = 1..t. The product only shrinks (μᵢ &lt; 1) and underflows to 0 within a few thousand
    /// steps, so the loop stops there: no state is needed for it.</summary>
    double MuProduct(int t)
    {
        double product = 1;
        for (int i = 1; i <= t && product != 0; i++) product *= Mu(i);
        return product;
    }

    /// <inheritdoc/>
    public override Tensor Update(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        Check(p, g, slots);
        g = Coupled(g, p, wd);
        int t = step + 1;
        double mu = Mu(t), muNext = Mu(t + 1), product = MuProduct(t);
        var m = Beta1 * slots[0] + (1 - Beta1) * g;
        var v = Beta2 * slots[1] + (1 - Beta2) * g * g;
        slots[0] = m;
        slots[1] = v;
        var denominator = (v / (1 - Math.Pow(Beta2, t))).Sqrt() + Epsilon;
        return p - (lr * (1 - mu) / (1 - product)) * g / denominator - (lr * muNext / (1 - product * muNext)) * m / denominator;
    }
}

/// <summary>RMSProp (PyTorch's RMSprop, not centered): v ← αv + (1-α)g², step = g/(√v + ε); with momentum β,
/// buf ← β·buf + step; p ← p - lr·(buf or step). Weight decay is added to the gradient.</summary>
public sealed record RmsPropRule : UpdateRule
{
    /// <summary>α, the smoothing constant (default 0.99).</summary>
    public double Alpha { get; init; } = 0.99;
    /// <summary>ε (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Momentum β (default 0).</summary>
    public double Momentum { get; init; }
    /// <inheritdoc/>
    public override int SlotCount => Momentum == 0 ? 1 : 2;
    /// <inheritdoc/>
    public override Tensor Update(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        Check(p, g, slots);
        g = Coupled(g, p, wd);
        var v = Alpha * slots[0] + (1 - Alpha) * g * g;
        slots[0] = v;
        var direction = g / (v.Sqrt() + Epsilon);
        if (Momentum == 0) return p - lr * direction;
        var buf = Momentum * slots[1] + direction;
        slots[1] = buf;
        return p - lr * buf;
    }
}

/// <summary>Adagrad (PyTorch's Adagrad without learning-rate decay, accumulator starting at 0):
/// s ← s + g², p ← p - lr·g/(√s + ε). Weight decay is added to the gradient.</summary>
public sealed record AdagradRule : UpdateRule
{
    /// <summary>ε (default 1e-10).</summary>
    public double Epsilon { get; init; } = 1e-10;
    /// <inheritdoc/>
    public override int SlotCount => 1;
    /// <inheritdoc/>
    public override Tensor Update(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        Check(p, g, slots);
        g = Coupled(g, p, wd);
        var sum = slots[0] + g * g;
        slots[0] = sum;
        return p - lr * g / (sum.Sqrt() + Epsilon);
    }
}

/// <summary>Adamax (PyTorch's Adamax, Adam with the infinity norm): m ← β₁m + (1-β₁)g, u ← max(β₂u, |g| + ε),
/// p ← p - lr/(1-β₁ᵗ)·m/u. Weight decay is added to the gradient.</summary>
public sealed record AdamaxRule : UpdateRule
{
    /// <summary>β₁ (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>β₂ (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>ε (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <inheritdoc/>
    public override int SlotCount => 2;
    /// <inheritdoc/>
    public override Tensor Update(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        Check(p, g, slots);
        g = Coupled(g, p, wd);
        var m = Beta1 * slots[0] + (1 - Beta1) * g;
        var u = (Beta2 * slots[1]).Maximum(g.Abs() + Epsilon);
        slots[0] = m;
        slots[1] = u;
        return p - lr / (1 - Math.Pow(Beta1, step + 1)) * m / u;
    }
}

/// <summary>Adadelta (PyTorch's Adadelta): v ← ρv + (1-ρ)g², δ = √(u + ε)/√(v + ε)·g, u ← ρu + (1-ρ)δ²,
/// p ← p - lr·δ. Weight decay is added to the gradient.</summary>
public sealed record AdadeltaRule : UpdateRule
{
    /// <summary>ρ (default 0.9).</summary>
    public double Rho { get; init; } = 0.9;
    /// <summary>ε (default 1e-6).</summary>
    public double Epsilon { get; init; } = 1e-6;
    /// <inheritdoc/>
    public override int SlotCount => 2;
    /// <inheritdoc/>
    public override Tensor Update(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        Check(p, g, slots);
        g = Coupled(g, p, wd);
        var v = Rho * slots[0] + (1 - Rho) * g * g;
        var delta = (slots[1] + Epsilon).Sqrt() / (v + Epsilon).Sqrt() * g;
        slots[1] = Rho * slots[1] + (1 - Rho) * delta * delta;
        slots[0] = v;
        return p - lr * delta;
    }
}

/// <summary>Lion (Chen et al. 2023): p ← p - lr·wd·p (decoupled), then p ← p - lr·sign(β₁m + (1-β₁)g) and
/// m ← β₂m + (1-β₂)g.</summary>
public sealed record LionRule : UpdateRule
{
    /// <summary>β₁ (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>β₂ (default 0.99).</summary>
    public double Beta2 { get; init; } = 0.99;
    /// <inheritdoc/>
    public override int SlotCount => 1;
    /// <inheritdoc/>
    public override Tensor Update(Tensor p, Tensor g, Tensor[] slots, int step, double lr, double wd)
    {
        Check(p, g, slots);
        var direction = (Beta1 * slots[0] + (1 - Beta1) * g).Sign();
        if (wd != 0) p = p - lr * wd * p;
        slots[0] = Beta2 * slots[0] + (1 - Beta2) * g;
        return p - lr * direction;
    }
}
