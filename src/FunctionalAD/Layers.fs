namespace FunctionalAD

open System

/// Settings of batch normalisation (PyTorch's BatchNorm defaults: eps 1e-5, momentum 0.1, affine).
type BatchNormOptions =
    { /// Added to the variance before the square root.
      Eps: float
      /// The weight of the batch's statistics in the running ones: running = (1 - momentum)·running + momentum·batch.
      Momentum: float
      /// Learned per-channel scale "weight" (ones) and shift "bias" (zeros).
      Affine: bool }
    /// eps 1e-5, momentum 0.1, affine.
    static member Default = { Eps = 1e-5; Momentum = 0.1; Affine = true }

/// The convolutional, pooling and attention layers behind nn.conv2d, nn.maxPool2d, nn.multiHeadAttention, ...
/// Parameters are named as in PyTorch ("weight", "bias", "in_proj_weight", "out_proj.weight") and initialised with
/// PyTorch's defaults.
module internal Layers =

    /// U(-1/√fanIn, 1/√fanIn): PyTorch's kaiming_uniform(a = √5) for conv and linear weights, and their biases' init.
    let private fanInUniform (fanIn: int) (shape: int list) =
        let bound = 1.0 / sqrt (float (max 1 fanIn))
        Init.uniform -bound bound shape

    let private convLayer (name: string) (o: ConvOptions) (inChannels: int) (outChannels: int) (kernel: int list) (apply: Tensor -> Tensor -> Tensor option -> Tensor) =
        if o.Groups <= 0 || inChannels % o.Groups <> 0 || outChannels % o.Groups <> 0 then
            raise (ArgumentException(sprintf "nn.%s: groups = %d must divide the input channels (%d) and the output channels (%d)" name o.Groups inChannels outChannels))
        let fanIn = inChannels / o.Groups * List.fold (*) 1 kernel
        model {
            let! w = param "weight" (fanInUniform fanIn (outChannels :: inChannels / o.Groups :: kernel))
            let! b =
                if o.Bias then model { let! b = param "bias" (fanInUniform fanIn [ outChannels ]) in return Some b }
                else model { return None }
            return fun (x: Tensor) -> apply x w b
        }

    let conv2d (o: ConvOptions) inChannels outChannels kernel =
        convLayer "conv2d" o inChannels outChannels [ kernel; kernel ] (fun x w b ->
            x.conv2d(w, ?bias = b, stride = o.Stride, padding = o.Padding, dilation = o.Dilation, groups = o.Groups))

    let conv1d (o: ConvOptions) inChannels outChannels kernel =
        convLayer "conv1d" o inChannels outChannels [ kernel ] (fun x w b ->
            x.conv1d(w, ?bias = b, stride = o.Stride, padding = o.Padding, dilation = o.Dilation, groups = o.Groups))

    let convTranspose2d (o: ConvTransposeOptions) (inChannels: int) (outChannels: int) (kernel: int) =
        if o.Groups <= 0 || inChannels % o.Groups <> 0 || outChannels % o.Groups <> 0 then
            raise (ArgumentException(sprintf "nn.convTranspose2d: groups = %d must divide the input channels (%d) and the output channels (%d)" o.Groups inChannels outChannels))
        // PyTorch computes the fan-in from the weight [in, out/groups, k, k] as dimension 1 times the kernel
        let fanIn = outChannels / o.Groups * kernel * kernel
        model {
            let! w = param "weight" (fanInUniform fanIn [ inChannels; outChannels / o.Groups; kernel; kernel ])
            let! b =
                if o.Bias then model { let! b = param "bias" (fanInUniform fanIn [ outChannels ]) in return Some b }
                else model { return None }
            return fun (x: Tensor) ->
                x.convTranspose2d(w, ?bias = b, stride = o.Stride, padding = o.Padding, outputPadding = o.OutputPadding,
                                  dilation = o.Dilation, groups = o.Groups)
        }

    let multiHeadAttention (embedDim: int) (heads: int) (causal: bool) : Model<Tensor -> Tensor -> Tensor -> Tensor> =
        if heads <= 0 || embedDim % heads <> 0 then
            raise (ArgumentException(sprintf "nn.multiHeadAttention: the embedding size %d is not divisible by the number of heads %d" embedDim heads))
        let e, d = embedDim, embedDim / heads
        // PyTorch: xavier_uniform on in_proj_weight [3E, E] (fan in E, fan out 3E), zero biases, out_proj as a Linear
        let xavier = sqrt (6.0 / float (4 * e))
        model {
            let! wIn = param "in_proj_weight" (Init.uniform -xavier xavier [ 3 * e; e ])
            let! bIn = param "in_proj_bias" (Init.zeros [ 3 * e ])
            let! wOut, bOut =
                scope "out_proj" (model {
                    let! w = param "weight" (fanInUniform e [ e; e ])
                    let! b = param "bias" (Init.zeros [ e ])
                    return w, b })
            return fun (q: Tensor) (k: Tensor) (v: Tensor) ->
                for name, t in [ "query", q; "key", k; "value", v ] do
                    if t.Rank <> 3 || t.Shape.[2] <> e then
                        raise (ShapeMismatchException("multiHeadAttention", sprintf "%s must be [N, L, %d] (embedding size %d, %d heads), got %s" name e e heads (Shape.Format t.Shape)))
                let project (x: Tensor) i = x.MatMul(wIn.Narrow(0, i * e, e).T) + bIn.Narrow(0, i * e, e)
                let split (x: Tensor) = x.Reshape(x.Shape.[0], x.Shape.[1], heads, d).Transpose(1, 2) // [N, heads, L, d]
                let o = Tensor.ScaledDotProductAttention(split (project q 0), split (project k 1), split (project v 2), causal = causal)
                let merged = o.Transpose(1, 2).Reshape(o.Shape.[0], q.Shape.[1], e)
                merged.MatMul(wOut.T) + bOut
        }

    // ---- normalisation, dropout, recurrent cells and the transformer block ----

    let private shapeError (layer: string) fmt = Printf.kprintf (fun s -> raise (ShapeMismatchException(layer, s))) fmt

    /// Batch normalisation over [N, C] or [N, C, L] (batchNorm1d) or [N, C, H, W] (batchNorm2d).
    let batchNorm (layer: string) (ranks: int list) (expected: string) (o: BatchNormOptions) (features: int) : Model<Tensor -> Tensor> =
        if features <= 0 then raise (ArgumentException(sprintf "nn.%s: the number of features must be positive, got %d" layer features))
        if o.Eps <= 0.0 || o.Momentum < 0.0 || o.Momentum > 1.0 then
            raise (ArgumentException(sprintf "nn.%s: eps must be > 0 and momentum in [0, 1], got eps %g, momentum %g" layer o.Eps o.Momentum))
        model {
            let! affine =
                if o.Affine then
                    model {
                        let! w = param "weight" (Init.ones [ features ])
                        let! b = param "bias" (Init.zeros [ features ])
                        return Some(w, b) }
                else model { return None }
            let! mean = state "running_mean" (Init.zeros [ features ])
            let! var = state "running_var" (Init.ones [ features ])
            let! m = mode
            return fun (x: Tensor) ->
                if not (List.contains x.Rank ranks) then shapeError layer "expected an input %s, got %s" expected (Shape.Format x.Shape)
                if x.Shape.[1] <> features then
                    shapeError layer "the layer has %d features (channels) but the input %s has %d in dimension 1" features (Shape.Format x.Shape) x.Shape.[1]
                let w, b = match affine with Some(w, b) -> w, b | None -> null, null
                let r = x.BatchNorm(mean.Value, var.Value, w, b, m.IsTraining, o.Momentum, o.Eps)
                if m.IsTraining then
                    mean.Set r.RunningMean
                    var.Set r.RunningVar
                r.Output
        }

    let groupNorm (groups: int) (channels: int) (eps: float) : Model<Tensor -> Tensor> =
        if groups <= 0 || channels <= 0 || channels % groups <> 0 then
            raise (ArgumentException(sprintf "nn.groupNorm: %d groups must divide the %d channels" groups channels))
        model {
            let! w = param "weight" (Init.ones [ channels ])
            let! b = param "bias" (Init.zeros [ channels ])
            return fun (x: Tensor) ->
                if x.Rank < 2 || x.Shape.[1] <> channels then
                    shapeError "groupNorm" "the layer has %d channels but the input is %s (expected [N, %d, *])" channels (Shape.Format x.Shape) channels
                x.GroupNorm(groups, w, b, eps)
        }

    let dropout (rate: float) : Model<Tensor -> Tensor> =
        if rate < 0.0 || rate >= 1.0 then raise (ArgumentOutOfRangeException("rate", rate, "nn.dropoutLayer: rate must be in [0, 1)"))
        model {
            match! mode with
            | Mode.Eval -> return id
            | Mode.Train _ ->
                let! g = randomGenerator
                return fun (x: Tensor) ->
                    if rate = 0.0 then x
                    else
                        let keep = (Tensor.Rand(x.Shape, g, x.DType, Nullable x.Device)).Ge(rate).To(x.DType)
                        x * keep / (1.0 - rate)
        }

    /// The weights of a recurrent cell with `gates` gates, PyTorch's names with `suffix` and init U(±1/√hidden).
    let private recurrentWeights (layer: string) (gates: int) (suffix: string) (inputSize: int) (hiddenSize: int) =
        if inputSize <= 0 || hiddenSize <= 0 then
            raise (ArgumentException(sprintf "nn.%s: the input and hidden sizes must be positive, got %d and %d" layer inputSize hiddenSize))
        let bound = 1.0 / sqrt (float hiddenSize)
        let u shape = Init.uniform -bound bound shape
        model {
            let! wIh = param ("weight_ih" + suffix) (u [ gates * hiddenSize; inputSize ])
            let! wHh = param ("weight_hh" + suffix) (u [ gates * hiddenSize; hiddenSize ])
            let! bIh = param ("bias_ih" + suffix) (u [ gates * hiddenSize ])
            let! bHh = param ("bias_hh" + suffix) (u [ gates * hiddenSize ])
            return wIh, wHh, bIh, bHh
        }

    let private zeroState (layer: string) (x: Tensor) (hiddenSize: int) =
        if x.Rank <> 3 then shapeError layer "the input must be [batch, time, features], got %s" (Shape.Format x.Shape)
        Tensor.Zeros([| x.Shape.[0]; hiddenSize |], x.DType, Nullable x.Device)

    let lstmCell inputSize hiddenSize : Model<Tensor -> Tensor * Tensor -> Tensor * Tensor> =
        model {
            let! wIh, wHh, bIh, bHh = recurrentWeights "lstmCell" 4 "" inputSize hiddenSize
            return fun (x: Tensor) (h: Tensor, c: Tensor) ->
                let struct (h2, c2) = Tensor.LstmCell(x, h, c, wIh, wHh, bIh, bHh)
                h2, c2
        }

    let gruCell inputSize hiddenSize : Model<Tensor -> Tensor -> Tensor> =
        model {
            let! wIh, wHh, bIh, bHh = recurrentWeights "gruCell" 3 "" inputSize hiddenSize
            return fun (x: Tensor) (h: Tensor) -> Tensor.GruCell(x, h, wIh, wHh, bIh, bHh)
        }

    let lstm inputSize hiddenSize : Model<Tensor -> Tensor * (Tensor * Tensor)> =
        model {
            let! wIh, wHh, bIh, bHh = recurrentWeights "lstm" 4 "_l0" inputSize hiddenSize
            return fun (x: Tensor) ->
                let zero = zeroState "lstm" x hiddenSize
                let struct (out, h, c) = Tensor.Lstm(x, zero, zero, wIh, wHh, bIh, bHh)
                out, (h, c)
        }

    let gru inputSize hiddenSize : Model<Tensor -> Tensor * Tensor> =
        model {
            let! wIh, wHh, bIh, bHh = recurrentWeights "gru" 3 "_l0" inputSize hiddenSize
            return fun (x: Tensor) ->
                let struct (out, h) = Tensor.Gru(x, zeroState "gru" x hiddenSize, wIh, wHh, bIh, bHh)
                out, h
        }

    /// A linear layer in PyTorch's layout: "weight" [out, in], "bias" [out], both U(±1/√in).
    let private torchLinear (inDim: int) (outDim: int) =
        model {
            let! w = param "weight" (fanInUniform inDim [ outDim; inDim ])
            let! b = param "bias" (fanInUniform inDim [ outDim ])
            return fun (x: Tensor) -> x.MatMul(w.T) + b
        }

    let layerNorm (dim: int) : Model<Tensor -> Tensor> =
        model {
            let! gamma = param "weight" (Init.ones [ dim ])
            let! beta = param "bias" (Init.zeros [ dim ])
            return fun (x: Tensor) ->
                let centered = x - x.Mean(-1, true)
                let var = (centered * centered).Mean(-1, true)
                centered * (var + 1e-5).Rsqrt() * gamma + beta
        }

    let transformerBlock (rate: float) (embedDim: int) (heads: int) (mlpDim: int) (causal: bool) : Model<Tensor -> Tensor> =
        if rate < 0.0 || rate >= 1.0 then raise (ArgumentOutOfRangeException("rate", rate, "nn.transformerBlockWith: the dropout rate must be in [0, 1)"))
        // without dropout the block does not read the mode, so the plain Model.apply serves
        let drop = if rate > 0.0 then dropout rate else model { return id }
        if mlpDim <= 0 then raise (ArgumentException(sprintf "nn.transformerBlock: the MLP's hidden size must be positive, got %d" mlpDim))
        if heads <= 0 || embedDim % heads <> 0 then
            raise (ArgumentException(sprintf "nn.transformerBlock: the embedding size %d is not divisible by the number of heads %d" embedDim heads))
        let attention = multiHeadAttention embedDim heads causal
        model {
            let! norm1 = scope "norm1" (layerNorm embedDim)
            let! attend = scope "self_attn" attention
            let! norm2 = scope "norm2" (layerNorm embedDim)
            let! linear1 = scope "linear1" (torchLinear embedDim mlpDim)
            let! linear2 = scope "linear2" (torchLinear mlpDim embedDim)
            let! drop1 = drop
            let! dropMlp = drop
            let! drop2 = drop
            return fun (x: Tensor) ->
                if x.Rank <> 3 || x.Shape.[2] <> embedDim then
                    shapeError "transformerBlock" "the input must be [N, L, %d] (embedding size %d), got %s" embedDim embedDim (Shape.Format x.Shape)
                let a = norm1 x
                let x = x + drop1 (attend a a a)
                let gelu (t: Tensor) = 0.5 * t * (1.0 + (t / sqrt 2.0).Erf())
                x + drop2 (linear2 (dropMlp (gelu (linear1 (norm2 x)))))
        }
