using HetConv.Data;
using SkiaSharp;

namespace HetConv.Tests.Data;

/// <summary>Image folders: scanning, their errors, decoding, and the crops' geometry.</summary>
public class ImageFolderTests
{
    [Fact]
    public void Classes_sort_by_ordinal_name_and_bad_and_ignored_files_are_listed_by_path()
    {
        using var dir = new TempDirectory();
        ImageFolders.Write(dir.Path, bad: true);
        var train = ImageFolder.Scan(dir.Path, DataSplit.Train, BadImagePolicy.Skip, workers: 2);
        Assert.Equal(new[] { "Dog", "bird", "cat" }, train.ClassNames);
        Assert.Equal(Path.Combine(dir.Path, "train"), train.Root);
        // 8 a class; the text file named .png is bad; the cut JPEG's header still reads (its decode fails later).
        Assert.Equal(3 * 8 + 1, train.Files.Length);
        for (int i = 0; i < train.Files.Length; i++)
            Assert.Equal(train.ClassNames[train.Labels[i]], Path.GetFileName(Path.GetDirectoryName(train.Files[i])));
        var bad = Assert.Single(train.Bad);
        Assert.Equal(Path.Combine(dir.Path, "train", "Dog", "fake.png"), bad.Path);
        Assert.Contains("is not an image", bad.Reason);
        Assert.Equal(new[] { Path.Combine(dir.Path, "train", "cat", "notes.txt") }, train.Ignored);

        var val = ImageFolder.Scan(dir.Path, DataSplit.Test, BadImagePolicy.Fail, workers: 1);
        Assert.Equal(train.ClassNames, val.ClassNames);
        Assert.Equal(9, val.Files.Length);
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1, 2, 2, 2 }, val.Labels);
    }

    [Fact]
    public void A_bad_image_under_fail_is_an_error_naming_it_and_the_way_out()
    {
        using var dir = new TempDirectory();
        ImageFolders.Write(dir.Path, bad: true);
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.Scan(dir.Path, DataSplit.Train, BadImagePolicy.Fail, 2));
        Assert.StartsWith(Path.Combine(dir.Path, "train", "Dog", "fake.png") + ": ", e.Message);
        Assert.Contains("--bad-images skip", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Empty_class_no_classes_a_stray_val_class_and_a_missing_val_are_clear_errors()
    {
        using var dir = new TempDirectory();
        ImageFolders.Write(dir.Path, perClass: 2);
        string train = Path.Combine(dir.Path, "train");

        Directory.CreateDirectory(Path.Combine(train, "empty"));
        File.WriteAllText(Path.Combine(train, "empty", "readme.txt"), "no images here");
        var empty = Assert.Throws<DataFormatException>(() => ImageFolder.Scan(dir.Path, DataSplit.Train, BadImagePolicy.Fail, 1));
        Assert.StartsWith(Path.Combine(train, "empty") + ": the class folder holds no readable images", empty.Message);
        Directory.Delete(Path.Combine(train, "empty"), recursive: true);

        Directory.CreateDirectory(Path.Combine(dir.Path, "val", "zebra"));
        var stray = Assert.Throws<DataFormatException>(() => ImageFolder.Scan(dir.Path, DataSplit.Test, BadImagePolicy.Fail, 1));
        Assert.StartsWith(Path.Combine(dir.Path, "val", "zebra") + ": is a class that train/ does not have", stray.Message);

        Directory.Delete(Path.Combine(dir.Path, "val"), recursive: true);
        var noVal = Assert.Throws<DataFormatException>(() => ImageFolder.Scan(dir.Path, DataSplit.Test, BadImagePolicy.Fail, 1));
        Assert.Contains("has train/ but no val/", noVal.Message);

        using var flat = new TempDirectory();
        File.WriteAllText(flat.File("a.jpg"), "loose file");
        var none = Assert.Throws<DataFormatException>(() => ImageFolder.Scan(flat.Path, DataSplit.Train, BadImagePolicy.Fail, 1));
        Assert.Equal($"{flat.Path}: holds no class folders: an image folder has one sub-folder per class (or train/ and val/ holding them).", none.Message);

        var missing = Assert.Throws<DataFormatException>(() => ImageFolder.Scan(flat.File("none"), DataSplit.Train, BadImagePolicy.Fail, 1));
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public void A_folder_of_class_folders_serves_both_splits_and_is_detected()
    {
        using var dir = new TempDirectory();
        ImageFolders.Write(dir.Path, perClass: 2);
        string train = Path.Combine(dir.Path, "train");
        Assert.Equal(DataSetKind.ImageFolder, DataSets.Detect(dir.Path));
        Assert.Equal(DataSetKind.ImageFolder, DataSets.Detect(train));
        var a = ImageFolder.Scan(train, DataSplit.Train, BadImagePolicy.Fail, 1);
        var b = ImageFolder.Scan(train, DataSplit.Test, BadImagePolicy.Fail, 1);
        Assert.Equal(a.Files, b.Files);
        Assert.Equal(6, a.Files.Length);
    }

    [Fact]
    public void Grey_and_alpha_images_come_out_as_rgb_with_their_stored_colours()
    {
        using var dir = new TempDirectory();
        string grey = ImageFolders.WriteImage(dir.File("grey.png"), 7, 5, (x, y) => new SKColor((byte)(30 * x + y), (byte)(30 * x + y), (byte)(30 * x + y)),
            SKEncodedImageFormat.Png, SKColorType.Gray8);
        var rgba = ImageDecoder.Read(grey, 7, 5);
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 7; x++)
            {
                int p = 4 * (y * 7 + x);
                Assert.Equal(new byte[] { (byte)(30 * x + y), (byte)(30 * x + y), (byte)(30 * x + y), 255 }, rgba[p..(p + 4)]);
            }

        // Alpha is dropped, not composited: a fully transparent pixel keeps its colour (as PIL's convert("RGB")).
        string alpha = ImageFolders.WriteImage(dir.File("alpha.png"), 4, 1, (x, _) => new SKColor(200, 60, 120, (byte)(85 * x)), SKEncodedImageFormat.Png);
        rgba = ImageDecoder.Read(alpha, 4, 1);
        for (int x = 0; x < 4; x++)
            Assert.Equal(new byte[] { 200, 60, 120, 255 }, rgba[(4 * x)..(4 * x + 4)]);
    }

    /// <summary>A 16x12 CMYK JPEG of C 0, M 200, Y 255, K 40 (Adobe's inverted form), written by PIL.</summary>
    private const string CmykJpeg =
        "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/8AAFAgADAAQBEMRAE0RAFkRAEsRAP/E" +
        "AB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNE" +
        "RUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBN" +
        "AFkASwAAPwD9/K/Nuv5/6/Vyiiiiiiiiiiiiv//Z";

    [Fact]
    public void A_cmyk_jpeg_comes_out_as_the_rgb_pil_gives()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("cmyk.jpg"), Convert.FromBase64String(CmykJpeg));
        // PIL's convert("RGB"): R = (255 - C)(255 - K)/255 = 215, G = (255 - M)(255 - K)/255 = 46, B = 0.
        var rgba = ImageDecoder.Read(dir.File("cmyk.jpg"), 16, 12);
        for (int p = 0; p < 16 * 12; p++)
        {
            Assert.InRange(rgba[4 * p], 212, 218);
            Assert.InRange(rgba[4 * p + 1], 43, 49);
            Assert.InRange(rgba[4 * p + 2], 0, 3);
        }
    }

    [Fact]
    public void Truncated_and_non_image_files_are_errors_naming_the_file()
    {
        using var dir = new TempDirectory();
        // Large and noisy, so that the first half holds the whole header and the cut falls in the pixel data.
        string jpeg = ImageFolders.WriteImage(dir.File("a.jpg"), 160, 120, (x, y) => new SKColor((byte)(x * x), (byte)(x * y), 9), SKEncodedImageFormat.Jpeg);
        var bytes = File.ReadAllBytes(jpeg);
        File.WriteAllBytes(dir.File("cut.jpg"), bytes[..(bytes.Length / 2)]);
        var cut = Assert.Throws<DataFormatException>(() => ImageDecoder.Read(dir.File("cut.jpg"), 16, 16));
        Assert.Equal($"{dir.File("cut.jpg")}: the image is truncated (its data ends before the last pixel).", cut.Message);

        File.WriteAllText(dir.File("text.jpg"), "hello");
        var text = Assert.Throws<DataFormatException>(() => ImageDecoder.Read(dir.File("text.jpg"), 16, 16));
        Assert.StartsWith($"{dir.File("text.jpg")}: is not an image", text.Message);
    }

    /// <summary>R = x, G = y (PNG, exact): an output pixel's colour says where in the source it was sampled.</summary>
    private static string Gradient(string path, int width, int height) =>
        ImageFolders.WriteImage(path, width, height, (x, y) => new SKColor((byte)x, (byte)y, 0), SKEncodedImageFormat.Png);

    /// <summary>
    /// Bilinear resizing maps output pixel centre j + 1/2 to source x = box.X + (j + 1/2) * box.Width / size - 1/2;
    /// on a gradient that is the value expected, within two levels (filtering at the box's edges, mipmaps).
    /// </summary>
    private static void AssertSampledFrom(ReadOnlySpan<float> planes, int size, CropBox box, bool flip, string what)
    {
        for (int j = 0; j < size; j++)
        {
            double expectX = box.X + (j + 0.5) * box.Width / size - 0.5;
            double expectY = box.Y + (j + 0.5) * box.Height / size - 0.5;
            int column = flip ? size - 1 - j : j;
            double r = planes[size / 2 * size + column] * 255, g = planes[size * size + j * size + size / 2] * 255;
            Assert.True(Math.Abs(r - Math.Clamp(expectX, box.X, box.X + box.Width - 1)) <= 2.0, $"{what}: column {column} has x {r:F2}, expected {expectX:F2} (box {box}, flip {flip})");
            Assert.True(Math.Abs(g - Math.Clamp(expectY, box.Y, box.Y + box.Height - 1)) <= 2.0, $"{what}: row {j} has y {g:F2}, expected {expectY:F2} (box {box})");
        }
    }

    [Fact]
    public void Training_batches_are_the_random_resized_crops_and_flips_each_images_seed_gives()
    {
        using var dir = new TempDirectory();
        const int width = 240, height = 160, size = 24, count = 12;
        for (int i = 0; i < count; i++) Gradient(Path.Combine(dir.Path, "only", $"{i:D2}.png"), width, height);
        var source = ImageFolderSource.Open(dir.Path, DataSplit.Train, new ImageFolderSettings { ImageSize = size, Workers = 2, Prefetch = 1 });
        var identity = new ChannelNormalization(new[] { 0f, 0f, 0f }, new[] { 1f, 1f, 1f });
        using var loader = source.Loader(5, identity, augment: true);

        // The loader's documented draws: the epoch's shuffle, then one seed per image in the shuffled order.
        var random = new SeededRandom(42);
        var replay = SeededRandom.FromState(random.State);
        var order = Enumerable.Range(0, count).ToArray();
        replay.Shuffle(order);
        var seeds = order.Select(_ => replay.NextUInt64()).ToArray();

        int seen = 0, flips = 0;
        foreach (var (inputs, labels) in loader.Batches(random))
        {
            var pixels = inputs.data<float>().ToArray();
            for (int b = 0; b < inputs.shape[0]; b++, seen++)
            {
                var own = new SeededRandom((long)seeds[seen]);
                var box = ImageCrops.RandomResized(width, height, own);
                bool flip = own.Next(2) == 1;
                flips += flip ? 1 : 0;
                AssertSampledFrom(pixels.AsSpan(b * 3 * size * size, 3 * size * size), size, box, flip, $"image {seen} ({order[seen]})");
            }
            Assert.All(labels.data<long>().ToArray(), l => Assert.Equal(0, l));
        }
        Assert.Equal(count, seen);
        Assert.InRange(flips, 1, count - 1);   // 12 fair coins: all alike has probability 1/2048
        Assert.Equal(replay.State, random.State);
    }

    [Fact]
    public void Evaluation_batches_are_the_centre_crop_in_order()
    {
        using var dir = new TempDirectory();
        const int width = 200, height = 120, size = 16;
        for (int i = 0; i < 3; i++) Gradient(Path.Combine(dir.Path, "only", $"{i}.png"), width, height);
        var source = ImageFolderSource.Open(dir.Path, DataSplit.Test, new ImageFolderSettings { ImageSize = size });
        using var loader = source.Loader(2, new ChannelNormalization(new[] { 0f, 0f, 0f }, new[] { 1f, 1f, 1f }), augment: false);
        // Resize(round(16 / 0.875) = 18): 120 -> 18, 200 -> 30 (truncated); centre 16x16 at (7, 1) of 30x18.
        var box = ImageCrops.Centre(width, height, size);
        Assert.Equal(7 * 200 / 30.0, box.X, 9);
        Assert.Equal(1 * 120 / 18.0, box.Y, 9);
        Assert.Equal(16 * 200 / 30.0, box.Width, 9);
        Assert.Equal(16 * 120 / 18.0, box.Height, 9);
        int seen = 0;
        foreach (var (inputs, _) in loader.Batches())
        {
            var pixels = inputs.data<float>().ToArray();
            for (int b = 0; b < inputs.shape[0]; b++, seen++)
                AssertSampledFrom(pixels.AsSpan(b * 3 * size * size, 3 * size * size), size, box, flip: false, $"image {seen}");
        }
        Assert.Equal(3, seen);
    }

    [Fact]
    public void Random_resized_crop_boxes_are_torchvisions_for_the_same_draws()
    {
        // TorchVision's get_params written out again from its documentation, fed the same uniform draws.
        static (int X, int Y, int W, int H) Reference(int width, int height, SeededRandom r)
        {
            for (int attempt = 0; attempt < 10; attempt++)
            {
                double scale = 0.08 + (1 - 0.08) * r.NextDouble();
                double logRatio = Math.Log(3.0 / 4) + (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)) * r.NextDouble();
                double area = scale * width * height, ratio = Math.Exp(logRatio);
                int w = (int)Math.Round(Math.Sqrt(area * ratio), MidpointRounding.ToEven), h = (int)Math.Round(Math.Sqrt(area / ratio), MidpointRounding.ToEven);
                if (0 < w && w <= width && 0 < h && h <= height)
                {
                    int i = r.Next(height - h + 1);
                    return (r.Next(width - w + 1), i, w, h);
                }
            }
            return (-1, -1, -1, -1);
        }

        var sizes = new[] { (500, 375), (375, 500), (224, 224), (30, 20), (3, 2), (1, 1) };
        int fallbacks = 0;
        foreach (var (width, height) in sizes)
            for (long seed = 0; seed < 300; seed++)
            {
                var box = ImageCrops.RandomResized(width, height, new SeededRandom(seed));
                var expected = Reference(width, height, new SeededRandom(seed));
                Assert.True(box.X >= 0 && box.Y >= 0 && box.X + box.Width <= width && box.Y + box.Height <= height, $"{box} outside {width}x{height}");
                if (expected.W < 0)
                {
                    fallbacks++;
                    continue;
                }
                Assert.Equal(new CropBox(expected.X, expected.Y, expected.W, expected.H), box);
                if (width >= 224 && height >= 224)
                {
                    // Up to the rounding of width and height to whole pixels: area and ratio within the ranges.
                    double fraction = box.Width * box.Height / (width * height), ratio = box.Width / box.Height;
                    Assert.InRange(fraction, 0.08 * 0.97, 1.0);
                    Assert.InRange(ratio, 0.75 * 0.97, 4.0 / 3 * 1.03);
                }
            }
        Assert.True(fallbacks < 300, "every draw fell back");

        // A strip no try fits: the largest centred box of ratio 4/3 (TorchVision's fallback).
        Assert.Equal(new CropBox(493, 0, 13, 10), ImageCrops.RandomResized(1000, 10, new SeededRandom(5)));
        Assert.Equal(new CropBox(0, 493, 10, 13), ImageCrops.RandomResized(10, 1000, new SeededRandom(5)));
    }

    [Fact]
    public void A_jpeg_decoded_at_a_reduced_scale_keeps_its_geometry()
    {
        using var dir = new TempDirectory();
        // A smooth ramp survives JPEG within a few levels: R = x / 2, G = y / 2 on 500x400.
        string path = ImageFolders.WriteImage(dir.File("big.jpg"), 500, 400, (x, y) => new SKColor((byte)(x / 2), (byte)(y / 2), 64), SKEncodedImageFormat.Jpeg);
        const int size = 40;
        var rgba = new byte[4 * size * size];
        ImageDecoder.Read(path, CropBox.All, size, size, rgba);
        for (int j = 0; j < size; j++)
        {
            double x = (j + 0.5) * 500 / size - 0.5, y = (j + 0.5) * 400 / size - 0.5;
            Assert.True(Math.Abs(rgba[4 * (size / 2 * size + j)] - x / 2) <= 3, $"column {j}: {rgba[4 * (size / 2 * size + j)]}, expected {x / 2:F1}");
            Assert.True(Math.Abs(rgba[4 * (j * size + size / 2) + 1] - y / 2) <= 3, $"row {j}: {rgba[4 * (j * size + size / 2) + 1]}, expected {y / 2:F1}");
        }
    }
}
