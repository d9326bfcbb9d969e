using HetConv.Files;
using HetConv.Layers;
using HetConv.Plotting;
using ScottPlot;

namespace HetConv.Studies;

/// <summary>
/// The study's three plots, each as PNG and SVG: accuracy against FLOPs (error bars: the seeds' standard
/// deviation), accuracy against training time (one curve per variant, the seeds' mean at each epoch), and the
/// measured speedup over P1 against P beside the paper's 1/(1/P + (1 - 1/P)/K²) (<see cref="HetConvPattern.FlopsFraction"/>).
/// </summary>
public static class StudyPlots
{
    public const string AccuracyFlops = "accuracy-flops", AccuracyTime = "accuracy-time", Speedup = "speedup";
    public static readonly string[] Names = [AccuracyFlops, AccuracyTime, Speedup];
    private const int Width = 900, Height = 560;

    public static void SaveAll(string directory, IReadOnlyList<StudyRow> rows, string title)
    {
        PlotFonts.EnsureRegistered();
        Save(directory, AccuracyFlops, AccuracyAgainstFlops(rows, title));
        Save(directory, AccuracyTime, AccuracyAgainstTime(rows, title));
        Save(directory, Speedup, SpeedupAgainstPart(rows, title));
    }

    private static Plot AccuracyAgainstFlops(IReadOnlyList<StudyRow> rows, string title)
    {
        var plot = new Plot();
        foreach (var (row, colour) in rows.Zip(Colours(rows.Count)))
        {
            double x = row.Flops / 1e6, y = 100 * row.AccuracyMean;
            var point = plot.Add.Scatter(new[] { x }, new[] { y }, colour);
            point.LegendText = row.Variant;
            point.MarkerSize = 9;
            if (!double.IsNaN(row.AccuracySd))
            {
                var bar = plot.Add.ErrorBar(new[] { x }, new[] { y }, new[] { 100 * row.AccuracySd });
                bar.Color = point.Color;
            }
            var label = plot.Add.Text(row.Variant, x, y);
            label.LabelFontSize = 12;
            label.OffsetX = 6;
        }
        return Labelled(plot, $"Accuracy against FLOPs: {title}",
            "FLOPs per image (millions of multiply-accumulates)",
            "test accuracy (%), mean ± sd over seeds", Alignment.LowerRight);
    }

    private static Plot AccuracyAgainstTime(IReadOnlyList<StudyRow> rows, string title)
    {
        var plot = new Plot();
        foreach (var (row, colour) in rows.Zip(Colours(rows.Count)))
        {
            var line = plot.Add.Scatter(row.Curve.Select(p => p.Minutes).Prepend(0).ToArray(),
                row.Curve.Select(p => 100 * p.Accuracy).Prepend(double.NaN).ToArray(), colour);
            line.LegendText = row.Variant;
            line.MarkerSize = 6;
        }
        return Labelled(plot, $"Accuracy against training time: {title}",
            "training time (minutes, with each epoch's test pass; mean over seeds)",
            "test accuracy (%) after each epoch", Alignment.LowerRight);
    }

    private static Plot SpeedupAgainstPart(IReadOnlyList<StudyRow> rows, string title)
    {
        var plot = new Plot();
        const int kernel = 3;
        var parts = Enumerable.Range(0, 61).Select(i => Math.Pow(2, i / 10.0)).ToArray();
        var theory = plot.Add.Scatter(parts.Select(Math.Log2).ToArray(), parts.Select(p => 1 / HetConvPattern.FlopsFraction(p, kernel)).ToArray());
        theory.LegendText = "paper: 1/(1/P + (1 - 1/P)/K²), K = 3";
        theory.MarkerSize = 0;
        theory.LineWidth = 2;

        var measured = rows.Where(r => r.Part is not null && r.TrainSpeedup is not null).OrderBy(r => r.Part).ToArray();
        void Series(string name, Func<StudyRow, double?> speedup)
        {
            if (measured.Length == 0) return;
            var line = plot.Add.Scatter(measured.Select(r => Math.Log2(r.Part!.Value)).ToArray(), measured.Select(r => speedup(r)!.Value).ToArray());
            line.LegendText = name;
            line.MarkerSize = 7;
        }
        Series("measured: training images/s", r => r.TrainSpeedup);
        Series("measured: inference, batch 1", r => r.InferenceSpeedupBatch1);
        Series("measured: inference, batch 64", r => r.InferenceSpeedupBatch64);

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int p in new[] { 1, 2, 4, 8, 16, 32, 64 }) ticks.AddMajor(Math.Log2(p), p.ToString(System.Globalization.CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        return Labelled(plot, $"Speedup over P1 against P: {title}",
            "part P (HetConv variants; PC and the GWC/DWC baselines have no P)",
            "speedup over the standard convolution (P1)", Alignment.UpperLeft);
    }

    private static Plot Labelled(Plot plot, string title, string xLabel, string yLabel, Alignment legend)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(legend);
        return plot;
    }

    /// <summary>One colour per variant, the same in every plot.</summary>
    private static IEnumerable<Color> Colours(int count)
    {
        var palette = new ScottPlot.Palettes.Category10();
        return Enumerable.Range(0, count).Select(palette.GetColor);
    }

    private static void Save(string directory, string name, Plot plot)
    {
        using (plot)
        {
            byte[] png = plot.GetImageBytes(Width, Height, ImageFormat.Png);
            AtomicFile.Write(Path.Combine(directory, name + ".png"), stream => stream.Write(png));
            AtomicFile.WriteText(Path.Combine(directory, name + ".svg"), plot.GetSvgXml(Width, Height));
        }
    }
}
