namespace FunctionalAD

open System

/// Differentiation as higher-order functions of one tensor: `grad (fun x -> (x * x).sum()) (tensor [1.0; 2.0])`.
/// Every call opens its own nesting level, so these compose freely: `grad (fun x -> grad f x |> ...)`, `jvp (grad f)`.
/// The input is a Tensor, so F# knows the lambda's parameter type and members such as `.sum()` resolve without an
/// annotation. For functions of a tree of tensors (tuple, record, list, map, Params) use the same names in the
/// `Tree` module: `Tree.grad loss params` returns gradients with the tree's structure.
[<AutoOpen>]
module Differentiation =

    /// The value f(x) (a one-element tensor) and its gradient with respect to x (x's shape), in one reverse pass.
    /// Throws ShapeMismatchException when f(x) has more than one element (use jacobian or vjp).
    let gradv (f: Tensor -> Tensor) (x: Tensor) : Tensor * Tensor =
        let struct (value, grads) = Transform.ValueAndGrad(Func<_, _>(fun (ts: Tensor[]) -> f ts.[0]), x)
        value, grads.[0]

    /// The gradient of scalar-valued f at x (x's shape). For a tree of tensors use `Tree.grad`.
    /// Throws ShapeMismatchException when f(x) has more than one element.
    let grad (f: Tensor -> Tensor) (x: Tensor) : Tensor = snd (gradv f x)

    /// Reverse mode: f(x) and the pullback, which maps a cotangent of f(x)'s shape to one of x's shape.
    let vjp (f: Tensor -> Tensor) (x: Tensor) : Tensor * (Tensor -> Tensor) =
        let r = Transform.Vjp(Func<_, _>(fun (ts: Tensor[]) -> f ts.[0]), x)
        r.Value, (fun u -> (r.Pullback u).[0])

    /// Forward mode: f(x) and the directional derivative of f at x along v (v has x's shape).
    /// Throws ShapeMismatchException when v's shape differs from x's.
    let jvp (f: Tensor -> Tensor) (x: Tensor) (v: Tensor) : Tensor * Tensor =
        let struct (value, tangent) = Transform.Jvp(Func<_, _>(fun (ts: Tensor[]) -> f ts.[0]), [| x |], [| v |])
        value, tangent

    /// The derivative of f at a one-element x (forward mode). For larger x use `jvp f x v` (the derivative along
    /// v) or `jacobian`. Throws ShapeMismatchException for larger x.
    let diff (f: Tensor -> Tensor) (x: Tensor) : Tensor = Transform.Diff(Func<_, _> f, x)

    /// The n-th derivative of f at a one-element x (nested forward mode; n = 0 gives f x), as in `diff`.
    /// Throws ShapeMismatchException for larger x.
    let diffn (n: int) (f: Tensor -> Tensor) (x: Tensor) : Tensor = Transform.DiffN(n, Func<_, _> f, x)

    /// The Jacobian of f at x, shape f(x).shape @ x.shape (forward or reverse mode, whichever needs fewer passes).
    let jacobian (f: Tensor -> Tensor) (x: Tensor) : Tensor = Transform.Jacobian(Func<_, _> f, x)

    /// The Hessian of scalar-valued f at x (forward-over-reverse), shape x.shape @ x.shape.
    /// Throws ShapeMismatchException when f(x) has more than one element.
    let hessian (f: Tensor -> Tensor) (x: Tensor) : Tensor = Transform.Hessian(Func<_, _> f, x)

    /// The Hessian of scalar-valued f at x times v (v and the result have x's shape), without forming the Hessian
    /// (forward-over-reverse). Throws ShapeMismatchException when v's shape differs from x's or f(x) has more
    /// than one element.
    let hvp (f: Tensor -> Tensor) (x: Tensor) (v: Tensor) : Tensor = Transform.Hvp(Func<_, _> f, x, v)

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
