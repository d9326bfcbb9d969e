using System.Text.Json;
using HetConv.Benchmarking;
using HetConv.Cli.Commands;
using HetConv.Models;

namespace HetConv.Tests.Benchmarking;

public class BenchCommandTests
{
    [Fact]
    public void Whole_model_rows_have_the_documented_json_fields()
    {
        var result = ModelBenchmark.Run("resnet20", ConvOptions.HetConv(4), batch: 2, BenchMode.Training, warmup: 0, repetitions: 1);
        using var json = JsonDocument.Parse(BenchJson.Models(new[] { result }));
        var row = json.RootElement.EnumerateArray().Single();
        Assert.Equal("resnet20", row.GetProperty("model").GetString());
        Assert.Equal("P4", row.GetProperty("part").GetString());
        Assert.Equal(2, row.GetProperty("batch").GetInt32());
        Assert.Equal("training", row.GetProperty("mode").GetString());
        Assert.Equal(result.StandardMs, row.GetProperty("standard_ms").GetDouble());
        Assert.Equal(result.HetConvMs, row.GetProperty("hetconv_ms").GetDouble());
        HetConv.Tests.Cli.JsonOutputTests.AssertConsistent(row);   // finite positive times, the speedup their ratio
        Assert.Equal(result.FlopsRatio, row.GetProperty("flops_ratio").GetDouble());
        Assert.Equal("standard", row.GetProperty("candidates").GetProperty("standard/cl").GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData("bench", "--model", "resnet21")]
    [InlineData("bench", "--model", "resnet20", "--part", "3")]
    [InlineData("bench", "--layers", "alexnet")]
    [InlineData("bench", "--only", "conv99")]
    [InlineData("bench", "--batch", "0")]
    [InlineData("bench", "--mode", "fast")]
    [InlineData("bench", "--repetitions", "0")]
    [InlineData("bench", "--device", "tpu")]
    public void Bench_command_reports_bad_input_as_a_usage_error(params string[] args)
    {
        Assert.Equal(2, HetConv.Cli.HetConvCli.Run(args));
    }
}
