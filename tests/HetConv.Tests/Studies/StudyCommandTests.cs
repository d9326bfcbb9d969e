using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using HetConv.Layers;
using HetConv.Studies;
using HetConv.Tests.Cli;
using HetConv.Training;
using SkiaSharp;

namespace HetConv.Tests.Studies;

/// <summary>A tiny finished study: ResNet-20 P1 and P4 on 192 Fashion-MNIST images, one epoch, one seed.</summary>
public sealed class TinyStudy : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly TempDirectory directory = new();

    public TinyStudy()
    {
        Result = CliProcess.Run(Timeout, Arguments);
    }

    public string Directory => Path.Combine(directory.Path, "study");

    public string[] Arguments =>
    [
        "study", "--model", "resnet20", "--variants", "P1,P4", "--seeds", "1", "--epochs", "1", "--train-limit", "192", "--test-limit", "64",
        "--batch-size", "32", "--threads", "1", "--out", Directory,
    ];

    public (int ExitCode, string Output, string Error) Result { get; }

    public TrainingSummary Summary(string variant) => JsonSerializer.Deserialize<TrainingSummary>(
        File.ReadAllText(Path.Combine(Directory, Study.RunsDirectory, $"{variant}-seed1", Trainer.SummaryFile)), TrainingOptions.Json)!;

    public void Dispose() => directory.Dispose();
}

public sealed class StudyCommandTests(TinyStudy study) : IClassFixture<TinyStudy>
{
    private static double Field(string[] header, string[] row, string name) =>
        double.Parse(row[Array.IndexOf(header, name)], CultureInfo.InvariantCulture);

    [Fact]
    public void The_table_holds_each_runs_summary_and_the_cost_the_papers_formula_gives()
    {
        Assert.True(study.Result.ExitCode == 0, $"exit code {study.Result.ExitCode}\n{study.Result.Output}\n{study.Result.Error}");
        var lines = File.ReadAllLines(Path.Combine(study.Directory, StudyOutputs.TableCsv));
        Assert.Equal(StudyTable.CsvHeader, lines[0]);
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToDictionary(r => r[0]);
        Assert.Equal(["P1", "P4"], rows.Keys.ToArray());
        foreach (var (variant, row) in rows)
        {
            var summary = study.Summary(variant);
            Assert.Equal(variant, summary.Conv);
            Assert.Equal(1, Field(header, row, "seeds"));
            Assert.Equal(summary.FinalTestAccuracy, Field(header, row, "accuracy_mean"), 1e-6);
            Assert.Equal("", row[Array.IndexOf(header, "accuracy_sd")]);   // one seed has no spread
            Assert.Equal(summary.Flops, Field(header, row, "flops"));
            Assert.Equal(summary.Params, Field(header, row, "params"));
            Assert.Equal(summary.Epochs, Field(header, row, "epochs"));
            Assert.Equal(summary.ImagesPerSecond, Field(header, row, "train_images_per_second"), summary.ImagesPerSecond * 1e-5);
            Assert.Equal(summary.TotalSeconds / 60, Field(header, row, "train_minutes"), 1e-5);
            Assert.True(Field(header, row, "latency_batch1_ms") > 0 && Field(header, row, "latency_batch64_ms") > Field(header, row, "latency_batch1_ms"));
        }
        var p1 = study.Summary("P1");
        var p4 = study.Summary("P4");
        Assert.Equal(1 - (double)p4.Flops / p1.Flops, Field(header, rows["P4"], "flops_reduced"), 1e-5);
        Assert.Equal(1 - (double)p4.Params / p1.Params, Field(header, rows["P4"], "params_reduced"), 1e-5);
        Assert.Equal(0, Field(header, rows["P1"], "flops_reduced"));
        // Every 3x3 layer after the stem is HetConv; the stem and the classifier are a sliver of ResNet-20's cost.
        Assert.Equal(HetConvPattern.FlopsFraction(4, 3), (double)p4.Flops / p1.Flops, 0.02);
        Assert.Equal(p1.ImagesPerSecond / p1.ImagesPerSecond, Field(header, rows["P1"], "train_speedup"));
        Assert.Equal(p4.ImagesPerSecond / p1.ImagesPerSecond, Field(header, rows["P4"], "train_speedup"), 1e-5);

        string markdown = File.ReadAllText(Path.Combine(study.Directory, StudyOutputs.TableMarkdown));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"| P4 | {100 * p4.FinalTestAccuracy:F2} ± n/a (n=1) | {p4.Flops / 1e6:F2} |"), markdown);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"| P1 | {100 * p1.FinalTestAccuracy:F2} ± n/a (n=1) | {p1.Flops / 1e6:F2} |"), markdown);
    }

    [Fact]
    public void Every_plot_is_a_png_and_an_svg_that_decode()
    {
        Assert.True(study.Result.ExitCode == 0, study.Result.Error);
        foreach (string plot in StudyPlots.Names)
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(study.Directory, plot + ".png"));
            Assert.True(bitmap is not null, $"{plot}.png does not decode");
            Assert.Equal((900, 560), (bitmap.Width, bitmap.Height));
            // Not blank: a plot has lines and text in more than a handful of colours.
            var colours = new HashSet<SKColor>();
            for (int y = 0; y < bitmap.Height; y += 7)
                for (int x = 0; x < bitmap.Width; x += 7)
                    colours.Add(bitmap.GetPixel(x, y));
            Assert.True(colours.Count > 5, $"{plot}.png has only {colours.Count} colours");

            var svg = XDocument.Load(Path.Combine(study.Directory, plot + ".svg")).Root!;
            Assert.Equal("svg", svg.Name.LocalName);
            Assert.Equal("900", svg.Attribute("width")?.Value);
            string text = string.Join(" ", svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value));
            Assert.Contains(plot == StudyPlots.Speedup ? "paper" : "P4", text);
        }
    }

    [SkippableFact]
    public void The_report_opens_in_a_real_browser_with_every_plot_rendered_and_no_error()
    {
        Skip.If(HeadlessChromium.Missing is not null, HeadlessChromium.Missing);
        Assert.True(study.Result.ExitCode == 0, study.Result.Error);
        string report = Path.Combine(study.Directory, StudyOutputs.Report);
        string html = File.ReadAllText(report);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.Contains("--variants P1,P4", html);
        Assert.Contains(HetConv.Layers.Execution.Kernels.KernelIsa.CpuModel, html);

        var page = HeadlessChromium.Open(report);
        Assert.Equal(StudyPlots.Names.Length, page.Images);
        Assert.Empty(page.Broken);
        Assert.Empty(page.Errors);
        Assert.All(page.Widths, w => Assert.Equal(900, w));

        // The check sees a plot that does not render: the same page with one image's data cut short.
        using var dir = new TempDirectory();
        string broken = dir.File("broken.html");
        int at = html.IndexOf("base64,", StringComparison.Ordinal) + "base64,".Length;
        File.WriteAllText(broken, html[..at] + "PHN2Zz4" + html[html.IndexOf('"', at)..]);
        var brokenPage = HeadlessChromium.Open(broken);
        Assert.Equal([StudyPlots.Names[0]], brokenPage.Broken);
    }

    [Fact]
    public void Run_again_it_trains_nothing_and_writes_the_same_table()
    {
        Assert.True(study.Result.ExitCode == 0, study.Result.Error);
        string checkpoint = Path.Combine(study.Directory, Study.RunsDirectory, "P4-seed1", Trainer.LastCheckpoint);
        byte[] before = File.ReadAllBytes(checkpoint);
        var written = File.GetLastWriteTimeUtc(checkpoint);
        string accuracies = Accuracies();

        var again = CliProcess.Run(TinyStudy.Timeout, study.Arguments);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Contains("[1/2] P1 seed 1: done already (1 epochs)", again.Output);
        Assert.Contains("[2/2] P4 seed 1: done already (1 epochs)", again.Output);
        Assert.DoesNotContain("epoch 1/1", again.Output);
        Assert.Equal(before, File.ReadAllBytes(checkpoint));
        Assert.Equal(written, File.GetLastWriteTimeUtc(checkpoint));
        Assert.Equal(accuracies, Accuracies());
    }

    private string Accuracies() => string.Join("\n", File.ReadAllLines(Path.Combine(study.Directory, StudyOutputs.TableCsv))
        .Select(l => string.Join(",", l.Split(',').Take(9))));
}
