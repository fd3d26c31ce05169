using Microsoft.FSharp.Core;

namespace FunctionalAD;

/// <summary>The result of <see cref="Optim.Step"/>.</summary>
/// <param name="Params">The updated parameters.</param>
/// <param name="State">The updated optimizer state.</param>
public readonly record struct OptimizerStep(Params Params, OptimizerState State);

/// <summary>
/// Optimizers as pure functions (optax-style; C#'s spelling of the F# <c>Optim</c> module):
/// <c>var (p, s) = Optim.Step(optimizer, state, p, grads)</c>. An <see cref="Optimizer"/> is an immutable update
/// rule; for PyTorch-style mutable optimizers over parameter cells see <c>FunctionalAD.Imperative.Sgd</c>,
/// <c>Adam</c> and <c>ParameterOptimizer</c>.
/// </summary>
public static class Optim
{
    /// <summary>SGD (optional momentum, Nesterov, weight decay added to the gradient); PyTorch semantics.</summary>
    public static Optimizer Sgd(double lr, double momentum = 0, bool nesterov = false, double weightDecay = 0) =>
        Optimizer.NewSgd(new SgdConfig(Constant(lr), momentum, nesterov, weightDecay));

    /// <summary>Adam (betas 0.9/0.999, epsilon 1e-8).</summary>
    public static Optimizer Adam(double lr = 1e-3) => OptimModule.adam(lr);

    /// <summary>AdamW: Adam with decoupled weight decay.</summary>
    public static Optimizer AdamW(double lr, double weightDecay) => OptimModule.adamW(lr, weightDecay);

    /// <summary>RMSProp (alpha 0.99, epsilon 1e-8).</summary>
    public static Optimizer RmsProp(double lr) => OptimModule.rmsprop(lr);

    /// <summary>Adagrad (epsilon 1e-10).</summary>
    public static Optimizer Adagrad(double lr = 1e-2) => OptimModule.adagrad(lr);

    /// <summary>Adamax (betas 0.9, 0.999).</summary>
    public static Optimizer Adamax(double lr = 2e-3) => OptimModule.adamax(lr);

    /// <summary>Adadelta (rho 0.9, epsilon 1e-6).</summary>
    public static Optimizer Adadelta(double lr = 1) => OptimModule.adadelta(lr);

    /// <summary>Lion (betas 0.9, 0.99) with decoupled weight decay.</summary>
    public static Optimizer Lion(double lr = 1e-4, double weightDecay = 0) => OptimModule.lion(lr, weightDecay);

    /// <summary>The gradients scaled so that their global 2-norm is at most maxNorm; also returns that norm before clipping.</summary>
    /// <exception cref="ArgumentException">maxNorm ≤ 0.</exception>
    public static (Params Gradients, double Norm) ClipGradNorm(Params gradients, double maxNorm)
    {
        var r = OptimModule.clipGradNorm(maxNorm, gradients);
        return (r.Item1, r.Item2);
    }

    /// <summary>The same optimizer with a learning rate that depends on the step number (0-based).</summary>
    public static Optimizer WithSchedule(this Optimizer optimizer, Func<int, double> schedule) =>
        OptimModule.withSchedule(FuncConvert.FromFunc(schedule), optimizer);

    static FSharpFunc<int, double> Constant(double lr) => FuncConvert.FromFunc<int, double>(_ => lr);

    /// <summary>The initial state of <paramref name="optimizer"/> for <paramref name="parameters"/> (zero slots).</summary>
    public static OptimizerState Init(Optimizer optimizer, Params parameters) => OptimModule.init(optimizer, parameters);

    /// <summary>One update: new parameters and new state; the inputs are unchanged.</summary>
    /// <exception cref="ArgumentException">the gradients or the state do not match the parameters.</exception>
    /// <exception cref="ShapeMismatchException">a gradient's shape differs from its parameter's.</exception>
    public static OptimizerStep Step(Optimizer optimizer, OptimizerState state, Params parameters, Params gradients)
    {
        var r = OptimModule.step(optimizer, state, parameters, gradients);
        return new OptimizerStep(r.Item1, r.Item2);
    }

    /// <summary>The gradient of a scalar function of a <see cref="Params"/> (same paths).</summary>
    /// <exception cref="ShapeMismatchException">f does not return one element.</exception>
    public static Params Grad(Func<Params, Tensor> f, Params parameters) =>
        Tree.grad(FuncConvert.FromFunc(f), parameters);

    /// <summary>The value and the gradient of a scalar function of a <see cref="Params"/>.</summary>
    /// <exception cref="ShapeMismatchException">f does not return one element.</exception>
    public static (Tensor Value, Params Gradient) ValueAndGrad(Func<Params, Tensor> f, Params parameters)
    {
        var r = Tree.gradv(FuncConvert.FromFunc(f), parameters);
        return (r.Item1, r.Item2);
    }
}
