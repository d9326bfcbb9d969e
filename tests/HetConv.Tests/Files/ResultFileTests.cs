using System.Text.Json;
using HetConv.Files;
using HetConv.Training;

namespace HetConv.Tests.Files;

/// <summary>Result files are written whole or not at all, and numbers JSON cannot hold do not stop the write.</summary>
public class ResultFileTests
{
    [Fact]
    public void A_failed_atomic_write_leaves_the_old_file_and_no_temporary_one()
    {
        using var dir = new TempDirectory();
        string path = dir.File("result.json");
        File.WriteAllText(path, "old");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half a fi"u8);
            throw new IOException("No space left on device");
        }));
        Assert.Contains("No space left on device", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void An_evaluation_report_writes_non_finite_numbers_as_named_literals(double value)
    {
        var report = new EvaluationReport
        {
            Checkpoint = "/runs/a/last.ckpt", DataSet = "mnist", Split = "test", Images = 3, Accuracy = 2 / 3.0, Loss = value,
            ClassAccuracy = new() { ["0"] = 1.0, ["1"] = value }, Confusion = [[2, 0], [1, 0]], BatchSize = 3,
            SecondsPerImage = 0.001, SecondsPerImageBatch1 = 0.002,
        };
        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        string literal = double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
        Assert.Equal(literal, root.GetProperty("loss").GetString());
        Assert.Equal(literal, root.GetProperty("class_accuracy").GetProperty("1").GetString());
        Assert.Equal(1.0, root.GetProperty("class_accuracy").GetProperty("0").GetDouble());
        Assert.Equal(2 / 3.0, root.GetProperty("accuracy").GetDouble());
        Assert.Equal(0.002, root.GetProperty("seconds_per_image_batch1").GetDouble());
        Assert.False(root.TryGetProperty("model_description", out _), "a title-only field leaked into eval.json");
    }

}
