namespace FunctionalAD.Backends;

/// <summary>
/// The geometry of a 2-D sliding window over an NCHW input (convolution, unfold/fold, pooling): the input's channels
/// and spatial size, the kernel, strides, zero padding on each side, dilation and channel groups. Output size per
/// spatial dimension is ⌊(size + padBefore + padAfter - dilation·(kernel - 1) - 1) / stride⌋ + 1, as in PyTorch.
/// </summary>
/// <param name="Channels">Input channels C.</param>
/// <param name="Height">Input height H.</param>
/// <param name="Width">Input width W.</param>
/// <param name="KernelH">Kernel height kh.</param>
/// <param name="KernelW">Kernel width kw.</param>
/// <param name="StrideH">Vertical stride.</param>
/// <param name="StrideW">Horizontal stride.</param>
/// <param name="PadTop">Zero rows added above.</param>
/// <param name="PadBottom">Zero rows added below.</param>
/// <param name="PadLeft">Zero columns added on the left.</param>
/// <param name="PadRight">Zero columns added on the right.</param>
/// <param name="DilationH">Vertical spacing of kernel taps.</param>
/// <param name="DilationW">Horizontal spacing of kernel taps.</param>
/// <param name="Groups">Channel groups of a convolution (1 for unfold, fold and pooling).</param>
public sealed record ConvGeometry(int Channels, int Height, int Width, int KernelH, int KernelW, int StrideH, int StrideW,
    int PadTop, int PadBottom, int PadLeft, int PadRight, int DilationH, int DilationW, int Groups = 1)
{
    /// <summary>Padded input height.</summary>
    public int PaddedHeight => Height + PadTop + PadBottom;
    /// <summary>Padded input width.</summary>
    public int PaddedWidth => Width + PadLeft + PadRight;
    /// <summary>Output height (number of window rows).</summary>
    public int OutHeight => (PaddedHeight - DilationH * (KernelH - 1) - 1) / StrideH + 1;
    /// <summary>Output width (number of window columns).</summary>
    public int OutWidth => (PaddedWidth - DilationW * (KernelW - 1) - 1) / StrideW + 1;
    /// <summary>Kernel taps per channel, kh·kw.</summary>
    public int KernelSize => KernelH * KernelW;
    /// <summary>Window positions per image, OutHeight·OutWidth.</summary>
    public int Positions => OutHeight * OutWidth;
    /// <summary>True when no padding is added.</summary>
    public bool Unpadded => PadTop == 0 && PadBottom == 0 && PadLeft == 0 && PadRight == 0;
}
