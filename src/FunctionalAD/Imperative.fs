/// A PyTorch-style imperative shell over the functional core, for code that follows the PyTorch tutorial:
/// mutable Parameter cells holding immutable tensors, `loss.Backward()` filling `.Grad`, `opt.ZeroGrad()` and
/// `opt.Step()`. Nothing here differentiates: Backward is the engine's reverse mode, Step is `Optim.step`.
namespace FunctionalAD.Imperative

open System
open FunctionalAD

/// A mutable reference to an immutable tensor, with the gradient of the last Backward calls accumulated in Grad.
[<AllowNullLiteral>]
type Parameter(name: string, value: Tensor) =
    let mutable value = value
    let mutable grad: Tensor = null

    /// The parameter's path (e.g. "l1.w").
    member _.Name = name
    /// The current value. Setting it replaces the tensor (tensors themselves never change).
    member _.Value with get () = value and set v = value <- v
    /// The accumulated gradient, or null before the first Backward (or after ZeroGrad).
    member _.Grad with get () = grad and set g = grad <- g
    /// The value as a tracked leaf: operations on it are recorded so that Backward reaches this parameter.
    member p.Tracked() = value.RequiresGrad(name, p)
    override _.ToString() = sprintf "Parameter %s %s" name (string value)

    interface IGradientSink with
        member _.Accumulate g = grad <- if isNull grad then g else grad + g

/// A model's parameters held in Parameter cells, callable like a PyTorch nn.Module.
type Module(model: Model<Tensor -> Tensor>, seed: uint64) =
    let initial, apply = Model.init seed model
    let parameters = [ for name, t in Params.toList initial -> Parameter(name, t) ]

    /// The parameters, in path order.
    member _.Parameters = parameters
    /// (path, Parameter) pairs, like PyTorch's named_parameters().
    member _.NamedParameters() = parameters |> List.map (fun p -> p.Name, p)
    /// The current values as an immutable Params.
    member _.Params = Params.ofList [ for p in parameters -> p.Name, p.Value ]
    /// Replaces every value from a Params of the same names and shapes.
    /// Throws ArgumentException (missing name) or ShapeMismatchException (other shape); nothing changes then.
    member _.Load(p: Params) =
        let values =
            [ for q in parameters ->
                match Params.tryGet q.Name p with
                | None -> invalidArg "p" (sprintf "Module.Load: parameter '%s' is missing" q.Name)
                | Some t when t.Shape <> q.Value.Shape ->
                    raise (ShapeMismatchException("Module.Load", sprintf "'%s' has shape %s, the module needs %s" q.Name (Shape.Format t.Shape) (Shape.Format q.Value.Shape)))
                | Some t -> t ]
        List.iter2 (fun (q: Parameter) t -> q.Value <- t) parameters values
    /// Applies the model with tracked parameters, so that Backward of a loss fills their Grad.
    member _.Forward(x: Tensor) = apply (Params.ofList [ for p in parameters -> p.Name, p.Tracked() ]) x
    /// Same as Forward.
    member m.Invoke(x: Tensor) = m.Forward x
    /// "Module" and its parameters (name, shape, dtype).
    override m.ToString() = "Module: " + string m.Params

/// An optimizer over Parameter cells: ZeroGrad() clears gradients, Step() applies Optim.step to the values.
type Optimizer(parameters: Parameter seq, rule: FunctionalAD.Optimizer) =
    let parameters = Array.ofSeq parameters
    let mutable state = Optim.init rule (parameters |> Array.map (fun p -> p.Value))

    /// The parameters it updates.
    member _.Parameters = parameters
    /// Clears every Grad (to null).
    member _.ZeroGrad() = for p in parameters do p.Grad <- null
    /// One update from the current gradients (a parameter without a gradient is treated as having zero gradient).
    member _.Step() =
        let values = parameters |> Array.map (fun p -> p.Value)
        let grads = parameters |> Array.map (fun p -> if isNull p.Grad then Tensor.ZerosLike p.Value else p.Grad)
        let newValues, newState = Optim.step rule state values grads
        Array.iter2 (fun (p: Parameter) v -> p.Value <- v) parameters newValues
        state <- newState

/// Stochastic gradient descent over Parameter cells (optional momentum, Nesterov, weight decay).
type SGD(parameters: Parameter seq, lr: float, ?momentum: float, ?nesterov: bool, ?weightDecay: float) =
    inherit Optimizer(parameters, Sgd { LearningRate = Schedule.constant lr; Momentum = defaultArg momentum 0.0
                                        Nesterov = defaultArg nesterov false; WeightDecay = defaultArg weightDecay 0.0 })

/// Adam over Parameter cells.
type Adam(parameters: Parameter seq, lr: float) =
    inherit Optimizer(parameters, Optim.adam lr)
