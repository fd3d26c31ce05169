namespace FunctionalAD

open System

/// Layers (as models) and activation functions.
module nn =

    /// y = x·w + b with w: [inDim; outDim] (Kaiming init), b: [outDim] (zeros). x: [..., inDim] -> [..., outDim].
    let linear (inDim: int) (outDim: int) : Model<Tensor -> Tensor> =
        model {
            let! w = param "w" (Init.kaiming [ inDim; outDim ])
            let! b = param "b" (Init.zeros [ outDim ])
            return fun (x: Tensor) -> x.MatMul w + b
        }

    /// A function without parameters, as a layer.
    let fn (f: Tensor -> Tensor) : Model<Tensor -> Tensor> = model { return f }

    /// Layers applied in order; their parameters are scoped "0.", "1.", ...
    let sequential (layers: Model<Tensor -> Tensor> list) : Model<Tensor -> Tensor> =
        let rec build i layers =
            match layers with
            | [] -> model { return id }
            | layer :: rest ->
                model {
                    let! f = scope (string i) layer
                    let! g = build (i + 1) rest
                    return f >> g
                }
        build 0 layers

    /// A multilayer perceptron through the given sizes ([2; 64; 64; 3]), with `activation` between linear layers
    /// (not after the last). Layers are scoped "l0.", "l1.", ...
    let mlp (sizes: int list) (activation: Tensor -> Tensor) : Model<Tensor -> Tensor> =
        if List.length sizes < 2 then invalidArg "sizes" "nn.mlp: give at least an input and an output size"
        let pairs = List.pairwise sizes
        let rec build i pairs =
            match pairs with
            | [] -> model { return id }
            | (a, b) :: rest ->
                model {
                    let! layer = scope (sprintf "l%d" i) (linear a b)
                    let! next = build (i + 1) rest
                    return if List.isEmpty rest then layer else layer >> activation >> next
                }
        build 0 pairs

    /// max(x, 0).
    let relu (x: Tensor) = x.Relu()
    /// Hyperbolic tangent.
    let tanh (x: Tensor) = x.Tanh()
    /// Logistic sigmoid.
    let sigmoid (x: Tensor) = x.Sigmoid()
    /// GELU, tanh approximation: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
    let gelu (x: Tensor) = 0.5 * x * (1.0 + (sqrt (2.0 / Math.PI) * (x + 0.044715 * x * x * x)).Tanh())
    /// Softmax over the last dimension.
    let softmax (x: Tensor) = x.Softmax(-1)
    /// Log-softmax over the last dimension.
    let logSoftmax (x: Tensor) = x.LogSoftmax(-1)

    /// Inverted dropout, pure: zeroes each element with probability `rate` using the given generator (the RNG key)
    /// and scales the rest by 1/(1-rate). Throws ArgumentOutOfRangeException unless 0 <= rate < 1.
    let dropout (rate: float) (key: Generator) (x: Tensor) =
        if rate < 0.0 || rate >= 1.0 then raise (ArgumentOutOfRangeException("rate", rate, "nn.dropout: rate must be in [0, 1)"))
        if rate = 0.0 then x
        else
            let keep = (Tensor.Rand(x.Shape, key, x.DType, Nullable x.Device)).Ge(rate).To(x.DType)
            x * keep / (1.0 - rate)

    /// Layer normalisation over the last dimension (size `dim`) with a learned scale "weight" and shift "bias".
    let layerNorm (dim: int) : Model<Tensor -> Tensor> =
        model {
            let! gamma = param "weight" (Init.ones [ dim ])
            let! beta = param "bias" (Init.zeros [ dim ])
            return fun (x: Tensor) ->
                let mean = x.Mean(-1, true)
                let centered = x - mean
                let var = (centered * centered).Mean(-1, true)
                centered * (var + 1e-5).Rsqrt() * gamma + beta
        }

    /// A table of `count` vectors of size `dim`: integer indices of any shape -> [..shape, dim].
    let embedding (count: int) (dim: int) : Model<Tensor -> Tensor> =
        model {
            let! table = param "weight" (Init.normal 1.0 [ count; dim ])
            return fun (indices: Tensor) ->
                table.IndexSelect(0, indices.Flatten()).Reshape(Array.append indices.Shape [| dim |])
        }
