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
        var y = Uninit<T>(n * c * oh * ow); // every element is written below
        var (src, offset) = Read<T>(x);
        Parallelism.For(n * c, Math.Max(1, Parallelism.Grain / Math.Max(1, h * w)), (start, count) =>
        {
            for (int p = start; p < start + count; p++)
            {
                int plane = offset + p * h * w, outPlane = p * oh * ow;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                        y[outPlane + oy * ow + ox] = WindowMax(src, plane + oy * g.StrideH * w + ox * g.StrideW, w, g);
            }
        });
        return Wrap(y, [n, c, oh, ow]);
    }

    /// <summary>The max of the window whose top-left element is src[corner] (NaN if the window holds one).</summary>
    static T WindowMax<T>(T[] src, int corner, int w, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T m = src[corner];
        for (int i = 0; i < g.KernelH; i++)
            for (int j = 0; j < g.KernelW; j++) m = T.Max(m, src[corner + i * g.DilationH * w + j * g.DilationW]);
        return m;
    }

    static RawTensor MaxPoolGradOf<T>(RawTensor dy, RawTensor x, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = g.Height, w = g.Width, oh = g.OutHeight, ow = g.OutWidth;
        var dx = new T[n * c * h * w];
        var (src, offset) = Read<T>(x);
        var (grad, gOffset) = Read<T>(dy);
        Parallelism.For(n * c, Math.Max(1, Parallelism.Grain / Math.Max(1, h * w)), (start, count) =>
        {
            for (int p = start; p < start + count; p++)
            {
                int plane = p * h * w, outPlane = gOffset + p * oh * ow;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int corner = oy * g.StrideH * w + ox * g.StrideW;
                        T m = WindowMax(src, offset + plane + corner, w, g);
                        int ties = 0;
                        for (int i = 0; i < g.KernelH; i++)
                            for (int j = 0; j < g.KernelW; j++)
                                if (src[offset + plane + corner + i * g.DilationH * w + j * g.DilationW] == m) ties++;
                        T d = grad[outPlane + oy * ow + ox], total = T.CreateTruncating(ties);
                        // the default's weights hit / ties: 1/ties on a tie, 0/ties elsewhere (NaN when ties = 0)
                        T onMax = T.One / total * d, offMax = T.Zero / total * d;
                        for (int i = 0; i < g.KernelH; i++)
                            for (int j = 0; j < g.KernelW; j++)
                            {
                                int at = corner + i * g.DilationH * w + j * g.DilationW;
                                dx[plane + at] += src[offset + plane + at] == m ? onMax : offMax;
                            }
                    }
            }
        });
        return Wrap(dx, [n, c, h, w]);
    }
}
