namespace FunctionalAD

open System

/// Zero padding of a convolution.
[<RequireQualifiedAccess>]
type Padding =
    /// No padding (PyTorch's "valid").
    | Valid
    /// The output keeps the input's spatial size (stride 1; an odd total puts the extra element after).
    | Same
    /// `Explicit n`: n zeros on both sides of every spatial dimension.
    | Explicit of int

/// How a convolution slides: stride, padding, dilation, channel groups, and (for layers) whether it has a bias.
type ConvOptions =
    { Stride: int
      Padding: Padding
      Dilation: int
      Groups: int
      Bias: bool }
    /// Stride 1, no padding, no dilation, one group, with a bias (PyTorch's defaults).
    static member Default = { Stride = 1; Padding = Padding.Valid; Dilation = 1; Groups = 1; Bias = true }

/// How a transposed convolution slides: stride, padding (cropped from each side of the output), output padding
/// (added at the bottom and right), dilation, channel groups, and (for layers) whether it has a bias.
type ConvTransposeOptions =
    { Stride: int
      Padding: int
      OutputPadding: int
      Dilation: int
      Groups: int
      Bias: bool }
    /// Stride 1, no padding or output padding, no dilation, one group, with a bias (PyTorch's defaults).
    static member Default = { Stride = 1; Padding = 0; OutputPadding = 0; Dilation = 1; Groups = 1; Bias = true }

/// Convolution, pooling, padding, triangles and attention: lowercase members with optional arguments and
/// pipe-friendly functions (tensor last) over the Core's Tensor methods.
[<AutoOpen>]
module NetworkOps =

    let private conv2dWith (x: Tensor) (weight: Tensor) (bias: Tensor option) (o: ConvOptions) =
        let b = Option.toObj bias
        match o.Padding with
        | Padding.Same -> x.Conv2d(weight, b, [| o.Stride |], "same", [| o.Dilation |], o.Groups)
        | Padding.Valid -> x.Conv2d(weight, b, [| o.Stride |], [| 0 |], [| o.Dilation |], o.Groups)
        | Padding.Explicit p -> x.Conv2d(weight, b, [| o.Stride |], [| p |], [| o.Dilation |], o.Groups)

    let private conv1dWith (x: Tensor) (weight: Tensor) (bias: Tensor option) (o: ConvOptions) =
        let b = Option.toObj bias
        match o.Padding with
        | Padding.Same -> x.Conv1d(weight, b, o.Stride, "same", o.Dilation, o.Groups)
        | Padding.Valid -> x.Conv1d(weight, b, o.Stride, 0, o.Dilation, o.Groups)
        | Padding.Explicit p -> x.Conv1d(weight, b, o.Stride, p, o.Dilation, o.Groups)

    let private options stride padding dilation groups =
        { ConvOptions.Default with
            Stride = defaultArg stride 1
            Padding = defaultArg padding Padding.Valid
            Dilation = defaultArg dilation 1
            Groups = defaultArg groups 1 }

    type Tensor with
        /// 2-D convolution (PyTorch's conv2d): x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] -> [N, O, H', W'].
        member x.conv2d(weight: Tensor, ?bias: Tensor, ?stride: int, ?padding: Padding, ?dilation: int, ?groups: int) =
            conv2dWith x weight bias (options stride padding dilation groups)
        /// 1-D convolution (PyTorch's conv1d): x [N, C, L], weight [O, C/groups, k], bias [O] -> [N, O, L'].
        member x.conv1d(weight: Tensor, ?bias: Tensor, ?stride: int, ?padding: Padding, ?dilation: int, ?groups: int) =
            conv1dWith x weight bias (options stride padding dilation groups)
        /// 2-D transposed convolution (PyTorch's conv_transpose2d): x [N, C, H, W], weight [C, O/groups, kh, kw],
        /// bias [O] -> [N, O, H', W'] with H' = (H - 1)·stride - 2·padding + dilation·(kh - 1) + outputPadding + 1.
        /// Throws ShapeMismatchException for a channel mismatch or non-4-D operands, TensorException for bad settings.
        member x.convTranspose2d(weight: Tensor, ?bias: Tensor, ?stride: int, ?padding: int, ?outputPadding: int, ?dilation: int, ?groups: int) =
            x.ConvTranspose2d(weight, Option.toObj bias, [| defaultArg stride 1 |], [| defaultArg padding 0 |],
                              [| defaultArg outputPadding 0 |], [| defaultArg dilation 1 |], defaultArg groups 1)
        /// Resizes the last two dimensions of [N, C, H, W] (PyTorch's interpolate): to `size` (height, width) or by
        /// `scaleFactor`, nearest (default) or bilinear (`alignCorners` false by default). Throws ArgumentException
        /// unless exactly one of size and scaleFactor is given; the Core's errors for bad shapes.
        member x.upsample(?size: int * int, ?scaleFactor: float, ?mode: UpsampleMode, ?alignCorners: bool) =
            let mode, corners = defaultArg mode UpsampleMode.Nearest, defaultArg alignCorners false
            match size, scaleFactor with
            | Some(h, w), None -> x.Upsample([| h; w |], mode, corners)
            | None, Some s -> x.Upsample([| s |], mode, corners)
            | _ -> invalidArg "size" "upsample: give either size or scaleFactor (exactly one)"
        /// 2-D max pooling over kernel x kernel windows (stride defaults to the kernel; padding counts as -inf;
        /// ceilMode rounds the output size up, as PyTorch's ceil_mode).
        member x.maxPool2d(kernel: int, ?stride: int, ?padding: int, ?ceilMode: bool) =
            x.MaxPool2d([| kernel |], [| defaultArg stride kernel |], [| defaultArg padding 0 |], null, defaultArg ceilMode false)
        /// 1-D max pooling (stride defaults to the kernel; ceilMode as in maxPool2d).
        member x.maxPool1d(kernel: int, ?stride: int, ?padding: int, ?ceilMode: bool) =
            x.MaxPool1d(kernel, Nullable(defaultArg stride kernel), defaultArg padding 0, 1, defaultArg ceilMode false)
        /// 2-D average pooling over kernel x kernel windows: zero padding counted unless countIncludePad = false
        /// (PyTorch's default counts it); ceilMode rounds the output size up.
        member x.avgPool2d(kernel: int, ?stride: int, ?padding: int, ?ceilMode: bool, ?countIncludePad: bool) =
            x.AvgPool2d([| kernel |], [| defaultArg stride kernel |], [| defaultArg padding 0 |],
                        defaultArg ceilMode false, defaultArg countIncludePad true)
        /// Adaptive average pooling to height x width ((1, 1): global average pooling).
        member x.adaptiveAvgPool2d(height: int, width: int) = x.AdaptiveAvgPool2d([| height; width |])
        /// PyTorch's pad: (before, after) pairs from the last dimension backwards.
        member x.pad(pads: int list, ?mode: PadMode, ?value: float) =
            x.Pad(List.toArray pads, defaultArg mode PadMode.Constant, defaultArg value 0.0)
        /// The lower triangle of the last two dimensions (column - row <= diagonal), zeros elsewhere.
        member x.tril(?diagonal: int) = x.Tril(defaultArg diagonal 0)
        /// The upper triangle of the last two dimensions (column - row >= diagonal), zeros elsewhere.
        member x.triu(?diagonal: int) = x.Triu(defaultArg diagonal 0)
        /// value where the Bool mask is true, x elsewhere.
        member x.maskedFill(mask: Tensor, value: float) = x.MaskedFill(mask, value)

    /// 2-D convolution with default options (no bias): `x |> conv2d w`; `x.conv2d(w, bias, stride = 2, ...)` for more.
    let conv2d (weight: Tensor) (x: Tensor) = x.Conv2d(weight)
    /// 1-D convolution with default options (no bias).
    let conv1d (weight: Tensor) (x: Tensor) = x.Conv1d(weight)
    /// 2-D transposed convolution with default options (stride 1, no padding, no bias): `x |> convTranspose2d w`.
    let convTranspose2d (weight: Tensor) (x: Tensor) = x.ConvTranspose2d(weight)
    /// Nearest-neighbour upsampling of [N, C, H, W] by a scale factor (x.upsample(...) for bilinear or a size).
    let upsample (scaleFactor: float) (x: Tensor) = x.Upsample([| scaleFactor |])
    /// 2-D max pooling with a square kernel, stride = kernel.
    let maxPool2d (kernel: int) (x: Tensor) = x.maxPool2d kernel
    /// 1-D max pooling, stride = kernel.
    let maxPool1d (kernel: int) (x: Tensor) = x.maxPool1d kernel
    /// 2-D average pooling with a square kernel, stride = kernel.
    let avgPool2d (kernel: int) (x: Tensor) = x.avgPool2d kernel
    /// Adaptive average pooling to (height, width).
    let adaptiveAvgPool2d (height: int, width: int) (x: Tensor) = x.AdaptiveAvgPool2d([| height; width |])
    /// Zero padding: (before, after) pairs from the last dimension backwards (x.pad(pads, mode, value) for other modes).
    let pad (pads: int list) (x: Tensor) = x.pad pads
    /// The lower triangle (diagonal included) of the last two dimensions.
    let tril (x: Tensor) = x.Tril()
    /// The upper triangle (diagonal included) of the last two dimensions.
    let triu (x: Tensor) = x.Triu()
    /// value where the Bool mask is true, x elsewhere.
    let maskedFill (mask: Tensor) (value: float) (x: Tensor) = x.MaskedFill(mask, value)
    /// softmax(q·kᵀ/√E)·v (Tensor.ScaledDotProductAttention(q, k, v, mask, causal, scale) for a mask or causal).
    let scaledDotProductAttention (q: Tensor) (k: Tensor) (v: Tensor) = Tensor.ScaledDotProductAttention(q, k, v)
    /// softmax(q·kᵀ/√E)·v where query i attends to keys 0..i only.
    let causalAttention (q: Tensor) (k: Tensor) (v: Tensor) = Tensor.ScaledDotProductAttention(q, k, v, causal = true)
