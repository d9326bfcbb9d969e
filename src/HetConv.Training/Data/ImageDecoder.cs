using SkiaSharp;

namespace HetConv.Data;

/// <summary>
/// The one way image files become pixels: SkiaSharp decodes them (JPEG, PNG, WebP, BMP, GIF, ICO, WBMP), at a
/// reduced scale where the codec can (JPEG's 1/8 steps) and the output is much smaller, into RGBA; grey, CMYK and
/// paletted images come out as RGB, and alpha is dropped (the colours kept as stored, as PIL's convert("RGB")
/// does). A box of the image is then resized to the output size, bilinearly.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The file names an image folder reads (TorchVision's list and the others SkiaSharp decodes), lower case.</summary>
    public static IReadOnlySet<string> Extensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".ico", ".wbmp",
    };

    private const string Formats = "PNG, JPEG, WebP, BMP, GIF";

    /// <summary>Width and height from the file's header alone.</summary>
    public static (int Width, int Height) Size(string path)
    {
        using var codec = Open(path);
        return (codec.Info.Width, codec.Info.Height);
    }

    /// <summary>
    /// Decodes <paramref name="path"/>, takes the box <paramref name="choose"/> picks for the image's width and
    /// height, and writes it resized to <paramref name="width"/> x <paramref name="height"/> as RGBA bytes (alpha 255)
    /// into <paramref name="rgba"/>. Any file that is missing, not an image, truncated or undecodable is a
    /// <see cref="DataFormatException"/> naming it.
    /// </summary>
    public static void Read(string path, Func<int, int, CropBox> choose, int width, int height, Span<byte> rgba)
    {
        if (rgba.Length != 4 * width * height)
            throw new ArgumentException($"{width}x{height} RGBA needs {4 * width * height} bytes; got {rgba.Length}.", nameof(rgba));
        using var codec = Open(path);
        int fullWidth = codec.Info.Width, fullHeight = codec.Info.Height;
        var box = choose(fullWidth, fullHeight);

        // Decode at the smallest scale the codec offers that still gives the box at least the output's pixels.
        var size = new SKSizeI(fullWidth, fullHeight);
        double needed = Math.Max(width / box.Width, height / box.Height);
        if (needed < 1)
        {
            var scaled = codec.GetScaledDimensions((float)needed);
            if (box.Width * scaled.Width / fullWidth >= width && box.Height * scaled.Height / fullHeight >= height)
                size = scaled;
        }
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
            throw new DataFormatException(path, result == SKCodecResult.IncompleteInput
                ? "the image is truncated (its data ends before the last pixel)."
                : $"the image cannot be decoded ({result}).");
        var pixels = decoded.GetPixelSpan();
        if (codec.Info.AlphaType != SKAlphaType.Opaque)
            for (int i = 3; i < pixels.Length; i += 4) pixels[i] = 255;

        double sx = (double)size.Width / fullWidth, sy = (double)size.Height / fullHeight;
        var source = SKRect.Create((float)(box.X * sx), (float)(box.Y * sy), (float)(box.Width * sx), (float)(box.Height * sy));
        if (source == SKRect.Create(size.Width, size.Height) && size.Width == width && size.Height == height)
        {
            pixels.CopyTo(rgba);
            return;
        }
        using var pixmap = new SKPixmap(info.WithAlphaType(SKAlphaType.Opaque), decoded.GetPixels(), decoded.RowBytes);
        using var image = SKImage.FromPixels(pixmap);
        using var output = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(output))
        {
            // Linear sampling reads 2x2 pixels: past a halving, mipmaps keep it from skipping (aliasing) pixels.
            bool shrinksMuch = source.Width > 2 * width || source.Height > 2 * height;
            var sampling = new SKSamplingOptions(SKFilterMode.Linear, shrinksMuch ? SKMipmapMode.Linear : SKMipmapMode.None);
            using var paint = new SKPaint { BlendMode = SKBlendMode.Src };
            canvas.DrawImage(image, source, SKRect.Create(width, height), sampling, paint);
        }
        output.GetPixelSpan().CopyTo(rgba);
    }

    /// <summary>RGBA of the whole image resized (stretched) to width x height.</summary>
    public static byte[] Read(string path, int width, int height)
    {
        var rgba = new byte[4 * width * height];
        Read(path, CropBox.All, width, height, rgba);
        return rgba;
    }

    private static SKCodec Open(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "the image file does not exist.");
        SKCodec? codec;
        SKCodecResult result;
        try
        {
            codec = SKCodec.Create(path, out result);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot be read: {e.Message}", inner: e);
        }
        if (codec is null)
            throw new DataFormatException(path, $"is not an image SkiaSharp can decode ({Formats}): {result}.");
        if (codec.Info.Width < 1 || codec.Info.Height < 1)
        {
            codec.Dispose();
            throw new DataFormatException(path, "the image has no pixels.");
        }
        return codec;
    }

    /// <summary>
    /// Writes RGBA pixels as normalised float planes [channels, height, width] through the per-channel
    /// <paramref name="lookup"/> (byte to float): 3 channels RGB, 1 channel grey (ITU-R 601 luma, rounded as PIL's
    /// "L"); <paramref name="flip"/> mirrors left-right.
    /// </summary>
    public static void ToPlanes(ReadOnlySpan<byte> rgba, int width, int height, int channels, float[][] lookup, bool flip, Span<float> target)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"images become 1- or 3-channel input; the model takes {channels} channels.");
        int plane = width * height;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int p = 4 * (y * width + (flip ? width - 1 - x : x)), o = y * width + x;
                byte r = rgba[p], g = rgba[p + 1], b = rgba[p + 2];
                if (channels == 1)
                {
                    target[o] = lookup[0][(r * 299 + g * 587 + b * 114 + 500) / 1000];
                }
                else
                {
                    target[o] = lookup[0][r];
                    target[plane + o] = lookup[1][g];
                    target[2 * plane + o] = lookup[2][b];
                }
            }
        }
    }
}
