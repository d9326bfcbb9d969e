using HetConv.Data;
using static TorchSharp.torch;

namespace HetConv.Tests.Data;

public class BatchLoaderTests
{
    private static ImageDataSet Images(int count, int channels, int size, int seed) =>
        new("test", DataFiles.Bytes(count * channels * size * size, seed), DataFiles.Bytes(count, seed + 1, 10),
            channels, size, size, Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray());

    [Fact]
    public void Normalisation_is_each_channels_mean_and_deviation()
    {
        var data = Images(7, 3, 5, 1);
        var n = ChannelNormalization.Of(data);
        for (int c = 0; c < 3; c++)
        {
            var values = Enumerable.Range(0, 7).SelectMany(i => data.Images.Skip(i * 75 + c * 25).Take(25)).Select(b => b / 255.0).ToArray();
            double mean = values.Average(), std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
            Assert.Equal(mean, n.Mean[c], 5);
            Assert.Equal(std, n.Std[c], 5);
        }
    }

    [Fact]
    public void Without_a_generator_batches_are_the_normalised_images_in_order()
    {
        var data = Images(10, 2, 4, 2);
        var norm = new ChannelNormalization(new[] { 0.5f, 0.25f }, new[] { 0.2f, 0.4f });
        using var loader = new BatchLoader(data, 4, norm, Augmentation.Standard);
        var sizes = new List<long>();
        int image = 0;
        foreach (var (x, y) in loader.Batches())
        {
            sizes.Add(x.shape[0]);
            var pixels = x.data<float>().ToArray();
            var labels = y.data<long>().ToArray();
            for (int b = 0; b < x.shape[0]; b++, image++)
            {
                Assert.Equal(data.Labels[image], labels[b]);
                for (int i = 0; i < 32; i++)
                {
                    int c = i / 16;
                    float expected = (data.Images[image * 32 + i] / 255f - norm.Mean[c]) / norm.Std[c];
                    Assert.Equal(expected, pixels[b * 32 + i], 4);
                }
            }
        }
        Assert.Equal(new long[] { 4, 4, 2 }, sizes);
    }

    [Fact]
    public void Full_batches_reuse_the_same_tensors()
    {
        var data = Images(12, 1, 4, 3);
        using var loader = new BatchLoader(data, 4, ChannelNormalization.Of(data), Augmentation.Standard);
        var seen = loader.Batches(new SeededRandom(1)).Select(b => b.Inputs).Distinct().ToList();
        Assert.Single(seen);
    }

    [Fact]
    public void Augmented_images_are_padded_crops_or_mirrored_crops_of_their_source()
    {
        const int size = 6, pad = 4;
        var data = Images(16, 2, size, 4);
        var norm = new ChannelNormalization(new[] { 0f, 0f }, new[] { 1f, 1f });
        using var loader = new BatchLoader(data, 5, norm, Augmentation.Standard);
        int flips = 0, shifted = 0, total = 0;
        foreach (var (x, y) in loader.Batches(new SeededRandom(7)))
        {
            var pixels = x.data<float>().ToArray();
            var labels = y.data<long>().ToArray();
            for (int b = 0; b < labels.Length; b++, total++)
            {
                var output = pixels.AsSpan(b * 2 * size * size, 2 * size * size).ToArray();
                // Reference: every source image with this label, every offset, with and without a mirror.
                var match = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == labels[b])
                    .SelectMany(i => Candidates(data, i, size, pad)).FirstOrDefault(c => c.Pixels.SequenceEqual(output));
                Assert.True(match.Pixels is not null, $"image {total} is no crop of any source with label {labels[b]}");
                if (match.Flip) flips++;
                if (match.Dy != 0 || match.Dx != 0) shifted++;
            }
        }
        Assert.Equal(16, total);
        Assert.InRange(flips, 2, 14);
        Assert.True(shifted >= 8, $"only {shifted} of 16 images were shifted");
    }

    private static IEnumerable<(float[] Pixels, bool Flip, int Dy, int Dx)> Candidates(ImageDataSet data, int index, int size, int pad)
    {
        for (int dy = -pad; dy <= pad; dy++)
            for (int dx = -pad; dx <= pad; dx++)
                foreach (bool flip in new[] { false, true })
                {
                    var pixels = new float[2 * size * size];
                    for (int c = 0; c < 2; c++)
                        for (int r = 0; r < size; r++)
                            for (int col = 0; col < size; col++)
                            {
                                // Pad with zeros, crop at (pad + dy, pad + dx), then mirror the crop.
                                int sr = r + dy, sc = (flip ? size - 1 - col : col) + dx;
                                bool inside = sr >= 0 && sr < size && sc >= 0 && sc < size;
                                pixels[c * size * size + r * size + col] = inside ? data.Images[index * 2 * size * size + c * size * size + sr * size + sc] / 255f : 0f;
                            }
                    yield return (pixels, flip, dy, dx);
                }
    }

    [Fact]
    public void The_same_seed_gives_the_same_batches_and_another_seed_others()
    {
        var data = Images(20, 1, 6, 5);
        using var loader = new BatchLoader(data, 8, ChannelNormalization.Of(data), Augmentation.Standard);
        float[] Epoch(long seed) => loader.Batches(new SeededRandom(seed)).SelectMany(b => b.Inputs.data<float>().ToArray()).ToArray();
        Assert.Equal(Epoch(3), Epoch(3));
        Assert.NotEqual(Epoch(3), Epoch(4));
    }

    [Fact]
    public void Every_image_appears_once_per_shuffled_epoch()
    {
        var data = new ImageDataSet("ids", Enumerable.Range(0, 50).Select(i => (byte)i).ToArray(), new byte[50], 1, 1, 1, new[] { "only" });
        using var loader = new BatchLoader(data, 16, new ChannelNormalization(new[] { 0f }, new[] { 1 / 255f }));
        var random = new SeededRandom(9);
        var first = loader.Batches(random).SelectMany(b => b.Inputs.data<float>().ToArray()).Select(v => (int)Math.Round(v)).ToArray();
        var second = loader.Batches(random).SelectMany(b => b.Inputs.data<float>().ToArray()).Select(v => (int)Math.Round(v)).ToArray();
        Assert.Equal(Enumerable.Range(0, 50), first.Order());
        Assert.Equal(Enumerable.Range(0, 50), second.Order());
        Assert.NotEqual(first, second);
        Assert.NotEqual(Enumerable.Range(0, 50), first);
    }
}
