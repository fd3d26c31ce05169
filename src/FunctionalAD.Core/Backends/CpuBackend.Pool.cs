using System.Numerics;

namespace FunctionalAD.Backends;

public sealed partial class CpuBackend
{
    /// <summary>
    /// Max pooling in one pass over each window, image planes split over threads. The composite default (unfold, a max
    /// over the window axis) and its cotangent (unfold, max, compare, count ties, divide, multiply, fold: seven passes)
    /// took 8 and 25 ms for the 2x2 pooling of [64, 32, 26, 26] in the CNN step, more than its two convolutions.
    /// Integer inputs take the default.
    /// </summary>
    public RawTensor MaxPool2d(RawTensor x, ConvGeometry geometry) => DTypeDispatch.Floating<MaxPoolKernel, RawTensor>(x.DType, new(this, x, geometry));

    readonly struct MaxPoolKernel(CpuBackend b, RawTensor x, ConvGeometry g) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => MaxPoolOf<T>(x, g);
        public RawTensor NotFloating() => PoolingKernels.MaxPool2d(b, x, g);
    }

    /// <summary>The cotangent of max pooling in one pass over each window: the window's max and tie count, then dy
    /// split over the ties (the composite default's values: 0/0 weights where the max is NaN).</summary>
    public RawTensor MaxPool2dGrad(RawTensor dy, RawTensor x, ConvGeometry geometry) => DTypeDispatch.Floating<MaxPoolGradKernel, RawTensor>(x.DType, new(this, dy, x, geometry));

    readonly struct MaxPoolGradKernel(CpuBackend b, RawTensor dy, RawTensor x, ConvGeometry g) : IFloatingKernel<RawTensor>
    {
        public RawTensor Run<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T> => MaxPoolGradOf<T>(dy, x, g);
        public RawTensor NotFloating() => PoolingKernels.MaxPool2dGrad(b, dy, x, g);
    }

    static RawTensor MaxPoolOf<T>(RawTensor x, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = g.Height, w = g.Width, oh = g.OutHeight, ow = g.OutWidth;
        int kh = g.KernelH, kw = g.KernelW, sh = g.StrideH, sw = g.StrideW, dh = g.DilationH * w, dw = g.DilationW;
        var y = Uninit<T>(n * c * oh * ow); // every element is written below
        var (src, offset) = Read<T>(x);
        bool twoByTwo = kh == 2 && kw == 2 && dw == 1;
        Parallelism.For(n * c, Math.Max(1, Parallelism.Grain / Math.Max(1, h * w)), (start, count) =>
        {
            for (int p = start; p < start + count; p++)
            {
                int plane = offset + p * h * w, outPlane = p * oh * ow;
                for (int oy = 0; oy < oh; oy++)
                {
                    int row = plane + oy * sh * w, outRow = outPlane + oy * ow;
                    if (twoByTwo)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int at = row + ox * sw;
                            y[outRow + ox] = T.Max(T.Max(src[at], src[at + 1]), T.Max(src[at + dh], src[at + dh + 1]));
                        }
                    else
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int corner = row + ox * sw;
                            T m = src[corner];
                            for (int i = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++) m = T.Max(m, src[corner + i * dh + j * dw]);
                            y[outRow + ox] = m;
                        }
                }
            }
        });
        return Wrap(y, [n, c, oh, ow]);
    }

    static RawTensor MaxPoolGradOf<T>(RawTensor dy, RawTensor x, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = g.Height, w = g.Width, oh = g.OutHeight, ow = g.OutWidth;
        int kh = g.KernelH, kw = g.KernelW, sh = g.StrideH, sw = g.StrideW, dh = g.DilationH * w, dw = g.DilationW, k = kh * kw;
        var dx = ResultPool.RentZeroed<T>(n * c * h * w); // the backward pass may give it back once added into x's adjoint
        var (src, offset) = Read<T>(x);
        var (grad, gOffset) = Read<T>(dy);
        // the default's weights are hit / ties: 1/ties on a tie, 0/ties elsewhere (NaN when ties = 0, a NaN max)
        var onTie = new T[k + 1];
        var offTie = new T[k + 1];
        for (int t = 0; t <= k; t++) { onTie[t] = T.One / T.CreateTruncating(t); offTie[t] = T.Zero / T.CreateTruncating(t); }
        bool twoByTwo = kh == 2 && kw == 2 && dw == 1 && sh >= 2 && sw >= 2; // windows apart: each dx element written once
        Parallelism.For(n * c, Math.Max(1, Parallelism.Grain / Math.Max(1, h * w)), (start, count) =>
        {
            var window = new T[k];
            var pick = new T[2];
            for (int p = start; p < start + count; p++)
            {
                int plane = p * h * w, outPlane = gOffset + p * oh * ow;
                for (int oy = 0; oy < oh; oy++)
                {
                    int row = plane + oy * sh * w, outRow = outPlane + oy * ow;
                    if (twoByTwo)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int at = row + ox * sw, from = offset + at;
                            T a = src[from], b = src[from + 1], e = src[from + dh], f = src[from + dh + 1];
                            T m = T.Max(T.Max(a, b), T.Max(e, f));
                            int ha = a == m ? 1 : 0, hb = b == m ? 1 : 0, he = e == m ? 1 : 0, hf = f == m ? 1 : 0, ties = ha + hb + he + hf;
                            T d = grad[outRow + ox];
                            // selected by index, not by branch: which elements tie is data, and mispredicted branches
                            // made this loop 10x slower than the forward's
                            pick[0] = offTie[ties] * d; pick[1] = onTie[ties] * d;
                            dx[at] = pick[ha];
                            dx[at + 1] = pick[hb];
                            dx[at + dh] = pick[he];
                            dx[at + dh + 1] = pick[hf];
                        }
                    else
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int corner = row + ox * sw;
                            T m = src[offset + corner];
                            for (int i = 0, t = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++, t++) { T v = src[offset + corner + i * dh + j * dw]; window[t] = v; m = T.Max(m, v); }
                            int ties = 0;
                            for (int t = 0; t < k; t++) if (window[t] == m) ties++;
                            T d = grad[outRow + ox], on = onTie[ties] * d, off = offTie[ties] * d;
                            for (int i = 0, t = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++, t++) dx[corner + i * dh + j * dw] += window[t] == m ? on : off;
                        }
                }
            }
        });
        return Wrap(dx, [n, c, h, w]);
    }
}
