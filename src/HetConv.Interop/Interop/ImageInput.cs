using HetConv.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>
/// Image files to a model's input: decoded with SkiaSharp (PNG, JPEG, WebP, BMP, GIF), resized to the training images'
/// size (bilinear), to grey (ITU-R 601 luma, as PIL's "L") for a 1-channel model or RGB for 3 channels, alpha ignored,
/// then normalised per channel as in training.
/// </summary>
public static class ImageInput
{
    /// <summary>[N, C, H, W] float32 for the images, in order.</summary>
    public static Tensor Batch(IReadOnlyList<string> paths, int channels, int height, int width, ChannelNormalization normalization)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"images become 1- or 3-channel input; the model takes {channels} channels.");
        var values = new float[paths.Count * channels * height * width];
        int plane = height * width;
        for (int i = 0; i < paths.Count; i++)
        {
            var rgba = Pixels(paths[i], height, width);
            int offset = i * channels * plane;
            for (int p = 0; p < plane; p++)
            {
                byte r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
                if (channels == 1)
                {
                    values[offset + p] = Normalise((r * 299 + g * 587 + b * 114) / 1000f, normalization, 0);
                }
                else
                {
                    values[offset + p] = Normalise(r, normalization, 0);
                    values[offset + plane + p] = Normalise(g, normalization, 1);
                    values[offset + 2 * plane + p] = Normalise(b, normalization, 2);
                }
            }
        }
        return tensor(values, new long[] { paths.Count, channels, height, width });
    }

    private static float Normalise(float value, ChannelNormalization normalization, int channel) =>
        (value / 255f - normalization.Mean[channel]) / normalization.Std[channel];

    /// <summary>RGBA bytes of the image resized to height x width.</summary>
    private static byte[] Pixels(string path, int height, int width)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "the image file does not exist.");
        using var decoded = SKBitmap.Decode(path)
            ?? throw new DataFormatException(path, "is not an image SkiaSharp can decode (PNG, JPEG, WebP, BMP, GIF).");
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = decoded.Width == width && decoded.Height == height && decoded.ColorType == SKColorType.Rgba8888
            ? decoded.Copy()
            : decoded.Resize(info, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
              ?? throw new DataFormatException(path, $"could not be resized to {width}x{height}.");
        using var rgba = resized.ColorType == SKColorType.Rgba8888 ? resized.Copy() : resized.Copy(SKColorType.Rgba8888);
        return rgba.GetPixelSpan().ToArray();
    }
}
