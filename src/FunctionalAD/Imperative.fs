/// A PyTorch-style imperative shell over the functional core, for code that follows the PyTorch tutorial:
/// mutable Parameter cells holding immutable tensors, `loss.Backward()` filling `.Grad`, `opt.ZeroGrad()` and
/// `opt.Step()`. Nothing here differentiates: Backward is the engine's reverse mode, Step is `Optim.step`.
/// F# and C# share these types (the C# facade adds the layers Linear, Activation and Sequential to this namespace).
namespace FunctionalAD.Imperative

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open FunctionalAD

/// A mutable reference to an immutable tensor, with the gradient of the last Backward calls accumulated in Grad.
/// Backward calls from several threads into one parameter add up (the accumulation is synchronised).
[<AllowNullLiteral>]
type Parameter(name: string, value: Tensor) =
    let mutable value = value
    let mutable grad: Tensor = null
    // Backward may run on several threads into one shared parameter: each read-add-write of Grad is atomic.
    let gate = obj ()

    /// The parameter's path (e.g. "l1.w").
    member _.Name = name
    /// The current value. Setting it replaces the tensor (tensors themselves never change).
    member _.Value with get () = value and set v = value <- v
    /// The accumulated gradient, or null before the first Backward (or after ZeroGrad).
    member _.Grad with get () = lock gate (fun () -> grad) and set g = lock gate (fun () -> grad <- g)
    /// The value as a tracked leaf: operations on it are recorded so that Backward reaches this parameter.
    member p.Tracked() = value.RequiresGrad(name, p)
    override _.ToString() = sprintf "Parameter %s %s" name (string value)

    interface IGradientSink with
        member _.Accumulate g = lock gate (fun () -> grad <- if isNull grad then g else grad + g)

/// A parameter with its path, as listed by Module.NamedParameters (PyTorch's named_parameters() pairs).
/// F#: `for { Name = n; Parameter = p } in m.NamedParameters()`; C#: `foreach (var (name, p) in m.NamedParameters())`.
type NamedParameter =
    { /// The path, e.g. "0.w".
      Name: string
      /// The cell.
      Parameter: Parameter }
    /// C# deconstruction into (name, parameter).
    member x.Deconstruct([<Out>] name: byref<string>, [<Out>] parameter: byref<Parameter>) =
        name <- x.Name
        parameter <- x.Parameter

/// A model's parameters held in Parameter cells, callable like a PyTorch nn.Module: Forward applies the model with
/// tracked parameters, so `loss.Backward()` fills each parameter's Grad. The parameters are created (from `seed`) on
/// first use, so a module that only serves as a part of a larger one (C#'s Sequential) costs nothing.
/// A model with state (batch norm) keeps it inside: Forward in training mode (the default, as in PyTorch) updates it
/// and draws dropout masks from a key derived from `seed` and the number of training calls; `Eval()` switches to the
/// running statistics and no dropout, `Train()` back.
type Module(model: Model<Tensor -> Tensor>, seed: uint64) =
    let built =
        lazy (let initial, initialState = Model.initWithState seed model
              [| for name, t in Params.toList initial -> Parameter(name, t) |], ref initialState)
    let parameters () = fst built.Value
    let mutable training = true
    let mutable trainingCalls = 0UL

    /// The pure model (for composing modules; the C# facade's Sequential reads it).
    member internal _.Model = model
    /// The parameters, in path order ("0.b", "0.w", ... for a sequential model).
    member _.Parameters : IReadOnlyList<Parameter> = Array.AsReadOnly(parameters ())
    /// (path, Parameter) pairs, like PyTorch's named_parameters().
    member _.NamedParameters() : IReadOnlyList<NamedParameter> =
        Array.AsReadOnly [| for p in parameters () -> { Name = p.Name; Parameter = p } |]
    /// The current values as an immutable Params (for the functional style).
    member _.Params = Params.ofList [ for p in parameters () -> p.Name, p.Value ]
    /// Replaces every value from a Params of the same names and shapes.
    /// Throws ArgumentException (a name is missing) or ShapeMismatchException (another shape); nothing changes then.
    member _.Load(p: Params) =
        let cells = parameters ()
        let values =
            [| for q in cells ->
                match Params.tryGet q.Name p with
                | None -> invalidArg "p" (sprintf "Module.Load: parameter '%s' is missing" q.Name)
                | Some t when t.Shape <> q.Value.Shape ->
                    raise (ShapeMismatchException("Module.Load", sprintf "'%s' has shape %s, the module needs %s" q.Name (Shape.Format t.Shape) (Shape.Format q.Value.Shape)))
                | Some t -> t |]
        Array.iter2 (fun (q: Parameter) t -> q.Value <- t) cells values
    /// The model applied to x with tracked parameters, so that Backward of a loss fills their Grad.
    /// Throws ShapeMismatchException when x does not fit the model (e.g. its last dimension for a linear layer).
    member _.Forward(x: Tensor) : Tensor =
        let cells, state = built.Value
        let mode =
            if training then
                trainingCalls <- trainingCalls + 1UL
                Mode.Train(seed * 0x9E3779B97F4A7C15UL + trainingCalls)
            else Mode.Eval
        let y, newState = Model.applyWithState model (Params.ofList [ for p in cells -> p.Name, p.Tracked() ]) state.Value mode x
        state.Value <- newState
        y
    /// Training mode (the default): batch norm uses and updates batch statistics, dropout is active (PyTorch's train()).
    member _.Train() = training <- true
    /// Evaluation mode: batch norm uses its running statistics, dropout is the identity (PyTorch's eval()).
    member _.Eval() = training <- false
    /// True in training mode.
    member _.Training = training
    /// The model's state (batch-norm running statistics; empty for a model without state), as updated by Forward.
    member _.State : Params = (snd built.Value).Value
    /// Same as Forward.
    member m.Invoke(x: Tensor) = m.Forward x
    /// The pure function of the model: its output for x under the given parameter values, touching no cell (use
    /// with grad / AD and Optim in the functional style). Throws KeyNotFoundException when a parameter is missing.
    member _.Apply(parameters: Params, x: Tensor) : Tensor = Model.apply model parameters x
    /// Fresh initial parameters from a seed (the same seed gives the same values); the cells are not changed.
    member _.Init(seed: uint64) : Params = fst (Model.init seed model)
    /// "Module" and its parameters (name, shape, dtype).
    override m.ToString() = "Module: " + string m.Params

/// An optimizer over Parameter cells (PyTorch's torch.optim.Optimizer): ZeroGrad() clears the gradients, Step()
/// applies the pure update rule (an `Optimizer` value, e.g. `Optim.rmsprop 0.01`) to the values with `Optim.step`.
type ParameterOptimizer(parameters: Parameter seq, rule: Optimizer) =
    let parameters = Array.ofSeq parameters
    let mutable state = Optim.init rule (parameters |> Array.map (fun p -> p.Value))

    /// The parameters it updates.
    member _.Parameters : IReadOnlyList<Parameter> = Array.AsReadOnly parameters
    /// The update rule.
    member _.Rule = rule
    /// Clears every Grad (to null).
    member _.ZeroGrad() = for p in parameters do p.Grad <- null
    /// One update from the current gradients (a parameter without a gradient is treated as having zero gradient).
    /// Throws ShapeMismatchException when a gradient's shape differs from its parameter's.
    member _.Step() =
        let values = parameters |> Array.map (fun p -> p.Value)
        let grads = parameters |> Array.map (fun p -> if isNull p.Grad then Tensor.ZerosLike p.Value else p.Grad)
        let newValues, newState = Optim.step rule state values grads
        Array.iter2 (fun (p: Parameter) v -> p.Value <- v) parameters newValues
        state <- newState

/// Stochastic gradient descent over Parameter cells (PyTorch's torch.optim.SGD: optional momentum, Nesterov, weight
/// decay added to the gradient). The rule is `Optim.sgd`/`Optim.momentum`/`Optim.nesterov`.
type Sgd(parameters: Parameter seq, lr: float,
         [<Optional; DefaultParameterValue(0.0)>] momentum: float,
         [<Optional; DefaultParameterValue(false)>] nesterov: bool,
         [<Optional; DefaultParameterValue(0.0)>] weightDecay: float) =
    inherit ParameterOptimizer(parameters,
        Optimizer.Sgd { LearningRate = Schedule.constant lr; Momentum = momentum; Nesterov = nesterov; WeightDecay = weightDecay })

/// Adam over Parameter cells (PyTorch's torch.optim.Adam; betas 0.9, 0.999, epsilon 1e-8; lr 1e-3 unless given).
/// The rule is `Optim.adam`.
type Adam(parameters: Parameter seq, [<Optional; DefaultParameterValue(1e-3)>] lr: float) =
    inherit ParameterOptimizer(parameters, Optim.adam lr)
