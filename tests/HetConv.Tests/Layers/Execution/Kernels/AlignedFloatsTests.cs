using HetConv.Layers;
using HetConv.Layers.Execution.Kernels;

namespace HetConv.Tests.Layers.Execution.Kernels;

public unsafe class AlignedFloatsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(100_000)]
    public void Buffers_start_on_a_cache_line_and_clear_when_asked(int length)
    {
        using var buffer = new AlignedFloats(length, clear: true);
        Assert.Equal(0, (long)buffer.Pointer % 64);
        Assert.Equal(length, buffer.Length);
        Assert.All(buffer.Span.ToArray(), value => Assert.Equal(0f, value));
    }

    [Fact]
    public void Align_moves_to_the_next_cache_line_within_the_slack()
    {
        var array = GC.AllocateArray<float>(100 + AlignedFloats.Slack, pinned: true);
        fixed (float* raw = array)
        {
            for (int offset = 0; offset < AlignedFloats.Slack; offset++)
            {
                float* aligned = AlignedFloats.Align(raw + offset);
                Assert.Equal(0, (long)aligned % 64);
                Assert.InRange(aligned - raw, offset, offset + AlignedFloats.Slack - 1);
            }
        }
    }

    [Fact]
    public void Packed_weights_are_cache_line_aligned()
    {
        using var layer = new HetConv2d(24, 40, 3, 4);
        using var packed = PackedHetConvWeights.From(layer, threads: 2);
        Assert.Equal(0, (long)packed.Centre % 64);
        Assert.Equal(0, (long)packed.OffCentre % 64);
        Assert.Equal(0, (long)packed.Bias % 64);
    }
}
