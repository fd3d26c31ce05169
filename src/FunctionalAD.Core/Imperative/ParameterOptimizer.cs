using System.Globalization;
using FunctionalAD.Persistence;

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
                    var value = Rule.UpdateRecycling(p.Value.StopGradient(), grad.StopGradient(), next, steps, group.LearningRate, group.WeightDecay);
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

    static string Inv(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the optimizer's state (each parameter's slots and step count, and every group's learning rate
    /// and weight decay) to a safetensors file, atomically and with a checksum: with <see cref="Module.Save"/>, a
    /// training checkpoint (PyTorch's optimizer.state_dict()). Parameters are identified by their position in
    /// <see cref="Parameters"/>, so load into an optimizer built the same way.</summary>
    /// <exception cref="IOException">the file could not be written.</exception>
    public void Save(string path)
    {
        var parameters = Parameters;
        var tensors = new List<KeyValuePair<string, Tensor>>();
        var meta = new Dictionary<string, string>
        {
            ["optimizer.rule"] = Rule.GetType().Name,
            ["optimizer.parameters"] = Inv(parameters.Count),
            ["optimizer.groups"] = Inv(groups.Length),
        };
        for (int g = 0; g < groups.Length; g++)
        {
            meta[$"group.{g}.lr"] = groups[g].LearningRate.ToString("R", CultureInfo.InvariantCulture);
            meta[$"group.{g}.weight_decay"] = groups[g].WeightDecay.ToString("R", CultureInfo.InvariantCulture);
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            if (!state.TryGetValue(parameters[i], out var s)) continue;
            meta[$"state.{i}.steps"] = Inv(s.Steps);
            for (int k = 0; k < s.Slots.Length; k++) tensors.Add(new($"state.{i}.slot{k}", s.Slots[k]));
        }
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>Restores the state written by <see cref="Save"/> into this optimizer (same rule, same parameters in
    /// the same order, same groups); nothing changes when the file does not fit.</summary>
    /// <exception cref="CorruptFileException">the file is damaged, truncated or not an optimizer state.</exception>
    /// <exception cref="ArgumentException">the file was written by another rule, for other parameters or groups, or a
    /// slot's shape differs from its parameter's.</exception>
    public void Load(string path)
    {
        var file = SafeTensors.Load(path);
        var m = file.Metadata;
        var parameters = Parameters;
        string Get(string key) => m.TryGetValue(key, out var v) ? v
            : throw new CorruptFileException(path, $"the optimizer state has no '{key}' entry");
        if (Get("optimizer.rule") != Rule.GetType().Name)
            throw new ArgumentException($"{path}: the state was written by {Get("optimizer.rule")}, this optimizer uses {Rule.GetType().Name}", nameof(path));
        if (Get("optimizer.parameters") != Inv(parameters.Count) || Get("optimizer.groups") != Inv(groups.Length))
            throw new ArgumentException($"{path}: the state is for {Get("optimizer.parameters")} parameters in {Get("optimizer.groups")} groups, this optimizer has {parameters.Count} in {groups.Length}", nameof(path));
        var restored = new Dictionary<Parameter, (Tensor[], int)>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < parameters.Count; i++)
        {
            if (!m.TryGetValue($"state.{i}.steps", out var steps)) continue;
            var slots = new Tensor[Rule.SlotCount];
            for (int k = 0; k < slots.Length; k++)
            {
                var t = file.ByName.TryGetValue($"state.{i}.slot{k}", out var found) ? found
                    : throw new CorruptFileException(path, $"the optimizer state lacks 'state.{i}.slot{k}'");
                var p = parameters[i].Value;
                if (t.DType != p.DType || !t.Shape.AsSpan().SequenceEqual(p.Shape))
                    throw new ArgumentException($"{path}: slot {k} of parameter {i} ('{parameters[i].Name}') is {t.DType} {FunctionalAD.Shape.Format(t.Shape)}, the parameter {p.DType} {FunctionalAD.Shape.Format(p.Shape)}", nameof(path));
                slots[k] = t.ToDevice(p.Device);
            }
            restored[parameters[i]] = (slots, int.Parse(steps, CultureInfo.InvariantCulture));
        }
        var settings = Enumerable.Range(0, groups.Length).Select(g =>
            (double.Parse(Get($"group.{g}.lr"), CultureInfo.InvariantCulture), double.Parse(Get($"group.{g}.weight_decay"), CultureInfo.InvariantCulture))).ToArray();
        state.Clear();
        foreach (var kv in restored) state[kv.Key] = kv.Value;
        for (int g = 0; g < groups.Length; g++) (groups[g].LearningRate, groups[g].WeightDecay) = settings[g];
    }
}

/// <summary>Gradient clipping over parameter cells (PyTorch's torch.nn.utils.clip_grad_norm_ / clip_grad_value_).</summary>
public static class GradientClipping
{
    /// <summary>Scales every gradient so that their global 2-norm is at most <paramref name="maxNorm"/>
    /// (by maxNorm / (norm + 1e-6) when the norm is larger) and returns the norm before clipping. Parameters without
    /// a gradient are ignored.</summary>
    /// <exception cref="ArgumentException">maxNorm ≤ 0.</exception>
    public static double ClipGradNorm(this IEnumerable<Parameter> parameters, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentException($"ClipGradNorm: maxNorm must be > 0, got {maxNorm}", nameof(maxNorm));
        var withGrad = parameters.Where(p => p.Grad is not null).ToArray();
        double total = Math.Sqrt(withGrad.Sum(p => p.Grad!.StopGradient().To(DType.Float64).Square().Sum().Item()));
        double scale = maxNorm / (total + 1e-6);
        if (scale < 1)
            foreach (var p in withGrad) p.Grad = p.Grad!.StopGradient() * scale;
        return total;
    }

    /// <summary>Clamps every gradient elementwise to [-clip, clip].</summary>
    /// <exception cref="ArgumentException">clip ≤ 0.</exception>
    public static void ClipGradValue(this IEnumerable<Parameter> parameters, double clip)
    {
        if (!(clip > 0)) throw new ArgumentException($"ClipGradValue: clip must be > 0, got {clip}", nameof(clip));
        foreach (var p in parameters)
            if (p.Grad is { } g) p.Grad = g.StopGradient().Clamp(-clip, clip);
    }
}
