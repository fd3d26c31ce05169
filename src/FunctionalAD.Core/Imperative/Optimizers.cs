namespace FunctionalAD.Imperative;

// PyTorch's torch.optim classes: each is a ParameterOptimizer with one UpdateRule (the math is in the rule, shared
// with the F# Optim module). Each takes parameters (one group) or ParameterGroups with settings of their own.

/// <summary>Stochastic gradient descent over parameter cells (PyTorch's torch.optim.SGD; see <see cref="SgdRule"/>).</summary>
public sealed class Sgd : ParameterOptimizer
{
    static SgdRule R(double lr, double momentum, bool nesterov, double weightDecay) =>
        new() { LearningRate = lr, Momentum = momentum, Nesterov = nesterov, WeightDecay = weightDecay };
    /// <summary>SGD of <paramref name="parameters"/> with learning rate <paramref name="lr"/>.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Sgd(IEnumerable<Parameter> parameters, double lr, double momentum = 0, bool nesterov = false, double weightDecay = 0)
        : base(parameters, R(lr, momentum, nesterov, weightDecay)) { }
    /// <summary>SGD of parameter groups (a group's own learning rate or weight decay wins).</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Sgd(IEnumerable<ParameterGroup> groups, double lr, double momentum = 0, bool nesterov = false, double weightDecay = 0)
        : base(groups, R(lr, momentum, nesterov, weightDecay)) { }
}

/// <summary>Adam over parameter cells (PyTorch's torch.optim.Adam; see <see cref="AdamRule"/>).</summary>
public sealed class Adam : ParameterOptimizer
{
    static AdamRule R(double lr, double beta1, double beta2, double epsilon, double weightDecay) =>
        new() { LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon, WeightDecay = weightDecay };
    /// <summary>Adam of <paramref name="parameters"/> (lr 1e-3, betas 0.9/0.999, ε 1e-8 unless given).</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(parameters, R(lr, beta1, beta2, epsilon, weightDecay)) { }
    /// <summary>Adam of parameter groups.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Adam(IEnumerable<ParameterGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(groups, R(lr, beta1, beta2, epsilon, weightDecay)) { }
}

/// <summary>AdamW over parameter cells (PyTorch's torch.optim.AdamW: Adam with decoupled weight decay, default 1e-2).</summary>
public sealed class AdamW : ParameterOptimizer
{
    static AdamRule R(double lr, double weightDecay, double beta1, double beta2, double epsilon) =>
        new() { LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon, WeightDecay = weightDecay, Decoupled = true };
    /// <summary>AdamW of <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double weightDecay = 1e-2, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : base(parameters, R(lr, weightDecay, beta1, beta2, epsilon)) { }
    /// <summary>AdamW of parameter groups.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public AdamW(IEnumerable<ParameterGroup> groups, double lr = 1e-3, double weightDecay = 1e-2, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : base(groups, R(lr, weightDecay, beta1, beta2, epsilon)) { }
}

/// <summary>NAdam over parameter cells (PyTorch's torch.optim.NAdam; see <see cref="NAdamRule"/>).</summary>
public sealed class NAdam : ParameterOptimizer
{
    static NAdamRule R(double lr, double beta1, double beta2, double epsilon, double weightDecay, double momentumDecay) =>
        new() { LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon, WeightDecay = weightDecay, MomentumDecay = momentumDecay };
    /// <summary>NAdam of <paramref name="parameters"/> (lr 2e-3, betas 0.9/0.999, ε 1e-8, momentum decay 4e-3).</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public NAdam(IEnumerable<Parameter> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3)
        : base(parameters, R(lr, beta1, beta2, epsilon, weightDecay, momentumDecay)) { }
    /// <summary>NAdam of parameter groups.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public NAdam(IEnumerable<ParameterGroup> groups, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3)
        : base(groups, R(lr, beta1, beta2, epsilon, weightDecay, momentumDecay)) { }
}

/// <summary>RMSProp over parameter cells (PyTorch's torch.optim.RMSprop, not centered; see <see cref="RmsPropRule"/>).</summary>
public sealed class RmsProp : ParameterOptimizer
{
    static RmsPropRule R(double lr, double alpha, double epsilon, double momentum, double weightDecay) =>
        new() { LearningRate = lr, Alpha = alpha, Epsilon = epsilon, Momentum = momentum, WeightDecay = weightDecay };
    /// <summary>RMSProp of <paramref name="parameters"/> (lr 1e-2, α 0.99, ε 1e-8 unless given).</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public RmsProp(IEnumerable<Parameter> parameters, double lr = 1e-2, double alpha = 0.99, double epsilon = 1e-8, double momentum = 0, double weightDecay = 0)
        : base(parameters, R(lr, alpha, epsilon, momentum, weightDecay)) { }
    /// <summary>RMSProp of parameter groups.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public RmsProp(IEnumerable<ParameterGroup> groups, double lr = 1e-2, double alpha = 0.99, double epsilon = 1e-8, double momentum = 0, double weightDecay = 0)
        : base(groups, R(lr, alpha, epsilon, momentum, weightDecay)) { }
}

/// <summary>Adagrad over parameter cells (PyTorch's torch.optim.Adagrad; see <see cref="AdagradRule"/>).</summary>
public sealed class Adagrad : ParameterOptimizer
{
    static AdagradRule R(double lr, double epsilon, double weightDecay) => new() { LearningRate = lr, Epsilon = epsilon, WeightDecay = weightDecay };
    /// <summary>Adagrad of <paramref name="parameters"/> (lr 1e-2, ε 1e-10 unless given).</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Adagrad(IEnumerable<Parameter> parameters, double lr = 1e-2, double epsilon = 1e-10, double weightDecay = 0)
        : base(parameters, R(lr, epsilon, weightDecay)) { }
    /// <summary>Adagrad of parameter groups.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Adagrad(IEnumerable<ParameterGroup> groups, double lr = 1e-2, double epsilon = 1e-10, double weightDecay = 0)
        : base(groups, R(lr, epsilon, weightDecay)) { }
}

/// <summary>Adadelta over parameter cells (PyTorch's torch.optim.Adadelta; see <see cref="AdadeltaRule"/>).</summary>
public sealed class Adadelta : ParameterOptimizer
{
    static AdadeltaRule R(double lr, double rho, double epsilon, double weightDecay) => new() { LearningRate = lr, Rho = rho, Epsilon = epsilon, WeightDecay = weightDecay };
    /// <summary>Adadelta of <paramref name="parameters"/> (lr 1, ρ 0.9, ε 1e-6 unless given).</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Adadelta(IEnumerable<Parameter> parameters, double lr = 1, double rho = 0.9, double epsilon = 1e-6, double weightDecay = 0)
        : base(parameters, R(lr, rho, epsilon, weightDecay)) { }
    /// <summary>Adadelta of parameter groups.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Adadelta(IEnumerable<ParameterGroup> groups, double lr = 1, double rho = 0.9, double epsilon = 1e-6, double weightDecay = 0)
        : base(groups, R(lr, rho, epsilon, weightDecay)) { }
}

/// <summary>Adamax over parameter cells (PyTorch's torch.optim.Adamax; see <see cref="AdamaxRule"/>).</summary>
public sealed class Adamax : ParameterOptimizer
{
    static AdamaxRule R(double lr, double beta1, double beta2, double epsilon, double weightDecay) =>
        new() { LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon, WeightDecay = weightDecay };
    /// <summary>Adamax of <paramref name="parameters"/> (lr 2e-3, betas 0.9/0.999, ε 1e-8 unless given).</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Adamax(IEnumerable<Parameter> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(parameters, R(lr, beta1, beta2, epsilon, weightDecay)) { }
    /// <summary>Adamax of parameter groups.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Adamax(IEnumerable<ParameterGroup> groups, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(groups, R(lr, beta1, beta2, epsilon, weightDecay)) { }
}

/// <summary>Lion over parameter cells (Chen et al. 2023; see <see cref="LionRule"/>).</summary>
public sealed class Lion : ParameterOptimizer
{
    static LionRule R(double lr, double weightDecay, double beta1, double beta2) => new() { LearningRate = lr, WeightDecay = weightDecay, Beta1 = beta1, Beta2 = beta2 };
    /// <summary>Lion of <paramref name="parameters"/> (lr 1e-4, betas 0.9/0.99, decoupled weight decay).</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Lion(IEnumerable<Parameter> parameters, double lr = 1e-4, double weightDecay = 0, double beta1 = 0.9, double beta2 = 0.99)
        : base(parameters, R(lr, weightDecay, beta1, beta2)) { }
    /// <summary>Lion of parameter groups.</summary>
    /// <exception cref="ArgumentException">a setting is negative or not finite.</exception>
    public Lion(IEnumerable<ParameterGroup> groups, double lr = 1e-4, double weightDecay = 0, double beta1 = 0.9, double beta2 = 0.99)
        : base(groups, R(lr, weightDecay, beta1, beta2)) { }
}

/// <summary>PyTorch's torch.optim.lr_scheduler.ReduceLROnPlateau (mode "min", relative threshold) over an
/// optimizer: call <see cref="Step"/> with each epoch's validation loss; after more than patience epochs without
/// improvement every group's learning rate is multiplied by factor. The rule is <see cref="Plateau"/>.</summary>
public sealed class ReduceLROnPlateau
{
    readonly ParameterOptimizer optimizer;

    /// <summary>A scheduler for <paramref name="optimizer"/>'s groups, starting from their current learning rates.</summary>
    /// <exception cref="ArgumentException">factor outside (0, 1), or a negative patience, cooldown or threshold.</exception>
    public ReduceLROnPlateau(ParameterOptimizer optimizer, double factor = 0.1, int patience = 10, double threshold = 1e-4,
        int cooldown = 0, double minLr = 0, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        this.optimizer = optimizer;
        Rule = new Plateau { Factor = factor, Patience = patience, Threshold = threshold, Cooldown = cooldown, MinLr = minLr, Eps = eps };
        State = Rule.Start(optimizer.Groups.Select(g => g.LearningRate).ToArray());
    }

    /// <summary>The settings.</summary>
    public Plateau Rule { get; }

    /// <summary>The counters and the learning rates after the last <see cref="Step"/>.</summary>
    public PlateauState State { get; private set; }

    /// <summary>Records one epoch's metric and sets every group's learning rate from the rule.</summary>
    /// <exception cref="ArgumentException">the metric is NaN.</exception>
    public void Step(double metric)
    {
        State = Rule.Step(State, metric);
        for (int i = 0; i < optimizer.Groups.Count; i++) optimizer.Groups[i].LearningRate = State.LearningRates[i];
    }
}
