using HetConv.Data;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>
/// Image files to a model's input through <see cref="ImageDecoder"/>: the whole image resized to the training
/// images' size, or for a model trained on an image folder its evaluation's resize and centre crop
/// (<see cref="ImageCrops.Centre"/>); grey for a 1-channel model or RGB for 3 channels, normalised per channel as in training.
/// </summary>
public static class ImageInput
{
    /// <summary>[N, C, H, W] float32 for the images, in order.</summary>
    public static Tensor Batch(IReadOnlyList<string> paths, int channels, int height, int width, ChannelNormalization normalization, bool centreCrop = false)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"images become 1- or 3-channel input; the model takes {channels} channels.");
        var lookup = normalization.LookupTables();
        int size = channels * height * width;
        var values = new float[paths.Count * size];
        Func<int, int, CropBox> choose = centreCrop ? (w, h) => ImageCrops.Centre(w, h, width) : CropBox.All;
        var rgba = new byte[4 * height * width];
        for (int i = 0; i < paths.Count; i++)
        {
            ImageDecoder.Read(paths[i], choose, width, height, rgba);
            ImageDecoder.ToPlanes(rgba, width, height, channels, lookup, flip: false, values.AsSpan(i * size, size));
        }
        return tensor(values, new long[] { paths.Count, channels, height, width });
    }
}
