namespace FunctionalAD.Autodiff;

/// <summary>Axes of a reduction (sorted, distinct) and whether reduced dimensions are kept with size 1.</summary>
internal sealed record ReduceAttr(int[] Axes, bool KeepDim);

/// <summary>Count elements start, start+step, ... along Axis.</summary>
internal sealed record SliceAttr(int Axis, int Start, int Count, int Step);

/// <summary>Place a source at start, start+step, ... along Axis of zeros of Shape.</summary>
internal sealed record SliceScatterAttr(int[] Shape, int Axis, int Start, int Step);

/// <summary>Select (or add back) entries Index along Axis; Shape is the result shape of the add.</summary>
internal sealed record IndexAttr(int Axis, RawTensor Index, int[]? Shape = null);
