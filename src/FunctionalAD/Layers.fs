namespace FunctionalAD

open System

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
