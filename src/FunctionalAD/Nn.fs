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

    /// 2-D convolution layer (PyTorch's nn.Conv2d): [N, inChannels, H, W] -> [N, outChannels, H', W'] with a square
    /// kernel, stride 1, no padding; parameters "weight" [out, in, k, k] and "bias" [out], both U(±1/√(in·k·k)).
    let conv2d (inChannels: int) (outChannels: int) (kernel: int) = Layers.conv2d ConvOptions.Default inChannels outChannels kernel
    /// conv2d with options: `nn.conv2dWith { ConvOptions.Default with Stride = 2; Padding = Padding.Same } 3 16 3`.
    /// Groups must divide both channel counts (ArgumentException otherwise); the weight is [out, in/groups, k, k].
    let conv2dWith (options: ConvOptions) (inChannels: int) (outChannels: int) (kernel: int) = Layers.conv2d options inChannels outChannels kernel
    /// 1-D convolution layer (PyTorch's nn.Conv1d): [N, inChannels, L] -> [N, outChannels, L'].
    let conv1d (inChannels: int) (outChannels: int) (kernel: int) = Layers.conv1d ConvOptions.Default inChannels outChannels kernel
    /// conv1d with options (stride, padding, dilation, groups, bias).
    let conv1dWith (options: ConvOptions) (inChannels: int) (outChannels: int) (kernel: int) = Layers.conv1d options inChannels outChannels kernel
    /// 2-D transposed convolution layer (PyTorch's nn.ConvTranspose2d): [N, inChannels, H, W] -> [N, outChannels,
    /// H + kernel - 1, W + kernel - 1] (stride 1, no padding); parameters "weight" [in, out, k, k] and "bias" [out],
    /// both U(±1/√(out·k·k)) as PyTorch.
    let convTranspose2d (inChannels: int) (outChannels: int) (kernel: int) =
        Layers.convTranspose2d ConvTransposeOptions.Default inChannels outChannels kernel
    /// convTranspose2d with options: `nn.convTranspose2dWith { ConvTransposeOptions.Default with Stride = 2; Padding = 1;
    /// OutputPadding = 1 } 64 32 3` doubles the height and width. Groups must divide both channel counts
    /// (ArgumentException otherwise); the weight is [in, out/groups, k, k].
    let convTranspose2dWith (options: ConvTransposeOptions) (inChannels: int) (outChannels: int) (kernel: int) =
        Layers.convTranspose2d options inChannels outChannels kernel
    /// Nearest-neighbour upsampling by an integer factor (PyTorch's nn.Upsample(scale_factor, mode="nearest")).
    let upsample (scaleFactor: int) : Model<Tensor -> Tensor> = fn (fun x -> x.Upsample([| float scaleFactor |]))
    /// 2-D max pooling with a square kernel and stride = kernel (no parameters).
    let maxPool2d (kernel: int) : Model<Tensor -> Tensor> = fn (fun x -> x.maxPool2d kernel)
    /// 2-D average pooling with a square kernel and stride = kernel (no parameters).
    let avgPool2d (kernel: int) : Model<Tensor -> Tensor> = fn (fun x -> x.avgPool2d kernel)
    /// Global average pooling: [N, C, H, W] -> [N, C, 1, 1].
    let globalAvgPool2d : Model<Tensor -> Tensor> = fn (fun x -> x.AdaptiveAvgPool2d([| 1; 1 |]))
    /// Every dimension after the first in one: [N, ...] -> [N, rest] (PyTorch's nn.Flatten).
    let flatten : Model<Tensor -> Tensor> = fn (fun x -> x.Reshape(x.Shape.[0], -1))
    /// Multi-head attention (PyTorch's nn.MultiheadAttention, batch first, no dropout): query [N, Lq, E], key and value
    /// [N, Lk, E] -> [N, Lq, E]; `causal` lets position i attend to 0..i only. Parameters "in_proj_weight" [3E, E]
    /// (Xavier uniform), "in_proj_bias" [3E], "out_proj.weight" [E, E], "out_proj.bias" [E]. Throws ArgumentException
    /// when `heads` does not divide `embedDim`, ShapeMismatchException for inputs of another shape.
    let multiHeadAttention (embedDim: int) (heads: int) (causal: bool) = Layers.multiHeadAttention embedDim heads causal
    /// Self-attention: multiHeadAttention applied with query = key = value = x ([N, L, E] -> [N, L, E]).
    let selfAttention (embedDim: int) (heads: int) (causal: bool) : Model<Tensor -> Tensor> =
        let attention = Layers.multiHeadAttention embedDim heads causal // validates now, not when first applied
        model {
            let! attend = attention
            return fun x -> attend x x x
        }
