/// The PyTorch-style imperative shell from F#: Parameter, Module, the optimizers (Sgd, Adam, ...) and
/// ReduceLROnPlateau are the language-neutral classes of FunctionalAD.Core (namespace FunctionalAD.Imperative), shared
/// with C#. This file adds what only F# has: a Module built from a `model { }`.
namespace FunctionalAD.Imperative

open FunctionalAD

/// One scope of a ModelModule's parameter tree ("l1" of "l1.w"): it only holds parameters and child scopes.
type ModelScope internal () =
    inherit Module()
    member internal m.AddParameter(name: string, p: Parameter) = m.RegisterParameter(name, p) |> ignore
    member internal m.AddScope(name: string, child: ModelScope) = m.RegisterModule(name, child) |> ignore
    /// A scope is not a layer: Forward throws InvalidOperationException.
    override m.Forward(_: Tensor) : Tensor = invalidOp "ModelModule: a parameter scope of a model has no Forward of its own; call the ModelModule's"

/// A `model { }` as a PyTorch-style Module (C#'s classes work from F# too; this one is for F#'s models): its
/// parameters are Parameter cells named by the model's paths ("l1.w": child "l1", parameter "w"), initialised from
/// `seed`; Forward applies the model with tracked parameters, so `loss.Backward()` fills each cell's Grad.
type ModelModule(model: Model<Tensor -> Tensor>, seed: uint64) as this =
    inherit ModelScope()
    let initial, initialState = Model.initWithState seed model
    let mutable state = initialState
    let mutable trainingCalls = 0UL
    let cells =
        [| for path, t in Params.toList initial ->
            let segments = path.Split '.'
            let mutable scope = this :> ModelScope
            for s in segments.[.. segments.Length - 2] do
                let existing = scope.NamedChildren() |> Seq.tryFind (fun struct (n, _) -> n = s)
                scope <-
                    match existing with
                    | Some(struct (_, m)) -> m :?> ModelScope
                    | None ->
                        let child = ModelScope()
                        scope.AddScope(s, child)
                        child
            let cell = Parameter(path, t)
            scope.AddParameter(segments.[segments.Length - 1], cell)
            path, cell |]

    /// The pure model.
    member _.Model = model
    /// The current values as an immutable Params (for the functional style).
    member _.Params = Params.ofList [ for path, p in cells -> path, p.Value ]
    /// Replaces every value from a Params of the same names and shapes.
    /// Throws ArgumentException (a name is missing) or ShapeMismatchException (another shape); nothing changes then.
    member _.LoadParams(p: Params) =
        let values =
            [| for path, q in cells ->
                match Params.tryGet path p with
                | None -> invalidArg "p" (sprintf "ModelModule.LoadParams: parameter '%s' is missing" path)
                | Some t when t.Shape <> q.Value.Shape ->
                    raise (ShapeMismatchException("ModelModule.LoadParams", sprintf "'%s' has shape %s, the module needs %s" path (Shape.Format t.Shape) (Shape.Format q.Value.Shape)))
                | Some t -> t |]
        Array.iter2 (fun (_, q: Parameter) t -> q.Value <- t) cells values
    /// The model applied to x with tracked parameters, so that Backward of a loss fills their Grad.
    /// Throws ShapeMismatchException when x does not fit the model.
    /// A model with state (batch norm) keeps it inside: in training mode (the default, as in PyTorch) Forward uses and
    /// updates batch statistics and draws dropout masks from a key derived from `seed` and the number of training
    /// calls; after `Eval()` it uses the running statistics and no dropout.
    override m.Forward(x: Tensor) : Tensor =
        let mode =
            if m.Training then
                trainingCalls <- trainingCalls + 1UL
                Mode.Train(seed * 0x9E3779B97F4A7C15UL + trainingCalls)
            else Mode.Eval
        let y, newState = Model.applyWithState model (Params.ofList [ for path, p in cells -> path, p.Tracked() ]) state mode x
        state <- newState
        y
    /// The model's state (batch-norm running statistics; empty for a model without state), as updated by Forward.
    member _.State : Params = state
    /// The pure function of the model: its output for x under the given parameter values, touching no cell.
    /// Throws KeyNotFoundException when a parameter is missing.
    member _.Apply(parameters: Params, x: Tensor) : Tensor = Model.apply model parameters x
    /// Fresh initial parameters from a seed (the same seed gives the same values); the cells are not changed.
    member _.Init(seed: uint64) : Params = fst (Model.init seed model)
