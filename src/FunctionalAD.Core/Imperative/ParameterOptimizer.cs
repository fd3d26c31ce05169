namespace FunctionalAD.Imperative;

/// <summary>Parameters that share optimizer settings (PyTorch's param_groups entries): give a group its own
/// learning rate or weight decay, or leave them null to use the optimizer's. After the optimizer is built,
/// <see cref="LearningRate"/> and <see cref="WeightDecay"/> hold the values in use and may be changed (a scheduler
/// such as <see cref="ReduceLROnPlateau"/> does).</summary>
public sealed class ParameterGroup
{
    /// <summary>A group of <paramref name="parameters"/> with optional settings of its own.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public ParameterGroup(IEnumerable<Parameter> parameters, double? learningRate = null, double? weightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        if (learningRate is { } lr) ParameterOptimizer.CheckSetting("learning rate", lr);
        if (weightDecay is { } wd) ParameterOptimizer.CheckSetting("weight decay", wd);
        requestedLearningRate = learningRate;
        requestedWeightDecay = weightDecay;
    }

    readonly double? requestedLearningRate, requestedWeightDecay;

    /// <summary>The parameters of the group.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The group's learning rate (the optimizer's unless the group was given one).</summary>
    public double LearningRate { get; set; } = double.NaN;

    /// <summary>The group's weight decay (the optimizer's unless the group was given one).</summary>
    public double WeightDecay { get; set; } = double.NaN;

    internal void Resolve(UpdateRule rule)
    {
        LearningRate = requestedLearningRate ?? rule.LearningRate;
        WeightDecay = requestedWeightDecay ?? rule.WeightDecay;
    }
}

/// <summary>
/// An optimizer over parameter cells (PyTorch's torch.optim.Optimizer): <see cref="ZeroGrad"/> clears the
/// gradients, <see cref="Step"/> applies an <see cref="UpdateRule"/> to every parameter that has a gradient, with
/// its group's learning rate and weight decay. The rule's per-parameter state lives here. As in PyTorch, a
/// parameter without a gradient is skipped (its value, state and step count stay as they are).
/// </summary>
public class ParameterOptimizer
{
    readonly ParameterGroup[] groups;
    readonly Dictionary<Parameter, (Tensor[] Slots, int Steps)> state = new(ReferenceEqualityComparer.Instance);

    internal static void CheckSetting(string what, double value)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentException($"optimizer: the {what} must be a finite number >= 0, got {value}", what == "learning rate" ? "learningRate" : "weightDecay");
    }

    /// <summary>An optimizer applying <paramref name="rule"/> to <paramref name="parameters"/> (one group).</summary>
    /// <exception cref="ArgumentException">the rule's learning rate or weight decay is negative or not finite, or a
    /// parameter appears twice.</exception>
    public ParameterOptimizer(IEnumerable<Parameter> parameters, UpdateRule rule)
        : this([new ParameterGroup(parameters ?? throw new ArgumentNullException(nameof(parameters)))], rule) { }

    /// <summary>An optimizer applying <paramref name="rule"/> to groups of parameters, each with its own settings
    /// where given (PyTorch's param_groups).</summary>
    /// <exception cref="ArgumentException">no group, a setting is negative or not finite, or a parameter appears
    /// twice (in one group or in two).</exception>
    public ParameterOptimizer(IEnumerable<ParameterGroup> groups, UpdateRule rule)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(rule);
        CheckSetting("learning rate", rule.LearningRate);
        CheckSetting("weight decay", rule.WeightDecay);
        this.groups = groups.ToArray();
        if (this.groups.Length == 0) throw new ArgumentException("optimizer: give at least one parameter group", nameof(groups));
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var g in this.groups)
        {
            g.Resolve(rule);
            foreach (var p in g.Parameters)
                if (!seen.Add(p)) throw new ArgumentException($"optimizer: the parameter '{p.Name}' appears more than once", nameof(groups));
        }
        Rule = rule;
    }

    /// <summary>The update rule.</summary>
    public UpdateRule Rule { get; }

    /// <summary>The parameter groups (their learning rates and weight decays may be changed between steps).</summary>
    public IReadOnlyList<ParameterGroup> Groups => groups;

    /// <summary>Every parameter it updates, group by group.</summary>
    public IReadOnlyList<Parameter> Parameters => groups.SelectMany(g => g.Parameters).ToArray();

    /// <summary>Clears every gradient (to null).</summary>
    public void ZeroGrad()
    {
        foreach (var g in groups)
            foreach (var p in g.Parameters) p.Grad = null;
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    /// <exception cref="ShapeMismatchException">a gradient's shape differs from its parameter's (nothing changes then).</exception>
    public void Step()
    {
        // compute every new value first, so that a failure leaves every parameter as it was
        var updates = new List<(Parameter P, Tensor Value, Tensor[] Slots, int Steps)>();
        Transform.NoGrad(() =>
        {
            foreach (var group in groups)
                foreach (var p in group.Parameters)
                {
                    var grad = p.Grad;
                    if (grad is null) continue;
                    var (slots, steps) = state.TryGetValue(p, out var s) ? s
                        : (Enumerable.Range(0, Rule.SlotCount).Select(_ => Tensor.ZerosLike(p.Value)).ToArray(), 0);
                    var next = (Tensor[])slots.Clone();
                    var value = Rule.Update(p.Value, grad.StopGradient(), next, steps, group.LearningRate, group.WeightDecay);
                    updates.Add((p, value, next, steps + 1));
                }
            return 0;
        });
        foreach (var (p, value, slots, steps) in updates)
        {
            p.Value = value;
            state[p] = (slots, steps);
        }
    }

    /// <summary>How many updates <paramref name="parameter"/> has received (0 before its first).</summary>
    public int StepsOf(Parameter parameter) => state.TryGetValue(parameter, out var s) ? s.Steps : 0;
}
