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
    let layerNorm (dim: int) : Model<Tensor -> Tensor> = Layers.layerNorm dim

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

    /// Batch normalisation (PyTorch's nn.BatchNorm1d) over [N, C] or [N, C, L] with C = `features`: in Mode.Train
    /// the batch's mean and biased variance per channel normalise, and the running statistics (state
    /// "running_mean" zeros, "running_var" ones) move by momentum 0.1 towards the batch's (unbiased variance); in
    /// Mode.Eval the running statistics normalise. Then ·weight + bias (parameters, ones and zeros); eps 1e-5.
    /// Apply with Model.applyWithState. Throws ShapeMismatchException for another rank or channel count (naming the
    /// layer and the shapes), in training for one value per channel.
    let batchNorm1d (features: int) = Layers.batchNorm "batchNorm1d" [ 2; 3 ] "[N, C] or [N, C, L]" BatchNormOptions.Default features
    /// batchNorm1d with options (eps, momentum, affine).
    let batchNorm1dWith (options: BatchNormOptions) (features: int) = Layers.batchNorm "batchNorm1d" [ 2; 3 ] "[N, C] or [N, C, L]" options features
    /// Batch normalisation (PyTorch's nn.BatchNorm2d) over [N, C, H, W], per channel; as batchNorm1d otherwise.
    let batchNorm2d (features: int) = Layers.batchNorm "batchNorm2d" [ 4 ] "[N, C, H, W]" BatchNormOptions.Default features
    /// batchNorm2d with options (eps, momentum, affine).
    let batchNorm2dWith (options: BatchNormOptions) (features: int) = Layers.batchNorm "batchNorm2d" [ 4 ] "[N, C, H, W]" options features
    /// Group normalisation (PyTorch's nn.GroupNorm, eps 1e-5): the `channels` of [N, C, *] split into `groups`, each
    /// (sample, group) normalised with its own statistics, then ·weight + bias per channel. No state, same in both
    /// modes. Throws ArgumentException when groups does not divide channels, ShapeMismatchException for an input
    /// with another channel count.
    let groupNorm (groups: int) (channels: int) = Layers.groupNorm groups channels 1e-5
    /// Dropout as a layer that reads the mode (PyTorch's nn.Dropout): in Mode.Train inverted dropout with probability
    /// `rate` and masks drawn from the mode's key (see `randomGenerator`); in Mode.Eval the identity. Apply the model
    /// with Model.applyWithState. (`nn.dropout rate key x` is the plain function.) Throws ArgumentOutOfRangeException
    /// unless 0 <= rate < 1.
    let dropoutLayer (rate: float) = Layers.dropout rate
    /// An LSTM cell (PyTorch's nn.LSTMCell, gates i, f, g, o): x [B, I] -> (h, c) [B, H] -> (h', c'). Parameters
    /// "weight_ih" [4H, I], "weight_hh" [4H, H], "bias_ih", "bias_hh" [4H], all U(±1/√H). Throws ArgumentException
    /// for sizes that are not positive, ShapeMismatchException for inputs that do not fit.
    let lstmCell (inputSize: int) (hiddenSize: int) = Layers.lstmCell inputSize hiddenSize
    /// A GRU cell (PyTorch's nn.GRUCell, gates r, z, n): x [B, I] -> h [B, H] -> h'. Parameters "weight_ih" [3H, I],
    /// "weight_hh" [3H, H], "bias_ih", "bias_hh" [3H], all U(±1/√H).
    let gruCell (inputSize: int) (hiddenSize: int) = Layers.gruCell inputSize hiddenSize
    /// A one-layer LSTM over a sequence, batch first (PyTorch's nn.LSTM(batch_first=True)) from a zero state:
    /// x [B, T, I] -> (outputs [B, T, H], (h, c) final, each [B, H]). Parameters "weight_ih_l0", "weight_hh_l0",
    /// "bias_ih_l0", "bias_hh_l0" as lstmCell's. Throws ShapeMismatchException unless x is [B, T, inputSize].
    let lstm (inputSize: int) (hiddenSize: int) = Layers.lstm inputSize hiddenSize
    /// A one-layer GRU over a sequence, batch first (PyTorch's nn.GRU(batch_first=True)) from a zero state:
    /// x [B, T, I] -> (outputs [B, T, H], final h [B, H]). Parameters as gruCell's with the suffix "_l0".
    let gru (inputSize: int) (hiddenSize: int) = Layers.gru inputSize hiddenSize
    /// A pre-norm transformer block (PyTorch's nn.TransformerEncoderLayer with norm_first=True, GELU, no dropout):
    /// x + MHA(LN(x)), then x + MLP(LN(x)) with MLP = linear (embedDim -> mlpDim), exact GELU, linear (-> embedDim);
    /// `causal` lets position i attend to 0..i only. [N, L, embedDim] -> [N, L, embedDim]. Parameters under "norm1",
    /// "self_attn" (as multiHeadAttention), "norm2", "linear1", "linear2" ("weight" [out, in], "bias").
    /// Throws ArgumentException when heads does not divide embedDim, ShapeMismatchException for another input shape.
    let transformerBlock (embedDim: int) (heads: int) (mlpDim: int) (causal: bool) = Layers.transformerBlock 0.0 embedDim heads mlpDim causal
    /// transformerBlock with dropout (PyTorch's TransformerEncoderLayer places it after the attention, after the
    /// GELU and after the second linear layer): active in Mode.Train, the identity in Mode.Eval; with a rate > 0
    /// the block reads the mode, so apply it with Model.applyWithState. Throws ArgumentOutOfRangeException unless
    /// 0 <= rate < 1, otherwise as transformerBlock.
    let transformerBlockWith (dropout: float) (embedDim: int) (heads: int) (mlpDim: int) (causal: bool) = Layers.transformerBlock dropout embedDim heads mlpDim causal
