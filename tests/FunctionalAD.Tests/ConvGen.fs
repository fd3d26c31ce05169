/// Random sliding-window geometries (convolution, unfold/fold, pooling) for the property table and the conv tests:
/// strides, asymmetric "same" padding, dilation and groups in combination, odd sizes, small enough for finite
/// differences.
module FunctionalAD.Tests.ConvGen

open FsCheck
open FsCheck.FSharp
open FunctionalAD

/// One convolution: input [N, C, H, W] with C = Groups·Cg, weight [O, Cg, Kh, Kw] with O = Groups·Og.
type Geometry =
    { N: int; Groups: int; Cg: int; Og: int; H: int; W: int
      Kh: int; Kw: int; Sh: int; Sw: int; Ph: int; Pw: int; Dh: int; Dw: int
      /// PyTorch's padding="same" (stride 1), instead of Ph, Pw.
      Same: bool }
    member g.C = g.Groups * g.Cg
    member g.O = g.Groups * g.Og
    member g.XShape = [| g.N; g.C; g.H; g.W |]
    member g.WShape = [| g.O; g.Cg; g.Kh; g.Kw |]
    /// Padding (top, bottom, left, right) as PyTorch applies it.
    member g.Pads =
        if g.Same then
            let th, tw = g.Dh * (g.Kh - 1), g.Dw * (g.Kw - 1)
            th / 2, th - th / 2, tw / 2, tw - tw / 2
        else g.Ph, g.Ph, g.Pw, g.Pw
    /// Calls Tensor.Conv2d with this geometry's options.
    member g.Conv (x: Tensor) (w: Tensor) (bias: Tensor) =
        if g.Same then x.Conv2d(w, bias, [| g.Sh; g.Sw |], "same", [| g.Dh; g.Dw |], g.Groups)
        else x.Conv2d(w, bias, [| g.Sh; g.Sw |], [| g.Ph; g.Pw |], [| g.Dh; g.Dw |], g.Groups)
    member g.Kernel = [| g.Kh; g.Kw |]
    member g.Stride = [| g.Sh; g.Sw |]
    member g.Padding = [| g.Ph; g.Pw |]
    member g.Dilation = [| g.Dh; g.Dw |]
    member g.OutH = let t, b, _, _ = g.Pads in (g.H + t + b - g.Dh * (g.Kh - 1) - 1) / g.Sh + 1
    member g.OutW = let _, _, l, r = g.Pads in (g.W + l + r - g.Dw * (g.Kw - 1) - 1) / g.Sw + 1

/// A geometry whose dilated kernel fits the padded input.
let genGeometry : Gen<Geometry> =
    gen {
        let! n = Gen.choose (1, 2)
        let! groups = Gen.elements [ 1; 1; 2; 3 ]
        let! cg = if groups = 3 then Gen.constant 1 else Gen.choose (1, 2)
        let! og = Gen.choose (1, 2)
        let! kh = Gen.choose (1, 3)
        let! kw = Gen.choose (1, 3)
        let! dh = Gen.elements [ 1; 1; 2 ]
        let! dw = Gen.elements [ 1; 1; 2 ]
        let! same = Gen.elements [ false; false; true ]
        let! sh = if same then Gen.constant 1 else Gen.choose (1, 2)
        let! sw = if same then Gen.constant 1 else Gen.choose (1, 2)
        let! ph = if same then Gen.constant 0 else Gen.choose (0, 2)
        let! pw = if same then Gen.constant 0 else Gen.choose (0, 2)
        let! extraH = Gen.choose (0, 2)
        let! extraW = Gen.choose (0, 2)
        let h = max 1 (dh * (kh - 1) + 1 - 2 * ph) + extraH
        let w = max 1 (dw * (kw - 1) + 1 - 2 * pw) + extraW
        return { N = n; Groups = groups; Cg = cg; Og = og; H = h; W = w; Kh = kh; Kw = kw; Sh = sh; Sw = sw; Ph = ph; Pw = pw; Dh = dh; Dw = dw; Same = same }
    }

/// The Core's geometry record for g (its padding as PyTorch applies it, groups included).
let convGeometry (g: Geometry) =
    let top, bottom, left, right = g.Pads
    Backends.ConvGeometry(g.C, g.H, g.W, g.Kh, g.Kw, g.Sh, g.Sw, top, bottom, left, right, g.Dh, g.Dw, g.Groups)

/// A max pooling: kernel, stride, padding (at most half the kernel), dilation and an input shape [N, C, H, W] the
/// dilated window fits without its padding.
let genPool : Gen<int[] * int[] * int[] * int[] * int[]> =
    gen {
        let! kh = Gen.choose (1, 3)
        let! kw = Gen.choose (1, 3)
        let! sh = Gen.choose (1, 3)
        let! sw = Gen.choose (1, 3)
        let! dh = Gen.elements [ 1; 1; 2 ]
        let! dw = Gen.elements [ 1; 1; 2 ]
        let! ph = Gen.choose (0, kh / 2)
        let! pw = Gen.choose (0, kw / 2)
        let! extraH = Gen.choose (0, 3)
        let! extraW = Gen.choose (0, 3)
        let! n = Gen.choose (1, 2)
        let! c = Gen.choose (1, 2)
        return [| kh; kw |], [| sh; sw |], [| ph; pw |], [| dh; dw |], [| n; c; dh * (kh - 1) + 1 + extraH; dw * (kw - 1) + 1 + extraW |]
    }
