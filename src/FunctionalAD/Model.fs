namespace FunctionalAD

open System
open System.Collections.Generic

/// How a parameter is initialised: its shape and dtype (known without sampling) and a sampler.
type Init =
    { Shape: int[]
      DType: DType
      Sample: Generator -> Tensor }

/// Parameter initialisers (Float32).
module Init =
    let private make shape sample = { Shape = List.toArray shape; DType = DType.Float32; Sample = sample (List.toArray shape) }
    /// Zeros.
    let zeros (shape: int list) = make shape (fun s _ -> Tensor.Zeros s)
    /// Ones.
    let ones (shape: int list) = make shape (fun s _ -> Tensor.Ones s)
    /// A constant.
    let constant (value: float) (shape: int list) = make shape (fun s _ -> Tensor.Full(s, value))
    /// Normal(0, std²).
    let normal (std: float) (shape: int list) = make shape (fun s g -> Tensor.Randn(s, g) * std)
    /// Uniform in [lo, hi).
    let uniform (lo: float) (hi: float) (shape: int list) = make shape (fun s g -> Tensor.Rand(s, g) * (hi - lo) + lo)
    /// He/Kaiming normal for ReLU layers: std = √(2 / fanIn), fanIn = the first dimension ([inDim; outDim] weights).
    let kaiming (shape: int list) = normal (sqrt (2.0 / float (max 1 (List.head shape)))) shape
    /// Glorot/Xavier uniform: limit √(6 / (fanIn + fanOut)).
    let xavier (shape: int list) =
        let fanIn, fanOut = List.head shape, List.last shape
        let limit = sqrt (6.0 / float (max 1 (fanIn + fanOut)))
        uniform -limit limit shape

/// Whether a model body is run to create its parameters or to apply them.
type internal ModelMode =
    | Initialize of seed: uint64 * created: Dictionary<string, Tensor>
    | Apply of parameters: Params * used: HashSet<string>
    /// Lists the declared parameters (path, init) without sampling them, for printing a model.
    | Describe of declared: ResizeArray<string * Init>

/// Where a model body runs: its mode, its scope path and the names already declared in that scope.
type ModelContext internal (mode: ModelMode, prefix: string) =
    let declared = HashSet<string>()
    member internal _.Mode = mode
    member internal _.Prefix = prefix
    /// Records a name in this scope; throws InvalidOperationException when it was declared before.
    member internal _.Declare(name: string) =
        if String.IsNullOrWhiteSpace name || name.Contains "." then
            invalidArg "name" (sprintf "model: '%s' is not a valid parameter or scope name (non-empty, no '.')" name)
        if not (declared.Add name) then
            invalidOp (sprintf "model: the name '%s' is declared twice in scope '%s'" name (if prefix = "" then "<root>" else prefix.TrimEnd '.'))

/// A parameterised computation: run once to create parameters (`Model.init`), then purely applied to any Params
/// of the same structure (`Model.apply`). Built with the `model { }` computation expression.
[<StructuredFormatDisplay("{Display}")>]
type Model<'T> =
    internal
    | Model of (ModelContext -> 'T)
    /// The parameters the model declares (path, shape, dtype), listed without creating them; the text F#
    /// Interactive and `%A` show for a model.
    member m.Display =
        let (Model body) = m
        let declared = ResizeArray()
        try
            body (ModelContext(Describe declared, "")) |> ignore
            ParameterTable.format "Model" [ for path, init in declared -> path, init.Shape, init.DType ]
        with e -> sprintf "Model (its parameters could not be listed: %s)" e.Message
    /// The parameters the model declares (path, shape, dtype), as Display.
    override m.ToString() = m.Display

/// The `model { }` computation expression.
type ModelBuilder() =
    /// `return x`: a model with no parameters that gives x.
    member _.Return(x: 'T) : Model<'T> = Model(fun _ -> x)
    /// `return! m`.
    member _.ReturnFrom(m: Model<'T>) = m
    /// `let! a = m`: runs m in the current scope, then the rest with its result.
    member _.Bind(Model m: Model<'A>, f: 'A -> Model<'B>) : Model<'B> =
        Model(fun ctx -> let (Model n) = f (m ctx) in n ctx)
    /// An empty model body.
    member _.Zero() : Model<unit> = Model(fun _ -> ())
    /// Delays the body until the model runs (each init/apply runs it afresh).
    member _.Delay(f: unit -> Model<'T>) = Model(fun ctx -> let (Model m) = f () in m ctx)

/// `model { }`, `param`, `scope` and running models.
[<AutoOpen>]
module ModelBuilding =
    /// Declares a parameterised function: `model { let! w = param "w" (Init.kaiming [2; 3]) in return fun x -> x.matmul w }`.
    let model = ModelBuilder()

    /// A deterministic generator per parameter path, so adding a parameter does not change the others' values.
    let private generatorFor (seed: uint64) (path: string) =
        let mutable h = 14695981039346656037UL
        for c in path do h <- (h ^^^ uint64 c) * 1099511628211UL
        Generator(seed ^^^ h)

    /// A parameter named `name` in the current scope, created by `init` (or looked up when applying).
    /// Throws InvalidOperationException for a repeated name, KeyNotFoundException for a missing parameter and
    /// ShapeMismatchException when the given Params has another shape than the model declares.
    let param (name: string) (init: Init) : Model<Tensor> =
        Model(fun ctx ->
            ctx.Declare name
            let path = ctx.Prefix + name
            match ctx.Mode with
            | Initialize(seed, created) ->
                let t = init.Sample(generatorFor seed path)
                created.[path] <- t
                t
            | Describe declared ->
                declared.Add((path, init))
                // zeros as a broadcast view of one element: the body may build on it, nothing the size of the
                // parameter is allocated
                Tensor.Zeros([||], init.DType).BroadcastTo(init.Shape)
            | Apply(p, used) ->
                match Params.tryGet path p with
                | None ->
                    raise (KeyNotFoundException(sprintf "model: parameter '%s' is missing from the given Params (it has %s)" path (String.Join(", ", Params.names p))))
                | Some t ->
                    if t.Shape <> init.Shape then
                        raise (ShapeMismatchException("model", sprintf "parameter '%s' has shape %s in the given Params but the model declares %s" path (Shape.Format t.Shape) (Shape.Format init.Shape)))
                    used.Add path |> ignore
                    t)

    /// Runs a sub-model with its parameters under `name.` (e.g. "l1.w").
    let scope (name: string) (Model m: Model<'T>) : Model<'T> =
        Model(fun ctx ->
            ctx.Declare name
            m (ModelContext(ctx.Mode, ctx.Prefix + name + ".")))

/// Creating and applying models.
module Model =
    /// The model's function for the given Params. Throws KeyNotFoundException for a missing parameter,
    /// ShapeMismatchException for a parameter of another shape, ArgumentException for extra entries.
    let apply (Model m: Model<'T>) (p: Params) : 'T =
        let used = HashSet<string>()
        let result = m (ModelContext(Apply(p, used), ""))
        if used.Count <> Params.count p then
            let extra = Params.names p |> List.filter (used.Contains >> not)
            raise (ArgumentException(sprintf "model: the given Params has entries the model does not declare: %s" (String.Join(", ", extra))))
        result

    /// Creates the parameters of `m` with a seed: (initial Params, pure apply function).
    let init (seed: uint64) (Model m as model: Model<'T>) : Params * (Params -> 'T) =
        let created = Dictionary<string, Tensor>()
        m (ModelContext(Initialize(seed, created), "")) |> ignore
        Params.ofList [ for kv in created -> kv.Key, kv.Value ], apply model
