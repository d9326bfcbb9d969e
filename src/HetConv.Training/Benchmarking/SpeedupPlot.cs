using HetConv.Layers;
using HetConv.Files;
using HetConv.Plotting;
using ScottPlot;

namespace HetConv.Benchmarking;

/// <summary>
/// The paper's Figure 5 beside measurements: the speedup the FLOPs promise (<see cref="HetConvPattern.FlopsFraction"/>) against P,
/// and for each measured series (mode and batch) the speedup of a network's layers taken together: the sum of the
/// standard convolutions' times over the sum of HetConv's, at each P.
/// </summary>
public static class SpeedupPlot
{
    public static void Save(string path, IReadOnlyList<LayerBenchResult> rows, string title)
    {
        PlotFonts.EnsureRegistered();
        using var plot = new Plot();
        int kernel = rows.Count > 0 ? rows[0].Shape.KernelSize : 3;

        // P on a log2 axis, labelled by its value.
        var parts = Enumerable.Range(0, 61).Select(i => Math.Pow(2, i / 10.0)).ToArray();
        var theory = plot.Add.Scatter(parts.Select(Math.Log2).ToArray(),
            parts.Select(p => 1 / HetConvPattern.FlopsFraction(p, kernel)).ToArray());
        theory.LegendText = "FLOPs ratio (paper, Figure 5)";
        theory.MarkerSize = 0;
        theory.LineWidth = 2;

        // The x axis is P up to 64; per-channel rows of wider layers (P = M > 64) have no place on it, and a P = 64 row
        // asked for twice (as 64 and as C on a 64-channel layer) counts once.
        var plotted = rows.Where(r => r.Part <= 64).DistinctBy(r => (r.Shape, r.Part, r.Mode, r.Batch));
        foreach (var series in plotted.GroupBy(r => (r.Mode, r.Batch)))
        {
            var points = series.GroupBy(r => r.Part).OrderBy(g => g.Key)
                .Select(g => (part: g.Key, speedup: g.Sum(r => r.StandardMs) / g.Sum(r => r.HetConvMs))).ToArray();
            var line = plot.Add.Scatter(points.Select(p => Math.Log2(p.part)).ToArray(), points.Select(p => p.speedup).ToArray());
            line.LegendText = $"measured, {series.Key.Mode.ToString().ToLowerInvariant()}, batch {series.Key.Batch}";
        }

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int p in new[] { 1, 2, 4, 8, 16, 32, 64 }) ticks.AddMajor(Math.Log2(p), p.ToString());
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Title(title);
        plot.XLabel("part P");
        plot.YLabel("speedup over the standard convolution");
        plot.ShowLegend(Alignment.UpperLeft);
        byte[] png = plot.GetImageBytes(900, 550, ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(png));
    }
}
