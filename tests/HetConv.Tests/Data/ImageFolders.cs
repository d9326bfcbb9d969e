using SkiaSharp;

namespace HetConv.Tests.Data;

/// <summary>
/// Small image folders written by the tests: three classes whose names sort differently by ordinal and by
/// culture ("Dog" &lt; "bird" &lt; "cat"), PNG and JPEG files of several sizes, a greyscale PNG and one with
/// alpha among them, each class a dominant colour with noise (so a model can learn them).
/// </summary>
internal static class ImageFolders
{
    public static readonly string[] Classes = ["Dog", "bird", "cat"];

    public static string WriteImage(string path, int width, int height, Func<int, int, SKColor> pixel, SKEncodedImageFormat format,
        SKColorType colorType = SKColorType.Rgba8888, int quality = 95)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, colorType, colorType == SKColorType.Gray8 ? SKAlphaType.Opaque : SKAlphaType.Unpremul));
        // Bytes written directly: SetPixel premultiplies, which would erase a transparent pixel's colour.
        var bytes = bitmap.GetPixelSpan();
        int step = colorType == SKColorType.Gray8 ? 1 : 4;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var c = pixel(x, y);
                int p = step * (y * width + x);
                if (step == 1)
                {
                    bytes[p] = c.Red;
                    continue;
                }
                (bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3]) = (c.Red, c.Green, c.Blue, c.Alpha);
            }
        using var data = bitmap.Encode(format, quality);
        using var file = File.Create(path);
        data.SaveTo(file);
        return path;
    }

    private static SKColor ClassColour(int label, int x, int y, int i)
    {
        byte noise = (byte)((x * 37 + y * 11 + i * 53) % 60);
        return label switch
        {
            0 => new SKColor((byte)(180 + noise), (byte)(40 + noise), (byte)(40 + noise)),
            1 => new SKColor((byte)(40 + noise), (byte)(180 + noise), (byte)(40 + noise)),
            _ => new SKColor((byte)(40 + noise), (byte)(40 + noise), (byte)(180 + noise)),
        };
    }

    /// <summary>
    /// train/ (<paramref name="perClass"/> images a class) and val/ (3 a class). With <paramref name="bad"/>:
    /// train/Dog/fake.png is text, train/bird/broken.jpg a JPEG cut in half, and train/cat/notes.txt not an image.
    /// </summary>
    public static void Write(string root, int perClass = 8, bool bad = false)
    {
        (int W, int H)[] sizes = [(40, 30), (30, 40), (64, 48), (20, 20)];
        foreach (var (split, count) in new[] { ("train", perClass), ("val", 3) })
        {
            for (int label = 0; label < Classes.Length; label++)
            {
                string folder = Path.Combine(root, split, Classes[label]);
                for (int i = 0; i < count; i++)
                {
                    var (w, h) = sizes[i % sizes.Length];
                    int l = label, n = i;
                    bool png = i % 2 == 0;
                    if (i == 1 && label == 1)
                        WriteImage(Path.Combine(folder, $"grey{i}.png"), w, h, (x, y) => { var c = ClassColour(l, x, y, n); return new SKColor(c.Green, c.Green, c.Green); },
                            SKEncodedImageFormat.Png, SKColorType.Gray8);
                    else if (i == 2 && label == 2)
                        WriteImage(Path.Combine(folder, $"alpha{i}.png"), w, h, (x, y) => ClassColour(l, x, y, n).WithAlpha((byte)(x * 6)), SKEncodedImageFormat.Png);
                    else
                        WriteImage(Path.Combine(folder, $"img{i}.{(png ? "png" : "jpg")}"), w, h, (x, y) => ClassColour(l, x, y, n),
                            png ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg);
                }
            }
        }
        if (!bad) return;
        File.WriteAllText(Path.Combine(root, "train", "Dog", "fake.png"), "this is not a PNG");
        File.WriteAllText(Path.Combine(root, "train", "cat", "notes.txt"), "notes");
        // Large and noisy, so that the first half holds the whole header and the cut falls in the pixel data.
        string whole = WriteImage(Path.Combine(root, "train", "bird", "whole.tmp"), 160, 120, (x, y) => ClassColour(1, x * x, y * x, 99), SKEncodedImageFormat.Jpeg);
        var bytes = File.ReadAllBytes(whole);
        File.WriteAllBytes(Path.Combine(root, "train", "bird", "broken.jpg"), bytes[..(bytes.Length / 2)]);
        File.Delete(whole);
    }
}
