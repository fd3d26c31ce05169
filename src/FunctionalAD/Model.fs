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

    // PyTorch's fans (torch.nn.init._calculate_fan_in_and_fan_out): weights are [out, in, *kernel]
    let private fans (what: string) (shape: int list) =
        match shape with
        | [] | [ _ ] -> invalidArg "shape" (sprintf "Init.%s: fan in and fan out need at least 2 dimensions [out; in; ...], got %A" what shape)
        | out :: inp :: kernel ->
            let receptive = List.fold (*) 1 kernel
            float (inp * receptive), float (out * receptive)

    /// Glorot/Xavier uniform as PyTorch's `xavier_uniform_` (gain 1): U(-a, a), a = √(6 / (fanIn + fanOut)), with
    /// PyTorch's fans for a shape [out; in; *kernel]. Throws ArgumentException for fewer than 2 dimensions.
    let xavierUniform (shape: int list) =
        let fanIn, fanOut = fans "xavierUniform" shape
        let a = sqrt (6.0 / max 1.0 (fanIn + fanOut))
        uniform -a a shape
    /// Glorot/Xavier normal as PyTorch's `xavier_normal_` (gain 1): N(0, 2 / (fanIn + fanOut)), shape [out; in; *kernel].
    let xavierNormal (shape: int list) =
        let fanIn, fanOut = fans "xavierNormal" shape
        normal (sqrt (2.0 / max 1.0 (fanIn + fanOut))) shape
    /// He/Kaiming uniform as PyTorch's `kaiming_uniform_` (fan in, ReLU gain √2): U(-b, b), b = √(6 / fanIn), shape
    /// [out; in; *kernel]. (PyTorch's default for Linear and Conv is a = √5, i.e. U(±1/√fanIn): `Init.fanInUniform`.)
    let kaimingUniform (shape: int list) =
        let fanIn, _ = fans "kaimingUniform" shape
        let b = sqrt (6.0 / max 1.0 fanIn)
        uniform -b b shape
    /// He/Kaiming normal as PyTorch's `kaiming_normal_` (fan in, ReLU gain √2): N(0, 2 / fanIn), shape [out; in; *kernel].
    let kaimingNormal (shape: int list) =
        let fanIn, _ = fans "kaimingNormal" shape
        normal (sqrt (2.0 / max 1.0 fanIn)) shape
    /// U(-1/√fanIn, 1/√fanIn) for a shape [out; in; *kernel]: PyTorch's default for the weights of Linear and Conv
    /// (kaiming_uniform with a = √5).
    let fanInUniform (shape: int list) =
        let fanIn, _ = fans "fanInUniform" shape
        let b = 1.0 / sqrt (max 1.0 fanIn)
        uniform -b b shape
    /// A (semi-)orthogonal matrix as PyTorch's `orthogonal_` (gain 1): the Q factor of a normal matrix
    /// [shape[0], rest] (rows ≤ columns: of its transpose), with R's diagonal made positive; reshaped to `shape`.
    /// Throws ArgumentException for fewer than 2 dimensions.
    let orthogonal (shape: int list) =
        if List.length shape < 2 then invalidArg "shape" (sprintf "Init.orthogonal: needs at least 2 dimensions, got %A" shape)
        make shape (fun s g ->
            let rows = s.[0]
            let cols = Array.fold (*) 1 s / max 1 rows
            let flat = Tensor.Randn([| rows; cols |], g, DType.Float64)
            let tall = if rows < cols then flat.T else flat
            let q = Linalg.Qr(tall).Q
            (if rows < cols then q.T else q).Reshape(s).To DType.Float32)

/// Whether a model runs for training or for evaluation (PyTorch's `module.train()` / `module.eval()`, Flax's
/// `train` flag). In Train, batch normalisation uses the batch's statistics and updates its running ones, and dropout
/// draws random masks from generators split from `key` (one per request, in the order the model makes them, so the
/// same key gives the same masks); in Eval, batch normalisation uses the running statistics and dropout is the identity.
[<RequireQualifiedAccess>]
type Mode =
    /// Training, with the random key of this call (vary it per step, e.g. `Mode.Train (uint64 step)`).
    | Train of key: uint64
    /// Evaluation (inference).
    | Eval
    /// True in Train.
    member m.IsTraining = match m with Train _ -> true | Eval -> false
    /// Mode.Train with a key for step `step` of a run seeded `seed` (SplitMix64 of the pair), as the training loops use.
    static member TrainStep(seed: uint64, step: int) =
        let mutable z = seed + 0x9E3779B97F4A7C15UL * (uint64 step + 1UL)
        z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        Train(z ^^^ (z >>> 31))

/// A state variable of a model during one run (a running statistic): `Value` is its current value, `Set` records a new
/// one, which the run returns as the model's new state (`Model.applyWithState`). Values are stored without derivative.
[<Sealed; AllowNullLiteral>]
type StateVariable internal (path: string, initial: Tensor, write: Tensor -> unit) =
    let mutable value = initial
    /// The variable's path (e.g. "bn.running_mean").
    member _.Name = path
    /// The current value (the given state's, or the last one set in this run).
    member _.Value = value
    /// Replaces the value for the rest of this run and in the new state (the tensor's derivative is dropped).
    /// Throws ShapeMismatchException when the shape differs from the variable's.
    member _.Set(t: Tensor) =
        if t.Shape <> value.Shape then
            raise (ShapeMismatchException("model", sprintf "state '%s' has shape %s; it cannot be set to a tensor of shape %s" path (Shape.Format value.Shape) (Shape.Format t.Shape)))
        value <- t.StopGradient()
        write value

/// What a run with state and mode has: the state it reads, the new values written, the mode, the random streams used.
type internal RunState(state: Params option, mode: Mode option) =
    member val Used = HashSet<string>()
    member val Written = Dictionary<string, Tensor>()
    member val Streams = 0 with get, set
    member _.State = state
    member _.Mode = mode

/// Whether a model body is run to create its parameters or to apply them.
type internal ModelMode =
    | Initialize of seed: uint64 * created: Dictionary<string, Tensor> * createdState: Dictionary<string, Tensor>
    | Apply of parameters: Params * used: HashSet<string> * run: RunState
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
            | Initialize(seed, created, _) ->
                let t = init.Sample(generatorFor seed path)
                created.[path] <- t
                t
            | Describe declared ->
                declared.Add((path, init))
                // zeros as a broadcast view of one element: the body may build on it, nothing the size of the
                // parameter is allocated
                Tensor.Zeros([||], init.DType).BroadcastTo(init.Shape)
            | Apply(p, used, _) ->
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

    /// A state variable named `name` in the current scope (not a parameter: gradients and optimizers do not touch
    /// it), created by `init` (Model.initWithState) or read from the given state (Model.applyWithState), like Flax's
    /// batch_stats or Haiku's `get_state`. Set it in the model's function to return a new state.
    /// Throws InvalidOperationException under the plain Model.apply (a model with state needs Model.applyWithState),
    /// KeyNotFoundException when the state lacks the variable, ShapeMismatchException for another shape.
    let state (name: string) (init: Init) : Model<StateVariable> =
        Model(fun ctx ->
            ctx.Declare name
            let path = ctx.Prefix + name
            match ctx.Mode with
            | Initialize(seed, _, createdState) ->
                let t = init.Sample(generatorFor seed path)
                createdState.[path] <- t
                StateVariable(path, t, fun v -> createdState.[path] <- v)
            | Describe _ ->
                // listed as a model's state is not a parameter: a zero view, nothing the size of the state allocated
                let t = Tensor.Zeros([||], init.DType).BroadcastTo(init.Shape)
                StateVariable(path, t, ignore)
            | Apply(_, _, run) ->
                match run.State with
                | None ->
                    invalidOp (sprintf "model: the model has state ('%s'); apply it with Model.applyWithState params state mode, not Model.apply" path)
                | Some s ->
                    match Params.tryGet path s with
                    | None ->
                        raise (KeyNotFoundException(sprintf "model: state '%s' is missing from the given state (it has %s)" path (String.Join(", ", Params.names s))))
                    | Some t ->
                        if t.Shape <> init.Shape then
                            raise (ShapeMismatchException("model", sprintf "state '%s' has shape %s in the given state but the model declares %s" path (Shape.Format t.Shape) (Shape.Format init.Shape)))
                        run.Used.Add path |> ignore
                        StateVariable(path, t, fun v -> run.Written.[path] <- v))

    /// The mode of this run (Train with its key, or Eval). Mode.Eval while initialising.
    /// Throws InvalidOperationException under the plain Model.apply: a model that depends on the mode is applied with
    /// Model.applyWithState (or Model.applyEval).
    let mode : Model<Mode> =
        Model(fun ctx ->
            match ctx.Mode with
            | Initialize _ | Describe _ -> Mode.Eval
            | Apply(_, _, run) ->
                match run.Mode with
                | Some m -> m
                | None -> invalidOp (sprintf "model: a layer in scope '%s' depends on the mode (Train or Eval, e.g. dropout); apply the model with Model.applyWithState params state mode (state may be Params.empty)" (if ctx.Prefix = "" then "<root>" else ctx.Prefix.TrimEnd '.')))

    /// A random generator for this run, split from the Train mode's key: the k-th request in a run gets the k-th
    /// stream, so a model run twice with the same key draws the same numbers. Throws InvalidOperationException in
    /// Eval or under the plain Model.apply (randomness belongs to training).
    let randomGenerator : Model<Generator> =
        Model(fun ctx ->
            match ctx.Mode with
            | Initialize(seed, _, _) -> generatorFor seed "<random stream>"
            | Describe _ -> generatorFor 0UL "<random stream>"
            | Apply(_, _, run) ->
                match run.Mode with
                | Some(Mode.Train key) ->
                    let k = run.Streams
                    run.Streams <- k + 1
                    generatorFor key (sprintf "<random stream %d>" k)
                | _ -> invalidOp "model: a random generator is only available in Mode.Train (apply the model with Model.applyWithState params state (Mode.Train key))")

/// Creating and applying models.
module Model =
    let private run (Model m: Model<'T>) (p: Params) (state: Params option) (mode: Mode option) =
        let used = HashSet<string>()
        let rs = RunState(state, mode)
        let result = m (ModelContext(Apply(p, used, rs), ""))
        if used.Count <> Params.count p then
            let extra = Params.names p |> List.filter (used.Contains >> not)
            raise (ArgumentException(sprintf "model: the given Params has entries the model does not declare: %s" (String.Join(", ", extra))))
        match state with
        | Some s when rs.Used.Count <> Params.count s ->
            let extra = Params.names s |> List.filter (rs.Used.Contains >> not)
            raise (ArgumentException(sprintf "model: the given state has entries the model does not declare: %s" (String.Join(", ", extra))))
        | _ -> ()
        result, rs

    let private newState (s: Params) (rs: RunState) =
        if rs.Written.Count = 0 then s
        else Params.ofList [ for name, t in Params.toList s -> name, (match rs.Written.TryGetValue name with | true, v -> v | _ -> t) ]

    /// The model's function for the given Params. Throws KeyNotFoundException for a missing parameter,
    /// ShapeMismatchException for a parameter of another shape, ArgumentException for extra entries, and
    /// InvalidOperationException for a model with state or one that depends on the mode (use applyWithState).
    let apply (model: Model<'T>) (p: Params) : 'T = fst (run model p None None)

    /// Runs a model with parameters, state and mode and passes its value to `use` (which calls the model's function
    /// as many times as it needs); returns use's result and the new state (the given state with every variable the
    /// run set replaced). Errors as `apply`, and for the state as for the parameters.
    let withState (model: Model<'T>) (p: Params) (state: Params) (mode: Mode) (useModel: 'T -> 'R) : 'R * Params =
        let f, rs = run model p (Some state) (Some mode)
        let r = useModel f
        r, newState state rs

    /// A model with state and mode applied to x: (output, new state), like Flax's `apply(..., mutable=["batch_stats"])`
    /// or Haiku's `apply(params, state, rng, x)`. In Mode.Train batch norm updates its running statistics (in the
    /// returned state) and dropout draws masks from the mode's key; in Mode.Eval the state comes back unchanged.
    /// Works for models without state too (give `Params.empty`). Errors as `withState`.
    let applyWithState (model: Model<'A -> 'B>) (p: Params) (state: Params) (mode: Mode) (x: 'A) : 'B * Params =
        withState model p state mode (fun f -> f x)

    /// The output of a model in Mode.Eval (inference: running statistics, no dropout). Errors as `withState`.
    let applyEval (model: Model<'A -> 'B>) (p: Params) (state: Params) (x: 'A) : 'B =
        fst (applyWithState model p state Mode.Eval x)

    /// Creates the parameters and the initial state of `m` with a seed: (Params, state). The state is empty for a
    /// model without state variables.
    let initWithState (seed: uint64) (Model m: Model<'T>) : Params * Params =
        let created = Dictionary<string, Tensor>()
        let createdState = Dictionary<string, Tensor>()
        m (ModelContext(Initialize(seed, created, createdState), "")) |> ignore
        Params.ofList [ for kv in created -> kv.Key, kv.Value ], Params.ofList [ for kv in createdState -> kv.Key, kv.Value ]

    /// Creates the parameters of `m` with a seed: (initial Params, pure apply function). For a model with state
    /// use initWithState and applyWithState (the apply function given here throws for it).
    let init (seed: uint64) (model: Model<'T>) : Params * (Params -> 'T) =
        fst (initWithState seed model), apply model
