namespace HetConv.Layers.Execution.Kernels;

/// <summary>Shapes of one HetConv forward pass on NHWC data.</summary>
internal readonly record struct ConvGeometry(
    int Batch, int Height, int Width, int InChannels, int OutChannels, int KernelSize, int Stride, int Padding, int Part)
{
    public int OutHeight => (Height + 2 * Padding - KernelSize) / Stride + 1;
    public int OutWidth => (Width + 2 * Padding - KernelSize) / Stride + 1;
    public int KxkPerFilter => InChannels / Part;

    /// <summary>Output pixels of the whole batch.</summary>
    public long OutputPixels => (long)Batch * OutHeight * OutWidth;

    /// <summary>Filters are computed 16 at a time (two 8-lane vectors); the last block is zero-padded.</summary>
    public int FilterBlocks => (OutChannels + 15) / 16;

    /// <summary>The KxK kernel's taps other than the centre, which the 1x1 kernels share.</summary>
    public int OffCentreTaps => KernelSize * KernelSize - 1;
}
