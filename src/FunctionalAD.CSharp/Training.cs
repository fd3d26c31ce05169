using FunctionalAD.Imperative;
using Microsoft.FSharp.Core;

namespace FunctionalAD;

/// <summary>Stochastic gradient descent over parameter cells: <c>ZeroGrad()</c>, then <c>loss.Backward()</c>, then <c>Step()</c>.</summary>
/// <param name="parameters">The cells to update.</param>
/// <param name="lr">Learning rate.</param>
/// <param name="momentum">Momentum (0: plain SGD).</param>
/// <param name="nesterov">Nesterov momentum.</param>
/// <param name="weightDecay">L2 penalty added to the gradient.</param>
public sealed class Sgd(IEnumerable<Parameter> parameters, double lr, double momentum = 0, bool nesterov = false, double weightDecay = 0)
    : FunctionalAD.Imperative.Optimizer(parameters, Optim.Sgd(lr, momentum, nesterov, weightDecay).Rule);

/// <summary>Adam over parameter cells.</summary>
/// <param name="parameters">The cells to update.</param>
/// <param name="lr">Learning rate.</param>
public sealed class Adam(IEnumerable<Parameter> parameters, double lr = 1e-3)
    : FunctionalAD.Imperative.Optimizer(parameters, Optim.Adam(lr).Rule);

/// <summary>An update rule as a value (for the functional style).</summary>
public sealed class OptimizerRule
{
    internal readonly FunctionalAD.Optimizer Rule;
    internal OptimizerRule(FunctionalAD.Optimizer rule) => Rule = rule;
    /// <inheritdoc/>
    public override string ToString() => Rule.ToString();
}

/// <summary>An optimizer's state: immutable; each step returns a new one.</summary>
public sealed class OptimizerState
{
    internal readonly OptState State;
    internal OptimizerState(OptState state) => State = state;
    /// <summary>Steps taken so far.</summary>
    public int Step => State.Step;
}

/// <summary>The result of <see cref="Optim.Step"/>.</summary>
/// <param name="Params">The updated parameters.</param>
/// <param name="State">The updated optimizer state.</param>
public readonly record struct OptimizerStep(Params Params, OptimizerState State);

/// <summary>Optimizers as pure functions: <c>var (p, s) = Optim.Step(rule, state, p, grads)</c>.</summary>
public static class Optim
{
    /// <summary>SGD (optional momentum, Nesterov, weight decay).</summary>
    public static OptimizerRule Sgd(double lr, double momentum = 0, bool nesterov = false, double weightDecay = 0) =>
        new(FunctionalAD.Optimizer.NewSgd(new SgdConfig(Constant(lr), momentum, nesterov, weightDecay)));

    /// <summary>Adam (betas 0.9/0.999, epsilon 1e-8).</summary>
    public static OptimizerRule Adam(double lr = 1e-3) => new(OptimModule.adam(lr));

    /// <summary>AdamW: Adam with decoupled weight decay.</summary>
    public static OptimizerRule AdamW(double lr, double weightDecay) => new(OptimModule.adamW(lr, weightDecay));

    /// <summary>RMSProp (alpha 0.99, epsilon 1e-8).</summary>
    public static OptimizerRule RmsProp(double lr) => new(OptimModule.rmsprop(lr));

    /// <summary>The same rule with a learning rate that depends on the step number (0-based).</summary>
    public static OptimizerRule WithSchedule(this OptimizerRule rule, Func<int, double> schedule) =>
        new(OptimModule.withSchedule(FuncConvert.FromFunc(schedule), rule.Rule));

    static FSharpFunc<int, double> Constant(double lr) => FuncConvert.FromFunc<int, double>(_ => lr);

    /// <summary>The initial state of <paramref name="rule"/> for <paramref name="parameters"/>.</summary>
    public static OptimizerState Init(OptimizerRule rule, Params parameters) => new(OptimModule.init(rule.Rule, parameters));

    /// <summary>One update: new parameters and new state; the inputs are unchanged.</summary>
    /// <exception cref="ArgumentException">the gradients or the state do not match the parameters.</exception>
    public static OptimizerStep Step(OptimizerRule rule, OptimizerState state, Params parameters, Params gradients)
    {
        var r = OptimModule.step(rule.Rule, state.State, parameters, gradients);
        return new OptimizerStep(r.Item1, new OptimizerState(r.Item2));
    }

    /// <summary>The gradient of a scalar function of a <see cref="Params"/> (same paths).</summary>
    /// <exception cref="ShapeMismatchException">f does not return one element.</exception>
    public static Params Grad(Func<Params, Tensor> f, Params parameters) =>
        Differentiation.grad(FuncConvert.FromFunc(f), parameters);

    /// <summary>The value and the gradient of a scalar function of a <see cref="Params"/>.</summary>
    public static (Tensor Value, Params Gradient) ValueAndGrad(Func<Params, Tensor> f, Params parameters)
    {
        var r = Differentiation.gradv(FuncConvert.FromFunc(f), parameters);
        return (r.Item1, r.Item2);
    }
}

/// <summary>How a loss combines its values.</summary>
public enum LossReduction
{
    /// <summary>The average.</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>One value per element / sample.</summary>
    None,
}

/// <summary>Loss functions (differentiable; the same definitions as the F# Loss module).</summary>
public static class Loss
{
    static Reduction R(LossReduction r) => r switch
    {
        LossReduction.Sum => Reduction.Sum,
        LossReduction.None => Reduction.NoReduction,
        _ => Reduction.Mean,
    };

    /// <summary>Squared error.</summary>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor Mse(Tensor prediction, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.mseWith(R(reduction), prediction, target);

    /// <summary>Absolute error.</summary>
    /// <exception cref="ShapeMismatchException">prediction and target shapes differ.</exception>
    public static Tensor L1(Tensor prediction, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.l1With(R(reduction), prediction, target);

    /// <summary>Cross-entropy of logits [..., classes] against class indices (Int32/Int64, [...]) or probabilities ([..., classes]).</summary>
    /// <exception cref="ShapeMismatchException">the target's shape does not fit the logits.</exception>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.crossEntropyWith(R(reduction), logits, target);

    /// <summary>Negative log-likelihood of class indices under log-probabilities.</summary>
    public static Tensor Nll(Tensor logProbabilities, Tensor classes, LossReduction reduction = LossReduction.Mean) => LossModule.nllWith(R(reduction), logProbabilities, classes);

    /// <summary>Binary cross-entropy of probabilities in (0, 1).</summary>
    public static Tensor BinaryCrossEntropy(Tensor probabilities, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.binaryCrossEntropyWith(R(reduction), probabilities, target);

    /// <summary>Binary cross-entropy from logits, stable for any logit.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, LossReduction reduction = LossReduction.Mean) => LossModule.binaryCrossEntropyWithLogitsWith(R(reduction), logits, target);
}
