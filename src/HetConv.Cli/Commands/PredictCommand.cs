using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HetConv.Data;
using HetConv.Interop;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv predict</c>: the most probable classes of image files, from a checkpoint or an exported ONNX file.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "a checkpoint (.ckpt) or an ONNX file written by hetconv export", Required = true };
        var images = new Option<string[]>("--image", "-i") { Description = "image files (PNG, JPEG, ...)", Required = true, AllowMultipleArgumentsPerToken = true };
        var top = new Option<int>("--top") { Description = "classes to show per image", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "print JSON: per image {\"image\", \"top\": [{\"class\", \"index\", \"probability\"}]}" };
        var command = new Command("predict", "Classify images with a trained model (checkpoint in TorchSharp, .onnx in ONNX Runtime).") { model, images, top, json };
        command.SetAction(result =>
        {
            IReadOnlyList<Prediction> predictions;
            try
            {
                using var classifier = ImageClassifier.Open(result.GetValue(model)!);
                predictions = classifier.Predict(result.GetValue(images)!, result.GetValue(top));
            }
            catch (Exception e) when (e is DataFormatException or ArgumentException)
            {
                throw new CliUsageException(e.Message, e);
            }
            if (result.GetValue(json))
            {
                var items = predictions.Select(p => new
                {
                    image = p.Image,
                    top = p.Top.Select(s => new { @class = s.Class, index = s.Index, probability = s.Probability }),
                });
                Console.Out.WriteLine(JsonSerializer.Serialize(items, new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            foreach (var prediction in predictions)
            {
                var table = new Table().Title(Markup.Escape(prediction.Image)).AddColumns("class", "index", "probability");
                foreach (var score in prediction.Top)
                    table.AddRow(Markup.Escape(score.Class), score.Index.ToString(CultureInfo.InvariantCulture),
                        string.Create(CultureInfo.InvariantCulture, $"{100 * score.Probability:F2}%"));
                AnsiConsole.Write(table);
            }
            return 0;
        });
        return command;
    }
}
