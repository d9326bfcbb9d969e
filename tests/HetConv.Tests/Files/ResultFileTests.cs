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
        Assert.Equal("No space left on device", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void An_evaluation_report_writes_non_finite_numbers_as_null(double value)
    {
        var report = new EvaluationReport
        {
            Checkpoint = "/runs/a/last.ckpt", DataSet = "mnist", Split = "test", Images = 3, Accuracy = 2 / 3.0, Loss = value,
            ClassAccuracy = new() { ["0"] = 1.0, ["1"] = value }, Confusion = [[2, 0], [1, 0]], BatchSize = 3,
            SecondsPerImage = 0.001, SecondsPerImageBatch1 = 0.002,
        };
        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("loss").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("class_accuracy").GetProperty("1").ValueKind);
        Assert.Equal(1.0, root.GetProperty("class_accuracy").GetProperty("0").GetDouble());
        Assert.Equal(2 / 3.0, root.GetProperty("accuracy").GetDouble());
        Assert.Equal(0.002, root.GetProperty("seconds_per_image_batch1").GetDouble());
        Assert.False(root.TryGetProperty("model_description", out _), "a title-only field leaked into eval.json");
    }

    [Fact]
    public void Null_reads_back_as_nan()
    {
        var options = new JsonSerializerOptions { Converters = { new NonFiniteAsNull() } };
        Assert.True(double.IsNaN(JsonSerializer.Deserialize<double>("null", options)));
        Assert.Equal(0.25, JsonSerializer.Deserialize<double>("0.25", options));
    }
}
