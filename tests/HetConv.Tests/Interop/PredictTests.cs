using System.Text.Json;
using HetConv.Data;
using HetConv.Interop;
using HetConv.Tests.Cli;
using HetConv.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Interop;

public class PredictTests
{
    private static readonly string[] Classes = Enumerable.Range(0, 10).Select(i => $"class-{i}").ToArray();
    private static readonly ChannelNormalization Normalization = new(new[] { 0.5f, 0.4f, 0.3f }, new[] { 0.2f, 0.25f, 0.3f });

    /// <summary>A checkpoint of a HetConv ResNet-20 for 3x16x16 images, as hetconv train would write it.</summary>
    private static string WriteCheckpoint(TempDirectory dir, out nn.Module<Tensor, Tensor> model, int? imageSize = null)
    {
        model = ExportCases.Create("resnet20", "P4");
        var state = new CheckpointState
        {
            Options = new TrainingOptions { Model = "resnet20", Part = "4", DataSet = imageSize is null ? "cifar10" : "folder", ImageSize = imageSize },
            EpochsDone = 1,
            DataRandomState = new ulong[] { 1, 2, 3, 4 },
            TorchRandomState = Array.Empty<byte>(),
            Normalization = Normalization,
            InChannels = 3,
            Height = 16,
            Width = 16,
            ClassNames = Classes,
            History = new List<EpochMetrics>(),
        };
        string path = dir.File("best.ckpt");
        Checkpoint.Save(path, state, model, null);
        return path;
    }

    /// <summary>Writes an image of the given pixels (RGB, row-major) and returns the path.</summary>
    private static string WriteImage(string path, int width, int height, Func<int, int, SKColor> pixel, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, pixel(x, y));
        using var data = bitmap.Encode(format, 95);
        using var file = File.Create(path);
        data.SaveTo(file);
        return path;
    }

    private static SKColor Noise(int x, int y) => new((byte)(x * 37 + y * 11), (byte)(x * 5 + y * 53), (byte)(x * y * 7 + 13));

    /// <summary>Probabilities straight from the model on the normalised pixels, without any image code.</summary>
    private static Tensor Reference(nn.Module<Tensor, Tensor> model, Func<int, int, SKColor> pixel)
    {
        var x = zeros(1, 3, 16, 16);
        for (int y = 0; y < 16; y++)
            for (int c = 0; c < 16; c++)
            {
                var p = pixel(c, y);
                byte[] rgb = { p.Red, p.Green, p.Blue };
                for (int ch = 0; ch < 3; ch++) x[0, ch, y, c] = (rgb[ch] / 255f - Normalization.Mean[ch]) / Normalization.Std[ch];
            }
        using var noGrad = no_grad();
        return model.call(x).to(ScalarType.Float64).softmax(1)[0];
    }

    [Fact]
    public void A_png_of_the_training_size_gives_the_models_probabilities()
    {
        using var dir = new TempDirectory();
        string checkpoint = WriteCheckpoint(dir, out var model);
        using var _ = model;
        string png = WriteImage(dir.File("a.png"), 16, 16, Noise, SKEncodedImageFormat.Png);

        using var classifier = ImageClassifier.Open(checkpoint);
        using var probabilities = classifier.Probabilities(new[] { png });
        TensorAssert.Close(probabilities[0], Reference(model, Noise), rtol: 1e-6);

        var prediction = Assert.Single(classifier.Predict(new[] { png }, top: 3));
        Assert.Equal(3, prediction.Top.Count);
        var expected = Reference(model, Noise);
        Assert.Equal(expected.argmax().item<long>(), prediction.Top[0].Index);
        Assert.Equal(Classes[prediction.Top[0].Index], prediction.Top[0].Class);
        Assert.True(prediction.Top[0].Probability >= prediction.Top[1].Probability);
    }

    [Fact]
    public void A_jpeg_of_another_size_is_resized_to_the_training_size()
    {
        using var dir = new TempDirectory();
        string checkpoint = WriteCheckpoint(dir, out var model);
        using var _ = model;
        // A flat colour stays flat through resizing and (up to a level or two) through JPEG.
        SKColor Flat(int x, int y) => new(200, 60, 120);
        string jpeg = WriteImage(dir.File("b.jpg"), 48, 40, Flat, SKEncodedImageFormat.Jpeg);

        using var classifier = ImageClassifier.Open(checkpoint);
        using var probabilities = classifier.Probabilities(new[] { jpeg });
        var expected = Reference(model, Flat);
        double worst = (probabilities[0] - expected).abs().max().item<double>();
        Assert.True(worst < 0.02, $"probabilities differ by {worst} from the flat colour's");
    }

    [Fact]
    public void A_model_trained_on_an_image_folder_sees_the_centre_crop_of_its_evaluation()
    {
        using var dir = new TempDirectory();
        string checkpoint = WriteCheckpoint(dir, out var model, imageSize: 16);
        using var _ = model;
        // 64x32: resize to 36x18, centre 16x16 at x 10..26 of 36, i.e. x 17.8..46.2 of 64. Inside x 12..52 the colour
        // is flat; outside it another, which a stretch of the whole image would mix in.
        SKColor Flat(int x, int y) => new(200, 60, 120);
        string png = WriteImage(dir.File("wide.png"), 64, 32, (x, y) => x is >= 12 and < 52 ? Flat(x, y) : new SKColor(0, 255, 0), SKEncodedImageFormat.Png);

        using var classifier = ImageClassifier.Open(checkpoint);
        Assert.True(classifier.Info.CentreCrop);
        using var probabilities = classifier.Probabilities(new[] { png });
        TensorAssert.Close(probabilities[0], Reference(model, Flat), rtol: 1e-5);
    }

    [Fact]
    public void The_command_line_exports_to_onnx_and_predicts_as_the_checkpoint_does()
    {
        using var dir = new TempDirectory();
        string checkpoint = WriteCheckpoint(dir, out var model);
        model.Dispose();
        string png = WriteImage(dir.File("a.png"), 16, 16, Noise, SKEncodedImageFormat.Png);
        string jpeg = WriteImage(dir.File("b.jpeg"), 20, 24, (x, y) => new SKColor((byte)(10 * x), (byte)(10 * y), 90), SKEncodedImageFormat.Jpeg);
        string onnx = dir.File("model.onnx");

        var export = CliProcess.Run(TimeSpan.FromMinutes(3), "export", "--checkpoint", checkpoint, "--out", onnx);
        Assert.True(export.ExitCode == 0, export.Error);
        Assert.True(File.Exists(onnx));

        JsonElement Predict(string modelPath)
        {
            var run = CliProcess.Run(TimeSpan.FromMinutes(3), "predict", "--model", modelPath, "--image", png, jpeg, "--top", "10", "--json");
            Assert.True(run.ExitCode == 0, run.Error);
            return JsonDocument.Parse(run.Output).RootElement;
        }
        var fromOnnx = Predict(onnx);
        var fromCheckpoint = Predict(checkpoint);
        Assert.Equal(2, fromOnnx.GetArrayLength());
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(new[] { png, jpeg }[i], fromOnnx[i].GetProperty("image").GetString());
            var a = fromOnnx[i].GetProperty("top").EnumerateArray().ToDictionary(s => s.GetProperty("index").GetInt32(), s => s.GetProperty("probability").GetDouble());
            var b = fromCheckpoint[i].GetProperty("top").EnumerateArray().ToDictionary(s => s.GetProperty("index").GetInt32(), s => s.GetProperty("probability").GetDouble());
            Assert.Equal(10, a.Count);
            Assert.Equal(1.0, a.Values.Sum(), 6);
            foreach (var (index, p) in b) Assert.True(Math.Abs(a[index] - p) < 1e-5, $"image {i} class {index}: {a[index]} in ONNX Runtime, {p} in TorchSharp");
            Assert.Equal(Classes[fromOnnx[i].GetProperty("top")[0].GetProperty("index").GetInt32()], fromOnnx[i].GetProperty("top")[0].GetProperty("class").GetString());
        }
    }

    [Fact]
    public void Bad_input_gets_one_line_and_exit_code_2()
    {
        using var dir = new TempDirectory();
        string checkpoint = WriteCheckpoint(dir, out var model);
        model.Dispose();

        var missingImage = CliProcess.Run(TimeSpan.FromMinutes(2), "predict", "--model", checkpoint, "--image", dir.File("none.png"));
        Assert.Equal(2, missingImage.ExitCode);
        Assert.Contains("none.png: the image file does not exist", missingImage.Error);
        Assert.Single(missingImage.Error.Trim().Split('\n'));

        File.WriteAllText(dir.File("not.png"), "text");
        var notImage = CliProcess.Run(TimeSpan.FromMinutes(2), "predict", "--model", checkpoint, "--image", dir.File("not.png"));
        Assert.Equal(2, notImage.ExitCode);
        Assert.Contains("is not an image", notImage.Error);

        var format = CliProcess.Run(TimeSpan.FromMinutes(2), "export", "--checkpoint", checkpoint, "--out", dir.File("model.txt"));
        Assert.Equal(2, format.ExitCode);
        Assert.Contains("unknown format '.txt'", format.Error);
        Assert.False(File.Exists(dir.File("model.txt")));

        var noCheckpoint = CliProcess.Run(TimeSpan.FromMinutes(2), "export", "--checkpoint", dir.File("none.ckpt"), "--out", dir.File("m.onnx"));
        Assert.Equal(2, noCheckpoint.ExitCode);
        Assert.Contains("none.ckpt", noCheckpoint.Error);
    }

    [Fact]
    public void An_onnx_file_without_export_metadata_is_refused_by_name()
    {
        using var dir = new TempDirectory();
        using var model = ExportCases.Create("resnet20", "P4");
        string path = dir.File("plain.onnx");
        OnnxExport.Save(model, path, new long[] { 3, 16, 16 });
        var e = Assert.Throws<DataFormatException>(() => ImageClassifier.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("metadata", e.Message);
    }
}
