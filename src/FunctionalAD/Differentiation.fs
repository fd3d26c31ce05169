namespace FunctionalAD

open System

/// Differentiation as higher-order functions. Inputs may be a tensor or a tree of tensors (tuple, record, list,
/// map, Params); gradients come back with the same structure. Every call opens its own nesting level, so these
/// compose freely: `grad (fun x -> grad f x |> ...)`, `jvp (grad f)`, ...
[<AutoOpen>]
module Differentiation =

    let private fn (f: Tensor[] -> Tensor) = Func<Tensor[], Tensor>(f)

    /// The value f(x) (a one-element tensor) and its gradient with respect to x (same structure as x), in one
    /// reverse pass. Throws ShapeMismatchException when f(x) has more than one element (use jacobian or vjp).
    let gradv (f: 'T -> Tensor) (x: 'T) : Tensor * 'T =
        let leaves = Tree.leaves x
        let struct (value, grads) = Transform.ValueAndGrad(fn (fun ts -> f (Tree.unflatten x ts)), leaves)
        value, Tree.unflatten x grads

    /// The gradient of scalar-valued f at x (same structure as x: a tensor, a tuple of tensors, a Params tree...).
    /// Throws ShapeMismatchException when f(x) has more than one element.
    let grad (f: 'T -> Tensor) (x: 'T) : 'T = snd (gradv f x)

    /// Reverse mode: f(x) and the pullback, which maps a cotangent of f(x)'s shape to one of x's structure.
    let vjp (f: 'T -> Tensor) (x: 'T) : Tensor * (Tensor -> 'T) =
        let r = Transform.Vjp(fn (fun ts -> f (Tree.unflatten x ts)), Tree.leaves x)
        r.Value, (fun u -> Tree.unflatten x (r.Pullback u))

    /// Forward mode: f(x) and the directional derivative of f at x along v (v has x's structure).
    /// Throws ShapeMismatchException when v's tensors do not match x's shapes.
    let jvp (f: 'T -> Tensor) (x: 'T) (v: 'T) : Tensor * Tensor =
        let struct (value, tangent) = Transform.Jvp(fn (fun ts -> f (Tree.unflatten x ts)), Tree.leaves x, Tree.leaves v)
        value, tangent

    /// The derivative of f at a one-element x (forward mode). x is a single tensor, not a tree: for a tree use
    /// `jvp f x v` (the derivative along v) or `jacobian`. Throws ShapeMismatchException for larger x.
    let diff (f: Tensor -> Tensor) (x: Tensor) : Tensor = Transform.Diff(Func<_, _> f, x)

    /// The n-th derivative of f at a one-element x (nested forward mode; n = 0 gives f x). x is a single tensor,
    /// as in `diff`. Throws ShapeMismatchException for larger x.
    let diffn (n: int) (f: Tensor -> Tensor) (x: Tensor) : Tensor = Transform.DiffN(n, Func<_, _> f, x)

    /// A tree's tensors as one flat vector (leaves in `Tree.leaves` order, each flattened row-major; JAX's
    /// ravel_pytree) and the inverse, which cuts a vector of that length back into a tree shaped like x. The pieces
    /// are views of the vector, so derivatives flow through them.
    let private ravel (op: string) (x: 'T) : Tensor * (Tensor -> 'T) =
        let leaves = Tree.leaves x
        if leaves.Length = 0 then invalidArg "x" (sprintf "%s: the input holds no tensors" op)
        leaves |> Array.iter (fun l ->
            if l.DType <> leaves.[0].DType then
                raise (DTypeMismatchException(op, sprintf "the input's tensors must share one dtype, got %A and %A" leaves.[0].DType l.DType)))
        let flat = Tensor.Concat([| for l in leaves -> l.Reshape([| -1 |]) |], 0)
        let unravel (v: Tensor) =
            let mutable offset = 0
            Tree.unflatten x [| for l in leaves ->
                                  let piece = v.Slice(0, offset, offset + l.Numel).Reshape(l.Shape)
                                  offset <- offset + l.Numel
                                  piece |]
        flat, unravel

    /// The Jacobian of f at x (forward or reverse mode, whichever needs fewer passes). For a tensor x its shape is
    /// f(x).shape @ x.shape. For a tree x (tuple, record, Params...) it is a tree of x's structure whose tensor for
    /// each leaf l of x is ∂f/∂l, of shape f(x).shape @ l.shape (as JAX's jacobian of a pytree input).
    /// Throws DTypeMismatchException when the tree's tensors differ in dtype, ArgumentException when it holds none.
    let jacobian (f: 'T -> Tensor) (x: 'T) : 'T =
        match box x with
        | :? Tensor as t -> unbox<'T> (box (Transform.Jacobian(Func<_, _>(fun t -> f (unbox<'T> (box t))), t)))
        | _ ->
            let flat, unravel = ravel "jacobian" x
            let j = Transform.Jacobian(Func<_, _>(fun v -> f (unravel v)), flat)
            let outShape = j.Shape.[.. j.Rank - 2]
            let mutable offset = 0
            Tree.unflatten x [| for l in Tree.leaves x ->
                                  let block = j.Slice(j.Rank - 1, offset, offset + l.Numel).Reshape(Array.append outShape l.Shape)
                                  offset <- offset + l.Numel
                                  block |]

    /// The Hessian of scalar-valued f at x (forward-over-reverse). For a tensor x its shape is x.shape @ x.shape.
    /// For a tree x it is the Hessian with respect to the tree's flattened tensors: shape [N, N], N the total number
    /// of elements, rows and columns in `Tree.leaves` order with each leaf flattened row-major, so the block for
    /// leaves i and j is rows o_i .. o_i + n_i - 1 and columns o_j .. o_j + n_j - 1 (JAX returns these blocks
    /// nested as a tree of trees, a type F# cannot state for any tree).
    /// Throws ShapeMismatchException when f(x) has more than one element, DTypeMismatchException when the tree's
    /// tensors differ in dtype.
    let hessian (f: 'T -> Tensor) (x: 'T) : Tensor =
        match box x with
        | :? Tensor as t -> Transform.Hessian(Func<_, _>(fun t -> f (unbox<'T> (box t))), t)
        | _ ->
            let flat, unravel = ravel "hessian" x
            Transform.Hessian(Func<_, _>(fun v -> f (unravel v)), flat)

    /// The Hessian of scalar-valued f at x times v, without forming the Hessian (forward-over-reverse). x is a
    /// tensor or a tree; v and the result have x's structure and shapes.
    /// Throws ShapeMismatchException when v's tensors do not match x's or f(x) has more than one element.
    let hvp (f: 'T -> Tensor) (x: 'T) (v: 'T) : 'T =
        match box x, box v with
        | (:? Tensor as t), (:? Tensor as u) -> unbox<'T> (box (Transform.Hvp(Func<_, _>(fun t -> f (unbox<'T> (box t))), t, u)))
        | _ ->
            let xs, vs = Tree.leaves x, Tree.leaves v
            if xs.Length <> vs.Length then
                raise (ShapeMismatchException("hvp", sprintf "x holds %d tensors but v holds %d" xs.Length vs.Length))
            Array.iteri2 (fun i (a: Tensor) (b: Tensor) ->
                if a.Shape <> b.Shape then
                    raise (ShapeMismatchException("hvp", sprintf "tensor %d of v has shape %s but x's has %s" i (Shape.Format b.Shape) (Shape.Format a.Shape)))) xs vs
            let flat, unravel = ravel "hvp" x
            let flatV, _ = ravel "hvp" v
            unravel (Transform.Hvp(Func<_, _>(fun w -> f (unravel w)), flat, flatV))

    /// Compares grad f x with central finite differences in Float64; the result names the worst element.
    let gradcheck (f: Tensor -> Tensor) (x: Tensor) : GradCheckResult = GradCheck.Check(Func<_, _> f, x)

    /// Evaluates body with derivative tracking off: its result is a constant for every transformation.
    let noGrad (body: unit -> 'T) : 'T = Transform.NoGrad(Func<'T> body)

    /// x as a constant: the same values, but no derivative flows through them for any transformation (JAX's
    /// stop_gradient, PyTorch's detach). x is a tensor or any tree of tensors (tuple, record, Params...); the
    /// result has x's structure.
    let stopGradient (x: 'T) : 'T =
        match box x with
        | :? Tensor as t -> unbox<'T> (box (t.StopGradient()))
        | _ -> Tree.map (fun t -> t.StopGradient()) x

    /// A differentiable function of one tensor with a hand-written reverse rule `backward g x y` (and optional
    /// forward rule `jvp dx x y`), like torch.autograd.Function.
    let customFn (name: string) (forward: Tensor -> Tensor) (backward: Tensor -> Tensor -> Tensor -> Tensor)
                 (jvpRule: (Tensor -> Tensor -> Tensor -> Tensor) option) : Tensor -> Tensor =
        let cf =
            CustomFunction(name, 1,
                Func<_, _>(fun xs -> forward xs.[0]),
                Func<_, _, _, _>(fun g xs y -> [| backward g xs.[0] y |]),
                (match jvpRule with
                 | Some j -> Func<_, _, _, _>(fun (dxs: Tensor[]) (xs: Tensor[]) y -> j dxs.[0] xs.[0] y)
                 | None -> null))
        fun x -> cf.Invoke [| x |]

/// Scalar forward mode on Dual numbers: derivatives of `float -> float` code with no heap allocation. Write the
/// function generically (`let inline f x = sin x * x + 2.0 * x`) or over `Dual<float>` directly.
module Scalar =

    /// f'(x) for f over Dual<float>.
    let diff (f: Dual<float> -> Dual<float>) (x: float) : float = Dual.Diff(Func<_, _> f, x)

    /// (f x, f' x) in one evaluation.
    let valueAndDiff (f: Dual<float> -> Dual<float>) (x: float) : float * float =
        let struct (v, d) = Dual.ValueAndDiff(Func<_, _> f, x)
        v, d

    /// f''(x) by nested duals (distinct types per level, so no perturbation confusion).
    let diff2 (f: Dual<Dual<float>> -> Dual<Dual<float>>) (x: float) : float = Dual.Diff2(Func<_, _> f, x)
